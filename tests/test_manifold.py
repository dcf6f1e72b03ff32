"""The manifold view: a denoising autoencoder estimates the score of the (noised) density."""

import numpy as np
import pytest
import torch

import aelab
from aelab.applications.evaluation import principal_angles
from aelab.applications.manifold import (
    GaussianMixture,
    compare_scores,
    local_pca,
    ring_mixture,
    score_field,
    spiral_mixture,
    tangents,
)
from aelab.core.losses import mmd_gaussian


@pytest.mark.parametrize("density", [ring_mixture(), spiral_mixture(n_components=8)])
def test_exact_score_is_the_gradient_of_the_log_density(density):
    x = density.sample(50, seed=3)
    eps = 1e-6
    numeric = np.stack([(density.log_prob(x + eps * e) - density.log_prob(x - eps * e)) / (2 * eps)
                        for e in np.eye(2)], 1)
    np.testing.assert_allclose(density.score(x), numeric, rtol=1e-5, atol=1e-6)


def test_noising_a_mixture_widens_its_components():
    wide = ring_mixture(std=0.2).noised(0.1)
    np.testing.assert_allclose(wide.covariances[0], (0.04 + 0.01) * np.eye(2))
    samples = ring_mixture(std=0.2).sample(20_000, seed=0)
    noised = samples + 0.1 * np.random.default_rng(1).standard_normal(samples.shape)
    clean = ring_mixture(std=0.2)
    # noised data are likelier under the noised mixture, clean data under the clean one
    assert wide.log_prob(noised).mean() > clean.log_prob(noised).mean()
    assert clean.log_prob(samples).mean() > wide.log_prob(samples).mean()


def test_mixture_with_general_covariances():
    mix = GaussianMixture(np.array([[0.0, 0.0], [2.0, 1.0]]),
                          np.array([[[1.0, 0.5], [0.5, 2.0]], [[0.3, 0.0], [0.0, 0.1]]]),
                          np.array([0.3, 0.7]))
    x = mix.sample(40_000, seed=0)
    np.testing.assert_allclose(x.mean(0), 0.3 * mix.means[0] + 0.7 * mix.means[1], atol=0.03)
    assert abs(np.exp(mix.log_prob(np.zeros((1, 2))))[0] - 0.3 / (2 * np.pi * np.sqrt(1.75))) < 1e-3


def test_denoising_autoencoder_points_along_the_score():
    """Tweedie: the optimal r(x̃) = x̃ + σ² ∇log p_σ(x̃), so (r − x)/σ² is the noised score."""
    torch.manual_seed(0)
    density, sigma = ring_mixture(), 0.2
    X = density.sample(10_000, seed=0).astype(np.float32)
    dae = aelab.create("denoising", input_shape=2, corruption="gaussian", noise=sigma,
                       preprocess="none", hidden=(64, 64), activation="softplus", latent_dim=32,
                       seed=0)
    aelab.train(dae, X, epochs=40, batch_size=256, lr=2e-3, lr_schedule="cosine", device="cpu")
    points = density.noised(sigma).sample(2000, seed=1)
    fit = compare_scores(score_field(dae, points, sigma**2), density.noised(sigma).score(points))
    assert fit.cosine >= 0.9 and fit.relative_error < 0.5, fit
    untrained = aelab.create("denoising", input_shape=2, corruption="gaussian", noise=sigma,
                             preprocess="none", hidden=(64, 64), latent_dim=32, seed=1)
    blind = compare_scores(score_field(untrained, points, sigma**2), density.noised(sigma).score(points))
    assert blind.cosine < 0.5


def test_reconstruction_contractive_optimum_is_the_score_of_the_smoothed_density():
    """For N(0, s²I) the optimum of ‖r(x) − x‖² + λ‖∂r/∂x‖²_F is r(x) = s²/(s² + λ)·x, so
    (r(x) − x)/λ = −x/(s² + λ), the score of p_λ = N(0, (s² + λ)I): λ takes σ²'s place in
    Tweedie's formula. The clean score −x/s² is the λ → 0 limit only (here twice as long)."""
    s2 = lam = 0.25
    X = np.random.default_rng(0).normal(0.0, s2**0.5, (8000, 2)).astype(np.float32)
    model = aelab.create("rcae", input_shape=2, contraction_weight=lam, preprocess="none",
                         hidden=(32,), activation="softplus", latent_dim=8, seed=0)
    aelab.train(model, X, epochs=30, batch_size=128, lr=3e-3, lr_schedule="cosine", seed=0,
                device="cpu")
    points = np.random.default_rng(1).normal(0.0, (s2 + lam) ** 0.5, (1000, 2))
    estimate = score_field(model, points, lam)
    smoothed = compare_scores(estimate, -points / (s2 + lam))
    assert smoothed.cosine > 0.99 and smoothed.relative_error < 0.05, smoothed
    assert compare_scores(estimate, -points / s2).relative_error > 0.4


def test_compare_scores_and_mmd():
    a = np.random.default_rng(0).standard_normal((500, 2))
    same_direction = compare_scores(a, 3 * a)  # the estimate is a third of the truth
    assert same_direction.cosine == pytest.approx(1.0)
    assert same_direction.relative_error == pytest.approx(2 / 3)
    assert compare_scores(a, -a).cosine == pytest.approx(-1.0)
    b = np.random.default_rng(1).standard_normal((500, 2))
    ta, tb = torch.as_tensor(a), torch.as_tensor(b)
    assert abs(float(mmd_gaussian(ta, tb))) < 0.01 < float(mmd_gaussian(ta, tb + 1.0))
    with pytest.raises(ValueError, match="scale"):
        score_field(None, a, 0.0)


def test_tangents_are_the_jacobian_s_right_singular_vectors():
    """For a linear encoder h = W(x − shift)/scale the Jacobian is W / scale everywhere."""
    x = np.random.default_rng(0).standard_normal((30, 6)).astype(np.float32) * 3
    model = aelab.create("ae", input_shape=6, latent_dim=3, hidden=(), linear=True, seed=0)
    aelab.train(model, x, epochs=1)  # fits the standard scaling
    t = tangents(model, x[:4], k=2)
    weight = model.encoder.affine_maps()[0].weight.detach().double().numpy()
    jac = weight / model.scaler.scale.double().numpy()[None, :]
    _, s, vh = np.linalg.svd(jac)
    np.testing.assert_allclose(t.singular_values, np.tile(s, (4, 1)), rtol=1e-6)
    for v in t.vectors:  # the same subspace (signs are arbitrary)
        np.testing.assert_allclose(np.abs(v @ vh[:2].T), np.eye(2), atol=1e-5)


def test_local_pca_finds_the_plane():
    rng = np.random.default_rng(0)
    plane = np.linalg.qr(rng.standard_normal((5, 2)))[0]  # (5, 2)
    data = rng.standard_normal((400, 2)) @ plane.T + 1e-3 * rng.standard_normal((400, 5))
    directions = local_pca(data, data[:3], k=2, neighbors=30)
    for d in directions:
        assert principal_angles(d.T, plane).max() < 1.0
