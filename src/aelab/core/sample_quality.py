"""Distances between two sets of features: how well generated samples match real data.

- Fréchet distance between the Gaussians fitted to each set (Heusel et al., *GANs
  Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium*, NeurIPS
  2017, the "FID" when the features are Inception's):
  ``d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^{1/2})``.
- Precision and recall of the manifold (Kynkäänniemi et al., *Improved Precision and
  Recall Metric for Assessing Generative Models*, NeurIPS 2019): each set's manifold is
  the union of balls around its points, of radius the distance to the k-th nearest
  neighbour within the set; precision is the fraction of generated points inside the
  real manifold, recall the fraction of real points inside the generated one.

Everything is computed in float64 on NumPy arrays of shape ``(n, d)``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

# Rows of a distance block: batch × n float64 (10k columns: 8 MB per 100 rows).
_DEFAULT_BATCH = 1024


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision and recall of the manifold, each a fraction in [0, 1]."""

    precision: float  # fraction of fake points inside the real manifold
    recall: float  # fraction of real points inside the fake manifold


def check_features(x, name: str, owner: str, *, min_rows: int = 2) -> np.ndarray:
    """``x`` as a float64 array ``(n, d)`` of finite values with at least ``min_rows`` rows."""
    arr = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"The {name!r} argument of {owner} must hold real numbers; got an array "
                        f"of dtype {arr.dtype}.")
    if arr.ndim != 2:
        raise ValueError(f"The {name!r} argument of {owner} must be a 2-D array of features "
                         f"(n_samples, n_features); got shape {arr.shape}. Flatten each sample "
                         "or pass the output of a feature network.")
    if arr.shape[0] < min_rows:
        raise ValueError(f"The {name!r} argument of {owner} needs at least {min_rows} samples; "
                         f"got {arr.shape[0]}.")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"The {name!r} argument of {owner} contains NaN or infinity "
                         f"({int((~np.isfinite(arr)).sum())} values); the samples that produced "
                         "them are broken (a diverged model?). Remove them or fix the model.")
    return arr


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased, float64) of features ``(n, d)``."""
    x = check_features(features, "features", "gaussian_statistics")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``tr((Σ₁ Σ₂)^{1/2})`` is computed as ``Σ √λᵢ`` over the eigenvalues of the
    symmetric positive semi-definite ``Σ₁^{1/2} Σ₂ Σ₁^{1/2}`` (similar to ``Σ₁ Σ₂``, so
    with the same eigenvalues), by two symmetric eigen-decompositions: no complex
    matrix square root, so no imaginary parts to drop. Eigenvalues that round-off makes
    slightly negative are set to zero.

    Returns
    -------
    float
        The squared Fréchet distance ``d²`` (the quantity reported as FID), ≥ 0.
    """
    owner = "frechet_distance_from_statistics"
    mu1, mu2 = (np.asarray(m, dtype=np.float64) for m in (mu1, mu2))
    sigma1, sigma2 = (np.asarray(s, dtype=np.float64) for s in (sigma1, sigma2))
    d = mu1.shape[0] if mu1.ndim == 1 else -1
    if (d < 1 or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d)):
        raise ValueError(f"{owner} needs two means of shape (d,) and two covariances of shape "
                         f"(d, d) with the same d; got {mu1.shape}, {sigma1.shape}, {mu2.shape}, "
                         f"{sigma2.shape}.")
    for name, a in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.isfinite(a).all():
            raise ValueError(f"The {name!r} argument of {owner} contains NaN or infinity.")
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    tr_covmean = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)
    return max(value, 0.0)  # round-off can leave -1e-12 for identical statistics


def frechet_distance(a, b) -> float:
    """Fréchet distance between the Gaussians fitted to feature sets ``a`` and ``b``.

    Parameters
    ----------
    a, b : array-like of shape (n_a, d) and (n_b, d)
        Features of the two sets (e.g. real and generated images through a feature
        network); each needs at least 2 rows.

    Returns
    -------
    float
        ``‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2})``, ≥ 0, 0 for ``a`` = ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 4))
    >>> round(frechet_distance(x, x), 6)
    0.0
    >>> round(frechet_distance(x, x + 1.0), 3)  # a shift of 1 in each of 4 dimensions
    4.0
    """
    a = check_features(a, "a", "frechet_distance")
    b = check_features(b, "b", "frechet_distance")
    _check_same_width(a, b, "frechet_distance")
    return frechet_distance_from_statistics(*gaussian_statistics(a), *gaussian_statistics(b))


def manifold_precision_recall(real, fake, k: int = 3, batch_size: int = _DEFAULT_BATCH
                              ) -> PrecisionRecall:
    """Precision and recall of the manifold, after Kynkäänniemi et al. (2019).

    Parameters
    ----------
    real, fake : array-like of shape (n_real, d) and (n_fake, d)
        Features of the real and the generated samples; each needs more than ``k`` rows.
    k : int, default=3
        The neighbour whose distance is each point's radius (the paper uses 3).
    batch_size : int, default=1024
        Rows of each block of pairwise distances: memory is ``batch_size × n`` float64,
        so 10,000 × 10,000 sets never hold the full matrix.

    Returns
    -------
    PrecisionRecall
        ``precision``: the fraction of ``fake`` within the radius of some ``real`` point;
        ``recall``: the fraction of ``real`` within the radius of some ``fake`` point.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 2))
    >>> manifold_precision_recall(x, x)
    PrecisionRecall(precision=1.0, recall=1.0)
    >>> manifold_precision_recall(x, x + 100.0)
    PrecisionRecall(precision=0.0, recall=0.0)
    """
    owner = "manifold_precision_recall"
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"The 'k' parameter of {owner} must be an int >= 1; got {k!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"The 'batch_size' parameter of {owner} must be an int >= 1; got "
                         f"{batch_size!r}.")
    real = check_features(real, "real", owner, min_rows=k + 1)
    fake = check_features(fake, "fake", owner, min_rows=k + 1)
    _check_same_width(real, fake, owner)
    real_radii = _knn_radii(real, k, batch_size)
    fake_radii = _knn_radii(fake, k, batch_size)
    return PrecisionRecall(
        precision=float(_inside(fake, real, real_radii, batch_size).mean()),
        recall=float(_inside(real, fake, fake_radii, batch_size).mean()),
    )


def _check_same_width(a: np.ndarray, b: np.ndarray, owner: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{owner} compares features of the same width; got {a.shape[1]} and "
                         f"{b.shape[1]} columns. Pass both sets through the same feature network.")


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a covariance (negative round-off eigenvalues set to 0)."""
    eig, vec = np.linalg.eigh((sigma + sigma.T) / 2.0)
    return (vec * np.sqrt(np.clip(eig, 0.0, None))) @ vec.T


def _sq_distances(x: np.ndarray, y: np.ndarray, y_sq: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(len(x), len(y))``, clipped at 0 against round-off."""
    d2 = (x * x).sum(1)[:, None] + y_sq[None, :] - 2.0 * (x @ y.T)
    return np.maximum(d2, 0.0)


def _knn_radii(x: np.ndarray, k: int, batch_size: int) -> np.ndarray:
    """Squared distance from each row of ``x`` to its k-th nearest other row, ``(n,)``."""
    sq = (x * x).sum(1)
    radii = np.empty(x.shape[0])
    for i in range(0, x.shape[0], batch_size):
        d2 = _sq_distances(x[i : i + batch_size], x, sq)
        d2[np.arange(d2.shape[0]), np.arange(i, i + d2.shape[0])] = 0.0  # itself, exactly
        # index k of the sorted row: the point itself sits at index 0
        radii[i : i + d2.shape[0]] = np.partition(d2, k, axis=1)[:, k]
    return radii


def _inside(points: np.ndarray, centres: np.ndarray, radii: np.ndarray,
            batch_size: int) -> np.ndarray:
    """Whether each of ``points`` lies within some centre's ball (squared radii), ``(n,)``."""
    sq = (centres * centres).sum(1)
    hit = np.empty(points.shape[0], dtype=bool)
    for i in range(0, points.shape[0], batch_size):
        d2 = _sq_distances(points[i : i + batch_size], centres, sq)
        hit[i : i + d2.shape[0]] = (d2 <= radii[None, :]).any(axis=1)
    return hit
