"""Clustering: DEC's math (soft assignment, target, KL and its gradient), the DEC/IDEC
self-training recipe, N2D, the scikit-learn clusterer and `aelab cluster`."""

import json

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import aelab
from aelab.applications import clustering as C
from aelab.cli import main
from aelab.core.clustering import (
    cluster_accuracy,
    clustering_kl,
    student_t_assignment,
    target_distribution,
)
from aelab.core.optional import available
from aelab.sklearn import EXPECTED_FAILED_CHECKS, AutoencoderClusterer

TINY = {"hidden": (16,), "latent_dim": 2, "pretrain_epochs": 20, "batch_size": 64,
        "update_interval": 5, "max_iter": 50, "random_state": 0}


def blobs(n=300, k=3, d=12, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, (k, d))
    y = rng.integers(0, k, n)
    return (centers[y] + rng.normal(0, 0.5, (n, d))).astype(np.float32), y


# ---------------------------------------------------------------- the math
def test_soft_assignment_is_the_student_t_kernel_normalised():
    gen = torch.Generator().manual_seed(0)
    z, mu = torch.randn(7, 3, generator=gen), torch.randn(4, 3, generator=gen)
    for alpha in (1.0, 2.5):
        q = student_t_assignment(z, mu, alpha)
        kernel = (1 + ((z[:, None] - mu[None]) ** 2).sum(-1) / alpha) ** (-(alpha + 1) / 2)
        torch.testing.assert_close(q, kernel / kernel.sum(1, keepdim=True))
        torch.testing.assert_close(q.sum(1), torch.ones(7))
    far = student_t_assignment(torch.full((1, 3), 1e6), mu)  # no underflow to a row of zeros
    assert torch.isfinite(far).all() and abs(float(far.sum()) - 1) < 1e-5


def test_target_is_sharper_than_q_and_rows_sum_to_one():
    q = torch.softmax(torch.randn(50, 5, generator=torch.Generator().manual_seed(1)), 1)
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(1), torch.ones(50))
    entropy = lambda a: -(a * a.log()).sum(1)  # noqa: E731
    assert (entropy(p) < entropy(q)).all()
    assert (p.argmax(1) == q.argmax(1)).float().mean() > 0.9  # sharpened, not reshuffled
    assert (p.max(1).values >= q.max(1).values - 1e-6).float().mean() > 0.9


def test_kl_is_nonnegative_and_zero_at_equality():
    q = torch.softmax(torch.randn(20, 4, generator=torch.Generator().manual_seed(2)), 1)
    p = target_distribution(q)
    assert (clustering_kl(p, q) > 0).all()
    torch.testing.assert_close(clustering_kl(q, q), torch.zeros(20), atol=1e-6, rtol=0)
    onehot = torch.eye(4)[[0, 1, 2, 3]]
    assert torch.isfinite(clustering_kl(onehot, q[:4])).all()  # p = 0 terms contribute 0


def test_clustering_loss_gradient_matches_the_papers_formula():
    """DEC eq. 4–5: ∂L/∂z_i = (α+1)/α Σ_j (1+‖z_i−μ_j‖²/α)⁻¹ (p_ij − q_ij)(z_i − μ_j), and
    ∂L/∂μ_j = −(α+1)/α Σ_i (same), with P held fixed."""
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(6, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    mu = torch.randn(3, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    alpha = 1.7
    q = student_t_assignment(z, mu, alpha)
    p = target_distribution(q).detach()
    clustering_kl(p, q).sum().backward()
    diff = z.detach()[:, None] - mu.detach()[None]  # (n, k, d)
    inv = 1 / (1 + (diff ** 2).sum(-1) / alpha)
    coef = ((alpha + 1) / alpha * inv * (p - q.detach()))[..., None] * diff
    torch.testing.assert_close(z.grad, coef.sum(1))
    torch.testing.assert_close(mu.grad, -coef.sum(0))


def test_cluster_accuracy_finds_the_best_map():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert cluster_accuracy(y, np.array([2, 2, 0, 0, 1, 1])) == 1.0
    assert cluster_accuracy(y, np.array([0, 0, 0, 1, 1, 1])) == pytest.approx(4 / 6)
    assert cluster_accuracy(y, np.zeros(6, int)) == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="same length"):
        cluster_accuracy(y, y[:3])


# ---------------------------------------------------------------- DEC / IDEC / N2D recipes
@pytest.fixture(scope="module")
def pretrained():
    X, y = blobs()
    ae = aelab.create("ae", seed=0, input_shape=12, latent_dim=2, hidden=(16,))
    aelab.train(ae, X, epochs=30, batch_size=64, lr=3e-3, seed=0)
    return ae, X, y


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_dec_self_training(pretrained, weight):
    ae, X, y = pretrained
    model = C.dec_from_autoencoder(ae, 3, reconstruction_weight=weight, seed=0)
    np.testing.assert_array_equal(model.encode(X), ae.encode(X))  # the weights were copied
    start = C.kmeans_codes(ae.encode(X), 3, seed=0)
    model.set_centroids(start.cluster_centers_)
    decoder_before = [p.detach().clone() for p in model.decoder.parameters()]
    confidence_before = model.soft_assign(X).max(1).mean()
    result = C.fit_dec(model, X, update_interval=10, tol=0.0, max_iter=200, batch_size=64, seed=0)
    assert C.clustering_scores(y, result.labels)["acc"] > 0.95
    assert result.iterations > 0 and result.history["train/clustering"]
    np.testing.assert_array_equal(result.labels, model.predict_clusters(X))
    changed = any(not torch.equal(a, b) for a, b in zip(decoder_before, model.decoder.parameters()))
    assert changed == (weight > 0)  # DEC leaves the decoder alone; IDEC keeps training it
    assert ("train/recon" in result.history) == (weight > 0)
    # Self-training sharpened the assignments: the codes moved toward their centroids.
    assert model.soft_assign(X).max(1).mean() > confidence_before + 0.01


def test_dec_stops_when_assignments_settle(pretrained):
    ae, X, _ = pretrained
    model = C.dec_from_autoencoder(ae, 3, seed=0)
    model.set_centroids(C.kmeans_codes(ae.encode(X), 3, seed=0).cluster_centers_)
    result = C.fit_dec(model, X, update_interval=5, tol=0.05, max_iter=5000, batch_size=64)
    assert result.converged and result.label_changes[-1] < 0.05
    assert result.iterations < 5000


def test_dec_rejects_an_autoencoder_of_another_shape():
    vae = aelab.create("vae", seed=0, input_shape=12, latent_dim=2, hidden=(8,))
    with pytest.raises(ValueError, match="cannot seed DEC"):
        C.dec_from_autoencoder(vae, 3)


def test_idec_weight_reproduces_the_papers_balance():
    # L_r/d + γ L_c ∝ recon + γ d L_c: reconstruction_weight = 1/(γ d).
    assert C.idec_reconstruction_weight(0.1, 784) == pytest.approx(1 / 78.4)
    with pytest.raises(ValueError, match="gamma"):
        C.idec_reconstruction_weight(0.0, 784)


@pytest.mark.skipif(not available("umap"), reason="umap-learn not installed (aelab[cluster])")
def test_n2d_clusters_blobs_and_places_training_codes_exactly(pretrained):
    ae, X, y = pretrained
    codes = ae.encode(X)
    mc = C.ManifoldClustering(3, seed=0).fit(codes)
    proba = mc.predict_proba(codes)
    assert C.clustering_scores(y, proba.argmax(1))["acc"] > 0.95
    np.testing.assert_array_equal(mc.embed(codes), mc.arrays()["embedding"])
    again = C.ManifoldClustering(3).set_arrays(mc.arrays())
    np.testing.assert_allclose(again.predict_proba(codes[:5] + 0.01), mc.predict_proba(codes[:5] + 0.01))


# ---------------------------------------------------------------- the estimator
@parametrize_with_checks(
    [AutoencoderClusterer(method="kmeans", **TINY), AutoencoderClusterer(method="idec", **TINY)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


METHODS = ["kmeans", "dec", "idec"] + (["n2d"] if available("umap") else [])


@pytest.mark.parametrize("method", METHODS)
def test_clusterer_fits_saves_and_loads(method, tmp_path):
    X, y = blobs()
    est = AutoencoderClusterer(method=method, n_clusters=3, **TINY).fit(X)
    assert est.cluster_centers_.shape == (3, 2)
    assert C.clustering_scores(y, est.labels_)["acc"] > 0.9
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    assert est.transform(X).shape == (300, 2)
    est.save(tmp_path / "c")
    back = aelab.sklearn.load(tmp_path / "c")
    np.testing.assert_array_equal(back.predict_proba(X), proba)
    np.testing.assert_array_equal(back.labels_, est.labels_)
    np.testing.assert_array_equal(back.cluster_centers_, est.cluster_centers_)


def test_clusterer_bad_input():
    X, _ = blobs(n=20)
    with pytest.raises(ValueError, match="n_clusters=30 is more than the 20 examples"):
        AutoencoderClusterer(n_clusters=30, **TINY).fit(X)
    with pytest.raises(ValueError, match="method"):
        AutoencoderClusterer(method="spectral", **TINY).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        AutoencoderClusterer(n_clusters=2, **TINY).fit(np.where(X > 3, np.nan, X))


@pytest.mark.skipif(available("umap"), reason="checks the message shown without umap-learn")
def test_n2d_without_umap_names_the_extra():
    X, _ = blobs(n=40)
    with pytest.raises(ImportError, match=r"aelab\[cluster\]"):
        AutoencoderClusterer(method="n2d", n_clusters=3, **TINY).fit(X)


def test_cli_cluster(tmp_path, capsys):
    X, y = blobs(n=120)
    np.savez(tmp_path / "blobs.npz", X=X, y=y)
    out = tmp_path / "run"
    rc = main(["cluster", "--data", str(tmp_path / "blobs.npz"), "--k", "3", "--method", "dec",
               "--hidden", "16", "--latent-dim", "2", "--epochs", "200", "--scaling", "standard",
               "--out", str(out)])
    assert rc == 0
    labels = (out / "labels.csv").read_text().split()[1:]
    assert len(labels) == 120
    scores = json.loads((out / "scores.json").read_text())
    assert scores["acc"] > 0.9
    assert aelab.sklearn.load(out).n_clusters == 3
    assert main(["cluster", "--data", str(tmp_path / "blobs.npz"), "--k", "500",
                 "--hidden", "16", "--out", str(tmp_path / "bad")]) == 2
    assert "n_clusters=500 is more than" in capsys.readouterr().err
