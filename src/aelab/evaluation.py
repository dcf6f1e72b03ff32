"""Measuring reconstruction: the autoencoder beside PCA at the same code size.

Metric (Hinton & Salakhutdinov 2006): squared error **summed over features** in
the data's own units, averaged over examples; per-feature mean squared errors too.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA


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


def reconstruction_report(model, X_eval: np.ndarray, X_fit: np.ndarray | None = None) -> dict:
    """Test reconstruction error of ``model`` on ``X_eval`` and of PCA with as many components.

    PCA is fitted on ``X_fit`` (the training data); without it, on ``X_eval`` itself,
    which flatters PCA (the report says so under ``pca.fitted_on``).
    """
    X_eval = np.asarray(X_eval, dtype=np.float32)
    err = squared_errors(X_eval, model.reconstruct(X_eval))
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
