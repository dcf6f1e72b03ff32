"""Anomaly scores per feature: named scorers, their normalisation, explanations and thresholds.

Reconstruction error as an outlier score: Hawkins et al., *Outlier detection using
replicator neural networks* (DaWaK 2002); scores normalised before averaging: Chen et
al., *Outlier detection with autoencoder ensembles* (SDM 2017).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from aelab.core.seeding import seeded
from aelab.core.validation import check_choice
from aelab.models.registry import list_models
from aelab.nn.layers import evaluating

# A scorer maps a model and a raw batch (n, *input_shape) to each feature's contribution
# to the anomaly score, (n, n_features), non-negative: the row sums are the anomaly
# scores (higher = more anomalous). A term not tied to one feature (the KL part of an
# ELBO) is spread evenly over the features.
Scorer = Callable[[torch.nn.Module, Tensor], Tensor]
SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str):
    """Decorator: register an anomaly scorer under ``name``."""

    def deco(fn: Scorer) -> Scorer:
        SCORERS[name] = fn
        return fn

    return deco


@register_scorer("reconstruction")
def reconstruction_scores(model, x: Tensor) -> Tensor:
    """Squared error per feature in the model's scaled input space, ``(n, n_features)``."""
    x_hat = model.reconstruct(x)  # data space, deterministic (no corruption)
    return (model.scaler(x) - model.scaler(x_hat)).pow(2).flatten(1)


@register_scorer("elbo")
def elbo_scores(model, x: Tensor, k: int = 10) -> Tensor:
    """A likelihood model's negative ELBO per feature (``model.feature_nll``), ``(n, n_features)``.

    Averaged over k seeded draws of z ~ q(z|x), so the same rows always get the same
    scores. Scoring rows by the model's likelihood rather than by squared error follows
    An & Cho, *Variational autoencoder based anomaly detection using reconstruction
    probability* (2015).
    """
    if not model.has_likelihood:
        raise ValueError(f"scorer='elbo' needs a model with a likelihood "
                         f"({list_models(has_likelihood=True)}); {model.name!r} has none. "
                         "Use scorer='reconstruction'.")
    with seeded(0, x.device):
        return model.feature_nll(x, k)


def feature_scores(model, X, scorer: str = "reconstruction", batch_size: int = 4096) -> np.ndarray:
    """Each feature's contribution to each row's anomaly score, float64 ``(n, n_features)``."""
    fn = SCORERS[check_choice(scorer, SCORERS, "scorer", "feature_scores")]
    x = model.as_input(X)
    with evaluating(model):
        parts = [fn(model, x[i : i + batch_size].to(model.device)).double().cpu()
                 for i in range(0, x.shape[0], batch_size)]
    return torch.cat(parts).numpy()


def explain_shares(contributions: np.ndarray) -> np.ndarray:
    """Each feature's share of its row's anomaly score: rows sum to 1 (uniform if all zero)."""
    contributions = np.clip(np.asarray(contributions, dtype=np.float64), 0.0, None)
    total = contributions.sum(1, keepdims=True)
    uniform = np.full_like(contributions, 1.0 / contributions.shape[1])
    return np.divide(contributions, total, out=uniform, where=total > 0)


def top_features(shares: np.ndarray, names: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
    """The ``k`` largest shares of each row as ``(name, share)`` pairs, largest first."""
    order = np.argsort(-shares, axis=1, kind="stable")[:, :k]
    return [[(str(names[j]), float(row[j])) for j in idx] for row, idx in zip(shares, order)]


def auto_threshold(scores: np.ndarray) -> float:
    """Anomaly-score threshold of ``contamination="auto"``: Tukey's upper fence, Q3 + 1.5·IQR.

    The training rows a box plot of the anomaly scores would draw as outliers are
    outliers. Reconstruction errors are right-skewed, so even clean data put a few
    percent of rows beyond the fence; a float contamination sets the fraction instead.
    """
    q1, q3 = np.percentile(np.asarray(scores, dtype=np.float64), [25, 75])
    return float(q3 + 1.5 * (q3 - q1))


NORMALIZATIONS = ("member", "feature")


def score_scales(contributions: np.ndarray, normalization: str,
                 groups: np.ndarray | None = None, floor: float = 0.0) -> np.ndarray:
    """Per-feature divisors that put one member's training contributions on a common scale.

    ``"member"``: the member's median training anomaly score, for every feature (its
    median row scores 1). ``"feature"``: each group of features (an input column; a
    one-hot block is one column) is divided by ``n_groups`` times its mean training
    contribution, so each column contributes ``1 / n_groups`` on average: a column the
    member reconstructs poorly even on normal rows does not dominate the score, nor
    does a categorical column with many categories. A column's mean is first raised to
    at least ``floor`` times the mean over columns (a variance floor): a column that is
    constant on the training rows has a training error near zero, and dividing by it
    would let any new value there outweigh every other column by orders of magnitude.

    Parameters
    ----------
    contributions : ndarray of shape (n_samples, n_features)
        One member's training contributions (see :func:`feature_scores`).
    normalization : {"member", "feature"}
    groups : ndarray of int of shape (n_features,), optional
        The column each feature belongs to (default: each feature its own column).
    floor : float, default=0.0
        For ``"feature"``: the smallest column mean, as a fraction of the mean over
        columns.
    """
    n_features = contributions.shape[1]
    if normalization == "member":
        scale = np.full(n_features, np.median(contributions.sum(1)))
    else:
        groups = np.arange(n_features) if groups is None else np.asarray(groups)
        _, group = np.unique(groups, return_inverse=True)
        n_groups = int(group.max()) + 1
        group_mean = np.bincount(group, weights=contributions.mean(0), minlength=n_groups)
        # the floor; and at least 1e-6 of the largest mean, so that no divisor is ~0
        group_mean = np.maximum(group_mean, max(floor * group_mean.mean(), 1e-6 * group_mean.max()))
        scale = n_groups * group_mean[group]
    return np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)


def trim_threshold(scores: np.ndarray, contamination) -> float:
    """Anomaly score above which training rows are left out of the next refit.

    The ``1 - contamination`` quantile of the scores for a float contamination, or
    :func:`auto_threshold` (Tukey's fence) for ``"auto"``.
    """
    if isinstance(contamination, str):
        return auto_threshold(scores)
    return float(np.quantile(scores, 1.0 - contamination))
