"""Classifier: an autoencoder's encoder + softmax head, fine-tuned by the one trainer."""

import numpy as np
import pytest
import torch

import aelab
from aelab.models import MODELS


@pytest.fixture(scope="module")
def trained_ae(digits):
    ae = aelab.create("ae", input_shape=64, latent_dim=16, hidden=(32,), seed=0)
    aelab.train(ae, digits.X_train, epochs=5, device="cpu")
    return ae


def test_not_an_autoencoder_in_the_registry():
    assert "classifier" not in MODELS


def test_from_autoencoder_copies_encoder_and_scaling(digits):
    x = digits.X_train * 16.0  # outside [0, 1]: standard scaling fitted by the autoencoder
    ae = aelab.create("ae", input_shape=64, latent_dim=8, hidden=(16,), seed=0)
    aelab.train(ae, x, epochs=2, device="cpu")
    clf = aelab.Classifier.from_autoencoder(ae, n_classes=10)
    assert clf.scaler.fitted_kind == "standard"
    t = torch.from_numpy(x[:20])
    with torch.no_grad():
        np.testing.assert_array_equal(clf.features(t).numpy(), ae.encode(x[:20]))
    # a copy: training the classifier leaves the autoencoder alone
    before = ae.encode(x[:20])
    aelab.train(clf, x, digits.y_train, epochs=1, device="cpu")
    np.testing.assert_array_equal(ae.encode(x[:20]), before)


def test_random_init_baseline_has_same_architecture(trained_ae):
    pre = aelab.Classifier.from_autoencoder(trained_ae, 10, seed=1)
    scratch = aelab.Classifier.from_autoencoder(trained_ae, 10, pretrained=False, seed=1)
    a, b = pre.state_dict(), scratch.state_dict()
    assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}
    assert not torch.equal(a["features.encoder.1.weight"], b["features.encoder.1.weight"])
    assert torch.equal(a["head.1.weight"], b["head.1.weight"])  # same seed, same head
    assert scratch.scaler.fitted_kind in (None, "none")  # not copied: fitted when trained


def test_fine_tuning_learns_digits(trained_ae, digits):
    clf = aelab.Classifier.from_autoencoder(trained_ae, 10, seed=0)
    chance = clf.score(digits.X_test, digits.y_test)
    result = aelab.train(clf, digits.X_train, digits.y_train, epochs=30, lr=3e-3, device="cpu",
                         validation_data=(digits.X_test, digits.y_test))
    assert set(k for k in result.history if k.startswith("train/")) == {"train/ce", "train/loss"}
    assert result.history["train/ce"][-1] < 0.3 * result.history["train/ce"][0]
    acc = clf.score(digits.X_test, digits.y_test)
    assert 0.0 <= chance < 0.4 and acc > 0.9
    proba = clf.predict_proba(digits.X_test)
    assert proba.shape == (360, 10)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(digits.X_test), proba.argmax(1))


def test_save_load_identical(trained_ae, digits, tmp_path):
    clf = aelab.Classifier.from_autoencoder(trained_ae, 10, dropout=0.2)
    aelab.train(clf, digits.X_train, digits.y_train, epochs=2, device="cpu")
    clf.save(tmp_path / "clf")
    loaded = aelab.Classifier.load(tmp_path / "clf")
    assert loaded.get_config() == clf.get_config()
    np.testing.assert_array_equal(loaded.predict_proba(digits.X_test), clf.predict_proba(digits.X_test))
    generic = aelab.load(tmp_path / "clf")  # the generic loader knows the saved kind too
    assert isinstance(generic, aelab.Classifier)
    np.testing.assert_array_equal(generic.predict_proba(digits.X_test), clf.predict_proba(digits.X_test))
    assert "classifier" not in aelab.list_models()  # not an autoencoder: create() does not offer it
    trained_ae.save(tmp_path / "ae")
    with pytest.raises(ValueError, match="holds a 'ae' model"):
        aelab.Classifier.load(tmp_path / "ae")


def test_checkpoint_resume(trained_ae, digits, tmp_path):
    def run(epochs, resume):
        clf = aelab.Classifier.from_autoencoder(trained_ae, 10, seed=0)
        return clf, aelab.train(clf, digits.X_train, digits.y_train, epochs=epochs, device="cpu",
                                checkpoint_dir=tmp_path / "ck", resume=resume)
    run(2, False)
    resumed, _ = run(4, True)
    straight = aelab.Classifier.from_autoencoder(trained_ae, 10, seed=0)
    aelab.train(straight, digits.X_train, digits.y_train, epochs=4, device="cpu")
    np.testing.assert_allclose(resumed.predict_proba(digits.X_test), straight.predict_proba(digits.X_test),
                               atol=1e-6)


def test_same_seed_same_loss(trained_ae, digits):
    runs = [aelab.train(aelab.Classifier.from_autoencoder(trained_ae, 10, pretrained=False, seed=3),
                        digits.X_train, digits.y_train, epochs=2, seed=4, device="cpu")
            for _ in range(2)]
    assert runs[0].history["train/ce"] == runs[1].history["train/ce"]


@pytest.mark.parametrize("name,config", [("denoising", {}), ("vae", {}), ("aae", {}),
                                         ("ae", {"backbone": "conv", "input_shape": (1, 8, 8),
                                                 "hidden": (4,)})])
def test_works_on_any_registered_encoder(digits, name, config):
    source = aelab.create(name, **{"input_shape": 64, "latent_dim": 8, "hidden": (16,), **config},
                          seed=0)
    aelab.train(source, digits.X_train[:100], epochs=1, device="cpu")
    clf = aelab.Classifier.from_autoencoder(source, 10)
    # Before fine-tuning the features are exactly the source's code (a VAE's posterior mean).
    with torch.no_grad():
        x = torch.from_numpy(digits.X_test[:5]).reshape(5, *source.input_shape)
        torch.testing.assert_close(clf.head[1](torch.from_numpy(source.encode(digits.X_test[:5]))),
                                   clf.logits(x))
    aelab.train(clf, digits.X_train[:100], digits.y_train[:100], epochs=1, device="cpu")
    assert clf.predict(digits.X_test).shape == (360,)


def test_hierarchical_vae_features_are_its_top_code(digits):
    """A VAE with several stochastic layers: the features are the top layer's posterior mean,
    the means propagated through the layers, exactly what ``encode`` returns."""
    vae = aelab.create("vae", input_shape=64, latent_dim=4, intermediate_dims=(8,),
                       latent_hidden=(6,), seed=0)
    aelab.train(vae, digits.X_train[:100], epochs=1, device="cpu")
    clf = aelab.Classifier.from_autoencoder(vae, 10)
    with torch.no_grad():
        features = clf.features(torch.from_numpy(digits.X_test[:5]))
    np.testing.assert_array_equal(features.numpy(), vae.encode(digits.X_test[:5]))
    assert any(k.startswith("features.up0.") for k in clf.state_dict())  # fine-tuned too


def test_bad_input(trained_ae, digits):
    clf = aelab.Classifier.from_autoencoder(trained_ae, 10)
    with pytest.raises(ValueError, match="labels"):
        aelab.train(clf, digits.X_train, epochs=1, device="cpu")
    with pytest.raises(ValueError, match=r"integers in \[0, 10\)"):
        aelab.train(clf, digits.X_train, digits.y_train + 1, epochs=1, device="cpu")
    with pytest.raises(ValueError, match="features per example"):
        clf.predict(np.zeros((3, 10)))
    with pytest.raises(TypeError, match="from_autoencoder"):
        aelab.Classifier(trained_ae, 10)
    with pytest.raises(ValueError, match="n_classes"):
        aelab.Classifier.from_autoencoder(trained_ae, 1)
