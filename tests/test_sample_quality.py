"""Sample-quality metric: Fréchet distance, manifold precision/recall, the feature network."""

import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm

import aelab
from aelab.applications import sample_quality as sq_app
from aelab.applications.sample_quality import (
    SampleQuality,
    SampleQualityResult,
    feature_network,
    feature_network_metadata,
)
from aelab.core.sample_quality import (
    PrecisionRecall,
    frechet_distance,
    frechet_distance_from_statistics,
    gaussian_statistics,
    manifold_precision_recall,
)
from aelab.models import MODELS
from aelab.models.contract import Trainable
from aelab.models.conv_classifier import ConvClassifier

TINY = dict(input_shape=(1, 8, 8), channels=(4, 6), hidden=16)


@pytest.fixture(scope="module")
def gauss():
    return np.random.default_rng(0).normal(size=(400, 5))


# ---------------------------------------------------------------- Fréchet distance
def test_frechet_distance_of_a_set_to_itself_is_zero(gauss):
    assert frechet_distance(gauss, gauss) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_grows_with_the_shift(gauss):
    shifts = [0.1, 0.5, 1.0, 2.0]
    values = [frechet_distance(gauss, gauss + s) for s in shifts]
    assert all(a < b for a, b in zip(values, values[1:]))
    # a pure shift only moves the mean: d² = ‖shift‖² = d·s²
    assert values == pytest.approx([gauss.shape[1] * s**2 for s in shifts], rel=1e-9)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([0.5, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    got = frechet_distance_from_statistics(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-12)
    # and from samples of those Gaussians, to sampling error
    rng = np.random.default_rng(1)
    a = mu1 + np.sqrt(v1) * rng.normal(size=(200_000, 3))
    b = mu2 + np.sqrt(v2) * rng.normal(size=(200_000, 3))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_frechet_distance_matches_scipy_sqrtm_on_full_covariances():
    rng = np.random.default_rng(2)
    d = 6
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1, s2 = a @ a.T + 0.1 * np.eye(d), b @ b.T  # s2 is rank-deficient-ish but PSD
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    ref = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * sqrtm(s1 @ s2).real)
    assert frechet_distance_from_statistics(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-8)


def test_frechet_distance_handles_singular_covariances():
    # fewer samples than dimensions: singular covariances, still finite and >= 0
    x = np.random.default_rng(3).normal(size=(5, 20))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert np.isfinite(frechet_distance(x, x * 2.0)) and frechet_distance(x, x * 2.0) > 0


def test_gaussian_statistics_shapes(gauss):
    mu, sigma = gaussian_statistics(gauss)
    assert mu.shape == (5,) and sigma.shape == (5, 5)
    np.testing.assert_allclose(sigma, np.cov(gauss, rowvar=False))


# ---------------------------------------------------------------- precision / recall
def test_precision_recall_is_one_for_identical_sets(gauss):
    assert manifold_precision_recall(gauss, gauss) == PrecisionRecall(1.0, 1.0)


def test_precision_recall_drop_for_shifted_and_disjoint_sets(gauss):
    near = manifold_precision_recall(gauss, gauss + 0.5)
    far = manifold_precision_recall(gauss, gauss + 3.0)
    assert 0.0 < far.precision < near.precision < 1.0
    assert 0.0 < far.recall < near.recall < 1.0
    assert manifold_precision_recall(gauss, gauss + 100.0) == PrecisionRecall(0.0, 0.0)


def test_precision_recall_separate_fidelity_from_coverage(gauss):
    # fakes collapsed on one part of the real set: high precision, low recall
    collapsed = gauss[gauss[:, 0] > 1.0]
    pr = manifold_precision_recall(gauss, collapsed)
    assert pr.precision > 0.9 and pr.recall < 0.5


def test_precision_recall_do_not_depend_on_the_batch_size(gauss):
    fake = np.random.default_rng(4).normal(size=(300, 5)) * 1.3
    whole = manifold_precision_recall(gauss, fake, batch_size=10_000)
    assert manifold_precision_recall(gauss, fake, batch_size=7) == whole


def test_precision_recall_match_a_brute_force_count():
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(60, 3)), rng.normal(size=(50, 3)) + 0.7
    k = 3

    def radii(x):
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)
        return np.sort(d, axis=1)[:, k]

    def inside(p, c, r):
        return (np.linalg.norm(p[:, None] - c[None], axis=-1) <= r[None]).any(1).mean()

    pr = manifold_precision_recall(real, fake, k=k, batch_size=16)
    assert pr.precision == pytest.approx(inside(fake, real, radii(real)))
    assert pr.recall == pytest.approx(inside(real, fake, radii(fake)))


@pytest.mark.parametrize("call, match", [
    (lambda x: frechet_distance(x, x[:, :3]), "same width"),
    (lambda x: frechet_distance(x[0], x), "2-D array"),
    (lambda x: frechet_distance(x[:1], x), "at least 2 samples"),
    (lambda x: frechet_distance(np.where(x > 2, np.nan, x), x), "NaN"),
    (lambda x: manifold_precision_recall(x, x, k=0), "'k' parameter"),
    (lambda x: manifold_precision_recall(x, x[:3]), "at least 4 samples"),
    (lambda x: manifold_precision_recall(x, x, batch_size=0), "'batch_size'"),
    (lambda x: frechet_distance_from_statistics(x[0], np.eye(5), x[0, :4], np.eye(4)), "same d"),
])
def test_bad_inputs_raise_clear_errors(gauss, call, match):
    with pytest.raises(ValueError, match=match):
        call(gauss)


def test_non_numeric_features_raise_a_type_error():
    with pytest.raises(TypeError, match="real numbers"):
        frechet_distance(np.array([["a", "b"], ["c", "d"]]), np.zeros((2, 2)))


# ---------------------------------------------------------------- the feature network
def test_conv_classifier_is_a_saved_kind_not_an_autoencoder():
    assert "conv_classifier" not in MODELS
    assert isinstance(ConvClassifier(**TINY), Trainable)


def test_conv_classifier_shapes_for_images_and_flat_rows():
    net = ConvClassifier(input_shape=(1, 28, 28), n_classes=10, channels=(32, 64), hidden=128,
                         dropout=0.1)
    x = torch.rand(3, 1, 28, 28)
    maps = net.feature_maps(x)
    assert [tuple(m.shape) for m in maps] == [(3, 32, 14, 14), (3, 64, 7, 7), (3, 128)]
    torch.testing.assert_close(net.features(x.reshape(3, 784)), maps[-1])
    assert net.predict_proba(x.numpy()).shape == (3, 10)
    assert net.predict(x.reshape(3, 784).numpy()).shape == (3,)
    np.testing.assert_allclose(net.predict_proba(x.numpy()).sum(1), 1.0, rtol=1e-5)


def test_conv_classifier_features_are_differentiable_in_the_input():
    net = ConvClassifier(**TINY)
    x = torch.rand(2, 64, requires_grad=True)
    net.features(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(input_shape=(1, 2, 2), channels=(4, 4)), ValueError, "height and width >= 4"),
    (dict(input_shape=(64,)), ValueError, "channels, height, width"),
    (dict(channels=()), ValueError, "must not be empty"),
    (dict(hidden=0), ValueError, "'hidden'"),
    (dict(dropout=1.0), ValueError, "'dropout'"),
    (dict(n_classes=1), ValueError, "'n_classes'"),
])
def test_conv_classifier_rejects_bad_configs(kwargs, error, match):
    with pytest.raises(error, match=match):
        ConvClassifier(**{**TINY, **kwargs})


def test_conv_classifier_rejects_wrong_input_shapes_and_labels():
    net = ConvClassifier(**TINY)
    with pytest.raises(ValueError, match="expects images of shape"):
        net.features(torch.rand(2, 63))
    with pytest.raises(ValueError, match="trained with labels"):
        net.loss_terms(torch.rand(2, 64))
    with pytest.raises(ValueError, match="class labels"):
        net.loss_terms(torch.rand(2, 64), torch.tensor([0, 10]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        aelab.train(net, np.full((8, 64), 2.0, np.float32), np.zeros(8, np.int64), epochs=1)


def test_conv_classifier_trains_on_digits(digits):
    net = ConvClassifier(**TINY)
    before = net.score(digits.X_test, digits.y_test)
    result = aelab.train(net, digits.X_train, digits.y_train, epochs=8, batch_size=64, lr=3e-3, seed=0)
    assert result.history["train/ce"][-1] < result.history["train/ce"][0]
    assert net.score(digits.X_test, digits.y_test) > max(0.8, before + 0.5)


def test_conv_classifier_save_load_gives_identical_outputs(tmp_path, digits):
    torch.manual_seed(0)
    net = ConvClassifier(**TINY, dropout=0.3)
    aelab.train(net, digits.X_train[:200], digits.y_train[:200], epochs=1, seed=0)
    net.save(tmp_path / "net")
    for loaded in (ConvClassifier.load(tmp_path / "net"), aelab.load(tmp_path / "net")):
        assert isinstance(loaded, ConvClassifier)
        assert loaded.get_config() == net.get_config()
        np.testing.assert_array_equal(loaded.transform(digits.X_test), net.transform(digits.X_test))
        np.testing.assert_array_equal(loaded.predict_proba(digits.X_test),
                                      net.predict_proba(digits.X_test))


# ---------------------------------------------------------------- cache and evaluator
FAST = dict(epochs=2, channels=(8,), hidden=32, batch_size=64, lr=1e-2)


def test_feature_network_is_trained_once_then_loaded(tmp_path, digits, monkeypatch):
    net = feature_network(digits, tmp_path, seed=0, **FAST)
    (folder,) = [p for p in tmp_path.iterdir()]
    assert folder.name.startswith("conv_classifier-digits-seed0-e2")
    meta = feature_network_metadata(folder)
    assert meta["epochs"] == 2 and meta["test_accuracy"] == net.score(digits.X_test, digits.y_test)
    assert meta["test_accuracy"] > 0.7

    def no_training(*args, **kwargs):
        raise AssertionError("the cached network must be loaded, not trained again")

    monkeypatch.setattr(sq_app, "train", no_training)
    again = feature_network(digits, tmp_path, seed=0, **FAST)
    np.testing.assert_array_equal(again.transform(digits.X_test), net.transform(digits.X_test))
    # a different schedule is a different network, trained anew
    with pytest.raises(AssertionError, match="loaded, not trained"):
        feature_network(digits, tmp_path, seed=1, **FAST)


def test_feature_network_rebuilds_deterministically(tmp_path, digits):
    a = feature_network(digits, tmp_path / "a", seed=0, **FAST)
    b = feature_network(digits, tmp_path / "b", seed=0, **FAST)
    np.testing.assert_array_equal(a.transform(digits.X_test), b.transform(digits.X_test))


def test_feature_network_needs_a_labelled_image_dataset(tmp_path, digits):
    with pytest.raises(TypeError, match="labelled image Dataset"):
        feature_network(digits.X_train, tmp_path)


def test_sample_quality_scores_real_better_than_noise(digits):
    torch.manual_seed(0)
    net = ConvClassifier(**TINY)
    aelab.train(net, digits.X_train, digits.y_train, epochs=4, batch_size=64, lr=3e-3, seed=0)
    quality = SampleQuality(net, digits.X_test)
    same = quality.score(digits.X_test, labels=digits.y_test)
    assert isinstance(same, SampleQualityResult)
    assert same.frechet_distance == pytest.approx(0.0, abs=1e-8)
    assert (same.precision, same.recall) == (1.0, 1.0)
    assert same.accuracy == net.score(digits.X_test, digits.y_test)
    assert (same.n_samples, same.n_reference) == (360, 360)
    rng = np.random.default_rng(0)
    real = quality.score(digits.X_train[:360])
    noisy = quality.score(np.clip(digits.X_train[:360] + rng.normal(0, 0.3, (360, 64)), 0, 1))
    noise = quality.score(rng.random((360, 64)))
    assert real.frechet_distance < noisy.frechet_distance < noise.frechet_distance
    assert noise.precision < real.precision and real.accuracy is None
    assert set(real.as_dict()) == {"frechet_distance", "precision", "recall", "accuracy",
                                   "n_samples", "n_reference"}


def test_sample_quality_rejects_bad_inputs(digits):
    net = ConvClassifier(**TINY)
    with pytest.raises(TypeError, match="must be a ConvClassifier"):
        SampleQuality(object(), digits.X_test)
    quality = SampleQuality(net, digits.X_test)
    with pytest.raises(ValueError, match="one integer class per sample"):
        quality.score(digits.X_test[:10], labels=np.zeros(9, np.int64))
    with pytest.raises(ValueError, match="NaN"):
        quality.score(np.full((10, 64), np.nan))
    with pytest.raises(ValueError, match="features per example"):
        quality.score(digits.X_test[:, :10])
