"""Measuring models: reconstruction beside PCA, and the likelihood of variational models.

Reconstruction metric (Hinton & Salakhutdinov 2006): squared error **summed over
features** in the data's own units, averaged over examples; per-feature mean squared
errors too. Likelihood: the k-sample importance-weighted estimate of log p(x)
(Burda et al. 2016), in nats per example.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from aelab.core.seeding import seeded
from aelab.core.validation import check_number
from aelab.nn.layers import evaluating


def squared_errors(x: np.ndarray, x_hat: np.ndarray) -> np.ndarray:
    """Per-example, per-feature squared error (n, d) in data space."""
    return np.square(x.reshape(len(x), -1) - x_hat.reshape(len(x), -1))


def pca_reconstruction(X_fit: np.ndarray, X_eval: np.ndarray, n_components: int,
                       seed: int = 0) -> np.ndarray:
    """Reconstruct ``X_eval`` from its projection on the top principal components of ``X_fit``."""
    flat_fit = X_fit.reshape(len(X_fit), -1)
    k = min(n_components, *flat_fit.shape)
    pca = PCA(n_components=k, random_state=seed).fit(flat_fit)
    flat = X_eval.reshape(len(X_eval), -1)
    return pca.inverse_transform(pca.transform(flat)).reshape(X_eval.shape)


def reconstruction_report(model, X_eval: np.ndarray, X_fit: np.ndarray | None = None,
                          y_eval=None) -> dict:
    """Test reconstruction error of ``model`` on ``X_eval`` and of PCA with as many components.

    PCA is fitted on ``X_fit`` (the training data); without it, on ``X_eval`` itself,
    which flatters PCA (the report says so under ``pca.fitted_on``). ``y_eval``: the
    labels a conditional model's decoder reads.
    """
    X_eval = np.asarray(X_eval, dtype=np.float32)
    err = squared_errors(X_eval, model.reconstruct(X_eval, y=y_eval))
    fit_on = "train" if X_fit is not None else "evaluation data (optimistic for PCA)"
    X_fit = X_eval if X_fit is None else np.asarray(X_fit, dtype=np.float32)
    pca_err = squared_errors(X_eval, pca_reconstruction(X_fit, X_eval, model.latent_dim))
    return {
        "n_examples": int(len(X_eval)),
        "code_size": int(model.latent_dim),
        "sq_error_per_example": float(err.sum(1).mean()),
        "mse_per_feature": err.mean(0).tolist(),
        "pca": {
            "n_components": int(model.latent_dim),
            "fitted_on": fit_on,
            "sq_error_per_example": float(pca_err.sum(1).mean()),
            "mse_per_feature": pca_err.mean(0).tolist(),
        },
    }


def log_likelihood(model, x, k: int = 5000, *, y=None, seed: int = 0,
                   max_rows: int = 8192) -> np.ndarray:
    """Importance-sampled estimate of log p(x) per example, in nats (data space).

    log p(x) ≈ log (1/k) Σ_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x): the k-sample IWAE
    bound, which rises towards log p(x) as k grows (Burda et al. 2016, §3). Work is
    split into chunks of at most ``max_rows`` (example, sample) pairs and combined with a
    running log-sum-exp, so memory stays bounded for any ``k`` and data size.

    Parameters
    ----------
    model : Autoencoder
        A model with a likelihood (a ``vae``).
    x : array-like of shape (n, *input_shape)
    k : int, default=5000
        Importance samples per example.
    y : array-like of int, optional
        Labels, for a conditional model (optional for one that infers them, ``ssvae``:
        then the bound is on log p(x), the label summed out).
    seed : int, default=0
        Seeds the draws (the global RNG is left as it was).
    max_rows : int, default=8192
        Bound on the (example, sample) rows evaluated at once; small chunks stay in cache.

    Returns
    -------
    ndarray of shape (n,)
        The estimate for each example; ``-mean`` is the test NLL reported in papers.
    """
    k = check_number(k, "k", "log_likelihood", kind=int, low=1)
    max_rows = check_number(max_rows, "max_rows", "log_likelihood", kind=int, low=1)
    x = model.as_input(x)
    labels = model.likelihood_labels(y, x.shape[0])
    per_chunk = max(1, min(x.shape[0], max_rows // k))  # examples per chunk
    k_chunk = min(k, max(1, max_rows // per_chunk))  # samples per pass
    dev = model.device
    out = []
    with seeded(seed, dev), evaluating(model):
        for i in range(0, x.shape[0], per_chunk):
            xb = model.scaler(x[i : i + per_chunk].to(dev))
            yb = None if labels is None else labels[i : i + per_chunk].to(dev)
            total = torch.full((xb.shape[0],), -math.inf, dtype=torch.float64, device=dev)
            for done in range(0, k, k_chunk):
                w = model.log_weights(xb, min(k_chunk, k - done), yb).double()
                total = torch.logaddexp(total, torch.logsumexp(w, dim=0))
            out.append(total - math.log(k))
    # The density of the scaled data, carried back to the data's own units.
    return (torch.cat(out).cpu() + model.scaler.log_abs_det()).numpy()


def code_statistics(model, X, zero_tol: float = 1e-2) -> dict:
    """How sparse a model's codes are on ``X``.

    Returns the fraction of (near-)zero code entries (``|h| <= zero_tol``), the mean
    activation of each unit (for sigmoid codes: the rate ρ̂ a KL penalty targets) and the
    codes themselves, float64 (n, latent_dim).
    """
    zero_tol = check_number(zero_tol, "zero_tol", "code_statistics", low=0.0)
    h = np.asarray(model.encode(X), dtype=np.float64)
    return {"fraction_zero": float(np.mean(np.abs(h) <= zero_tol)),
            "mean_activation": h.mean(0), "codes": h}


def principal_angles(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Principal angles between the column spaces of ``A`` (d, k) and ``B`` (d, m), in
    degrees, largest first (e.g. a linear autoencoder's decoder weights vs PCA's components)."""
    return np.degrees(subspace_angles(np.asarray(A, np.float64), np.asarray(B, np.float64)))
