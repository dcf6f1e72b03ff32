"""The manifold view of regularised autoencoders, measured: a denoising autoencoder's
reconstruction points along the score of the data density.

Alain & Bengio, *What regularized auto-encoders learn from the data-generating
distribution*, JMLR 15 (2014), Thm 1: trained with Gaussian corruption of variance σ², the
optimal reconstruction satisfies r(x) − x = σ² ∂log p(x)/∂x + o(σ²), so (r(x) − x)/σ²
estimates the score; Goodfellow et al. (2016) §14.5.1. The exact score of a Gaussian
mixture (a mixture stays a mixture when noised: covariances grow by σ²I) gives the truth
to compare with. Sampling: the generalised denoising autoencoder's Markov chain (Bengio,
Yao, Alain & Vincent, NIPS 2013): corrupt, then draw from the reconstruction distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from aelab.core.validation import as_float_array, check_number
from aelab.nn.layers import evaluating


def score_field(model, points, scale: float) -> np.ndarray:
    """(r(x) − x) / scale at ``points``: the score estimate of a trained autoencoder.

    Parameters
    ----------
    model : Autoencoder
        A trained model; ``r`` is its deterministic reconstruction (no corruption).
    points : array-like of shape (n, d)
    scale : float
        σ² of a denoising autoencoder's Gaussian corruption (in the model's input units;
        train with ``preprocess="none"`` so that they are the data's); the penalty weight
        λ for a contractive one.

    Returns
    -------
    ndarray of shape (n, d), float64
    """
    scale = check_number(scale, "scale", "score_field", low=0.0, low_inclusive=False)
    x = np.asarray(as_float_array(points, name="points"), dtype=np.float64)
    return (np.asarray(model.reconstruct(x.astype(np.float32)), dtype=np.float64) - x) / scale


@dataclass(frozen=True)
class GaussianMixture:
    """A Gaussian mixture with exact density, score and samples.

    Attributes
    ----------
    means : ndarray of shape (k, d)
    covariances : ndarray of shape (k, d, d)
    weights : ndarray of shape (k,), summing to 1
    """

    means: np.ndarray
    covariances: np.ndarray
    weights: np.ndarray

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def noised(self, sigma: float) -> GaussianMixture:
        """The density of x + ε, ε ~ N(0, σ²I): every covariance grows by σ²I."""
        return GaussianMixture(self.means, self.covariances + sigma**2 * np.eye(self.dim),
                               self.weights)

    def _component_log_densities(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log w_k N_k(x) of shape (n, k) and Σ_k⁻¹(x − μ_k) of shape (n, k, d)."""
        inv = np.linalg.inv(self.covariances)  # (k, d, d)
        diff = x[:, None, :] - self.means[None]  # (n, k, d)
        solved = np.einsum("kij,nkj->nki", inv, diff)
        maha = np.einsum("nki,nki->nk", diff, solved)
        _, logdet = np.linalg.slogdet(self.covariances)
        log = np.log(self.weights) - 0.5 * (maha + logdet + self.dim * math.log(2 * math.pi))
        return log, solved

    def log_prob(self, x) -> np.ndarray:
        """log p(x), shape (n,)."""
        log, _ = self._component_log_densities(np.asarray(x, dtype=np.float64))
        top = log.max(1, keepdims=True)
        return (top + np.log(np.exp(log - top).sum(1, keepdims=True)))[:, 0]

    def score(self, x) -> np.ndarray:
        """∇ₓ log p(x) = −Σ_k r_k(x) Σ_k⁻¹(x − μ_k), r_k the responsibilities; shape (n, d)."""
        log, solved = self._component_log_densities(np.asarray(x, dtype=np.float64))
        resp = np.exp(log - log.max(1, keepdims=True))
        resp /= resp.sum(1, keepdims=True)
        return -np.einsum("nk,nki->ni", resp, solved)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` draws, float64 (n, d)."""
        rng = np.random.default_rng(seed)
        comp = rng.choice(len(self.weights), size=n, p=self.weights)
        noise = rng.standard_normal((n, self.dim))
        chol = np.linalg.cholesky(self.covariances)
        return self.means[comp] + np.einsum("nij,nj->ni", chol[comp], noise)


def ring_mixture(n_components: int = 4, radius: float = 1.0, std: float = 0.25) -> GaussianMixture:
    """Equal isotropic Gaussians on a circle in 2-D."""
    angles = 2 * math.pi * np.arange(n_components) / n_components
    means = radius * np.stack([np.cos(angles), np.sin(angles)], 1)
    return GaussianMixture(means, np.tile(std**2 * np.eye(2), (n_components, 1, 1)),
                           np.full(n_components, 1.0 / n_components))


def spiral_mixture(n_components: int = 40, turns: float = 1.5, std: float = 0.08) -> GaussianMixture:
    """A 2-D spiral, r growing linearly with the angle, built as a mixture of small Gaussians
    spaced evenly along the curve (so that its density and score are exact)."""
    t = np.linspace(0.25, 1.0, n_components)
    angle = 2 * math.pi * turns * t
    means = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) * 1.5
    return GaussianMixture(means, np.tile(std**2 * np.eye(2), (n_components, 1, 1)),
                           np.full(n_components, 1.0 / n_components))


@dataclass(frozen=True)
class ScoreComparison:
    """How well an estimated score field matches the exact one, weighted by the density.

    Attributes
    ----------
    cosine : float
        Mean cosine similarity between estimated and exact score vectors at points drawn
        from the (noised) density: the density-weighted cosine, in [-1, 1].
    relative_error : float
        E‖estimate − exact‖ / E‖exact‖ over the same points.
    """

    cosine: float
    relative_error: float


def compare_scores(estimate: np.ndarray, exact: np.ndarray) -> ScoreComparison:
    """Compare two score fields evaluated at the same points (drawn from the density)."""
    estimate, exact = np.asarray(estimate, np.float64), np.asarray(exact, np.float64)
    norms = np.linalg.norm(estimate, axis=1) * np.linalg.norm(exact, axis=1)
    cos = np.sum(estimate * exact, 1) / np.where(norms > 0, norms, 1.0)
    err = np.linalg.norm(estimate - exact, axis=1).mean() / np.linalg.norm(exact, axis=1).mean()
    return ScoreComparison(float(cos.mean()), float(err))


def dae_chain(model, start, sigma: float, steps: int, noise_std: float, seed: int = 0) -> np.ndarray:
    """Samples of the generalised denoising autoencoder's Markov chain.

    Each step corrupts x̃ = x + σε and draws x ~ N(r(x̃), s²I), the reconstruction
    distribution with the shared variance s² = ``noise_std``² fitted on training pairs
    (:func:`reconstruction_noise`). Returns the chains' states after ``steps`` steps,
    shape (n, d).
    """
    check_number(steps, "steps", "dae_chain", kind=int, low=1)
    rng = np.random.default_rng(seed)
    x = np.asarray(start, dtype=np.float64)
    for _ in range(steps):
        corrupted = x + sigma * rng.standard_normal(x.shape)
        x = model.reconstruct(corrupted.astype(np.float32)).astype(np.float64)
        x = x + noise_std * rng.standard_normal(x.shape)
    return x


def reconstruction_noise(model, X, sigma: float, seed: int = 0) -> float:
    """The maximum-likelihood shared standard deviation of x − r(x + σε) on data ``X``."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float64)
    corrupted = X + sigma * rng.standard_normal(X.shape)
    residual = X - model.reconstruct(corrupted.astype(np.float32))
    return float(np.sqrt(np.mean(residual**2)))


@dataclass(frozen=True)
class Tangents:
    """The encoder's local linearisation at some points.

    Attributes
    ----------
    vectors : ndarray of shape (n, k, d)
        The top-k right singular vectors of the encoder Jacobian ∂h/∂x at each point: the
        input directions the code is most sensitive to (Rifai et al. 2011's tangents).
    singular_values : ndarray of shape (n, min(latent_dim, d))
        The Jacobian's spectrum at each point, largest first.
    """

    vectors: np.ndarray
    singular_values: np.ndarray


def tangents(model, x, k: int, batch_size: int = 64) -> Tangents:
    """Tangent directions of the learned manifold at ``x`` (Goodfellow et al. §14.6–14.7).

    The encoder Jacobian (code with respect to the raw input, input scaling included) is
    computed exactly by reverse-mode autodiff, one point at a time, batched with ``vmap``.
    """
    k = check_number(k, "k", "tangents", kind=int, low=1)
    points = model.as_input(x, what="tangents")
    path = model.encoder_path()
    d = math.prod(points.shape[1:])

    def code(one):  # one example (*input_shape,) -> its code (latent_dim,)
        return path(one.unsqueeze(0))[0]

    vectors, spectra = [], []
    with evaluating(model):
        for i in range(0, points.shape[0], batch_size):
            batch = points[i : i + batch_size].to(model.device)
            with torch.enable_grad():
                jac = torch.vmap(torch.func.jacrev(code))(batch).reshape(batch.shape[0], -1, d)
            _, s, vh = torch.linalg.svd(jac.double(), full_matrices=False)
            vectors.append(vh[:, :k].cpu().numpy())
            spectra.append(s.cpu().numpy())
    return Tangents(np.concatenate(vectors), np.concatenate(spectra))


def local_pca(X_reference, points, k: int, neighbors: int = 50) -> np.ndarray:
    """The top-k principal directions of each point's ``neighbors`` nearest reference rows
    (Euclidean), centred on their mean: the local tangent plane of the data, (n, k, d)."""
    ref = np.asarray(X_reference, dtype=np.float64).reshape(len(X_reference), -1)
    pts = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    idx = NearestNeighbors(n_neighbors=neighbors).fit(ref).kneighbors(pts, return_distance=False)
    out = []
    for rows in idx:
        local = ref[rows] - ref[rows].mean(0)
        out.append(np.linalg.svd(local, full_matrices=False)[2][:k])
    return np.stack(out)
