"""The semi-supervised VAE (Kingma et al. 2014, M2): its bound, its terms, its classifier."""

import math

import numpy as np
import pytest
import torch

import aelab
from aelab.applications.semi_supervised import oversampled_rows
from aelab.core.losses import categorical_kl_uniform, label_marginal_bound


def test_categorical_kl_uniform_range():
    K = 5
    assert float(categorical_kl_uniform(torch.zeros(1, K))) == pytest.approx(0.0, abs=1e-6)
    one_hot = torch.tensor([[50.0, 0, 0, 0, 0]])
    assert float(categorical_kl_uniform(one_hot)) == pytest.approx(math.log(K), abs=1e-5)
    kl = categorical_kl_uniform(torch.randn(100, K) * 3)
    assert (kl >= -1e-6).all() and (kl <= math.log(K) + 1e-6).all()


def test_label_marginal_bound_is_tight_at_the_posterior_and_loose_elsewhere():
    """U(x) >= -log (1/K) Σ_y exp(-L(x, y)) for any q(y|x), with equality at q ∝ exp(-L)."""
    torch.manual_seed(0)
    L = torch.rand(50, 4) * 10
    exact = -(torch.logsumexp(-L, dim=1) - math.log(4))
    torch.testing.assert_close(label_marginal_bound(L, -L), exact)
    for _ in range(5):
        assert (label_marginal_bound(L, torch.randn(50, 4) * 3) >= exact - 1e-5).all()


@pytest.fixture()
def model(tiny_data):
    x, _ = tiny_data
    m = aelab.create("ssvae", input_shape=12, n_classes=3, hidden=(16,), latent_dim=2, seed=0,
                     classification_weight=2.0)
    m.fit_preprocessing(lambda: iter([torch.from_numpy(x)]))
    return m.eval()


def test_unlabelled_terms_sum_to_the_marginal_bound(model, tiny_data):
    x = torch.from_numpy(tiny_data[0][:20])
    torch.manual_seed(1)
    terms = model.loss_terms(x, torch.full((20,), -1))
    torch.manual_seed(1)
    bound = model.feature_nll(x).sum(1).mean()
    assert float(terms["classification"]) == 0.0
    torch.testing.assert_close(terms["recon"] + terms["kl"] + terms["label_kl"], bound)


def test_labelled_terms_are_the_conditional_elbo_plus_log_k_and_the_weighted_cross_entropy(model, tiny_data):
    x = torch.from_numpy(tiny_data[0][:20])
    y = torch.from_numpy(tiny_data[1][:20])
    torch.manual_seed(2)
    terms = model.loss_terms(x, y)
    torch.manual_seed(2)
    nll, kl = model.elbo_terms(model.scaler(x), 1, y)
    torch.testing.assert_close(terms["recon"], nll.sum(1).mean())
    torch.testing.assert_close(terms["kl"], kl.mean())
    assert float(terms["label_kl"]) == pytest.approx(math.log(3))
    ce = torch.nn.functional.cross_entropy(model.logits(x), y)
    torch.testing.assert_close(terms["classification"], 2.0 * ce)


def test_a_mixed_batch_weighs_each_row_once(model, tiny_data):
    """The batch's terms are the row-weighted mix of its labelled and unlabelled parts."""
    x = torch.from_numpy(tiny_data[0][:20])
    y = torch.from_numpy(tiny_data[1][:20]).clone()
    y[:12] = -1
    parts = []
    for rows in (slice(0, 12), slice(12, 20)):
        torch.manual_seed(3)
        parts.append(model.loss_terms(x[rows], y[rows])["label_kl"])
    mixed = model.loss_terms(x, y)["label_kl"]  # label_kl draws nothing
    torch.testing.assert_close(mixed, (12 * parts[0] + 8 * parts[1]) / 20)


def test_importance_weighted_estimate_is_below_the_bound(model, tiny_data):
    x = torch.from_numpy(tiny_data[0][:30])
    torch.manual_seed(4)
    with torch.no_grad():
        bound = float(model.feature_nll(x, k=20).sum(1).mean())
        nll = float(-aelab.log_likelihood(model, x.numpy(), k=500).mean())
    assert nll <= bound + 0.05
    assert model.log_weights(model.scaler(x), 7).shape == (7, 30)
    assert model.log_weights(model.scaler(x), 7, torch.from_numpy(tiny_data[1][:30])).shape == (7, 30)


def _clusters(n_per: int, seed: int):
    """Three Gaussian clusters in 12-D (fixed centres); ``seed`` draws the points."""
    centres = np.random.default_rng(0).normal(size=(3, 12)) * 2.5
    rng = np.random.default_rng(seed)
    X = np.concatenate([c + rng.normal(size=(n_per, 12)) for c in centres]).astype(np.float32)
    return X, np.repeat(np.arange(3), n_per)


def test_learns_the_classes_from_one_label_each():
    X, y = _clusters(150, 0)
    y_partial = np.full_like(y, -1)
    y_partial[[0, 150, 300]] = [0, 1, 2]
    model = aelab.create("ssvae", input_shape=12, n_classes=3, hidden=(32,), latent_dim=2, seed=0)
    aelab.train_semi_supervised(model, X, y_partial, labelled_share=0.1, epochs=40, batch_size=64,
                                device="cpu", seed=0)
    X_test, y_test = _clusters(100, 1)
    assert model.score(X_test, y_test) > 0.95
    assert model.predict_proba(X_test[:5]).shape == (5, 3)
    np.testing.assert_allclose(model.predict_proba(X_test[:5]).sum(1), 1.0, rtol=1e-5)


def test_oversampled_rows_reach_the_share_and_keep_every_row():
    y = np.full(1000, -1)
    y[:10] = np.arange(10)
    rows = oversampled_rows(y, 0.2)
    assert np.array_equal(rows[:1000], np.arange(1000))
    share = np.mean(y[rows] >= 0)
    assert 0.2 <= share < 0.21
    assert np.array_equal(oversampled_rows(y, 0.0), np.arange(1000))
    assert np.array_equal(oversampled_rows(np.arange(5), 0.5), np.arange(5))  # all labelled
    with pytest.raises(ValueError, match="labelled_share"):
        oversampled_rows(y, 1.0)
    with pytest.raises(ValueError, match="integer labels"):
        oversampled_rows(y.astype(float), 0.1)


def test_bad_labels_name_the_convention(model, tiny_data):
    x = torch.from_numpy(tiny_data[0][:4])
    with pytest.raises(ValueError, match=r"-1 for an unlabelled one"):
        model.loss_terms(x, torch.tensor([0, 1, 3, -1]))
    with pytest.raises(ValueError, match=r"-1 for an unlabelled one"):
        model.loss_terms(x, torch.tensor([0.0, 1.0, 2.0, -1.0]))
    with pytest.raises(ValueError, match="n_classes"):
        aelab.create("ssvae", input_shape=12, n_classes=1)
    with pytest.raises(ValueError, match="one stochastic layer"):
        aelab.create("ssvae", input_shape=12, n_classes=3, objective="iwae")
