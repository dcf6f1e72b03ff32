"""Anomaly detection with autoencoders: named anomaly scorers, per-feature explanations
and ensembles over seeds and code sizes.

Reconstruction error as an outlier score: Hawkins et al., *Outlier detection using
replicator neural networks* (DaWaK 2002); ensembles of autoencoders whose scores are
normalised before averaging: Chen et al., *Outlier detection with autoencoder
ensembles* (SDM 2017).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from aelab import create, train
from aelab.persistence import load_model
from aelab.validation import check_choice

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


def feature_scores(model, X, scorer: str = "reconstruction", batch_size: int = 4096) -> np.ndarray:
    """Each feature's contribution to each row's anomaly score, float64 ``(n, n_features)``."""
    fn = SCORERS[check_choice(scorer, SCORERS, "scorer", "feature_scores")]
    x = model.as_input(X)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            parts = [fn(model, x[i : i + batch_size].to(model.device)).double().cpu()
                     for i in range(0, x.shape[0], batch_size)]
    finally:
        model.train(was_training)
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


# --------------------------------------------------------------------------- ensembles
@dataclass
class Ensemble:
    """Autoencoders whose per-feature anomaly scores are averaged after normalisation.

    Each member's contributions are divided by its ``scale`` (the median anomaly score
    it gives its training data), so that members of different sizes weigh alike and a
    normalised score keeps its per-feature decomposition.

    Attributes
    ----------
    members : list of Autoencoder
    scales : list of float
        One per member: its median training anomaly score.
    scorer : str
        A name in :data:`SCORERS`.
    """

    members: list = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    scorer: str = "reconstruction"

    def feature_scores(self, X) -> np.ndarray:
        """Normalised contributions averaged over members, float64 ``(n, n_features)``."""
        total = None
        for model, scale in zip(self.members, self.scales):
            part = feature_scores(model, X, self.scorer) / scale
            total = part if total is None else total + part
        return total / len(self.members)

    def scores(self, X) -> np.ndarray:
        """Anomaly score of each row (higher = more anomalous), float64 ``(n,)``."""
        return self.feature_scores(X).sum(1)

    def to_config(self) -> dict:
        return {"scorer": self.scorer, "scales": [float(s) for s in self.scales],
                "n_members": len(self.members)}

    def save(self, path) -> None:
        """Save each member as ``path/member_<i>`` (safetensors + JSON)."""
        from pathlib import Path

        for i, model in enumerate(self.members):
            model.save(Path(path) / f"member_{i}")

    @classmethod
    def load(cls, path, cfg: dict) -> Ensemble:
        """Rebuild from :meth:`save`'s directory and :meth:`to_config`'s output."""
        from pathlib import Path

        members = [load_model(Path(path) / f"member_{i}") for i in range(int(cfg["n_members"]))]
        return cls(members, [float(s) for s in cfg["scales"]],
                   check_choice(cfg["scorer"], SCORERS, "scorer", "Ensemble"))


def fit_ensemble(
    X: np.ndarray,
    *,
    model: str = "ae",
    model_params: dict | None = None,
    code_sizes: Sequence[int] = (2,),
    hidden: Sequence[int] = (),
    seeds: Sequence[int] = (0,),
    scorer: str = "reconstruction",
    train_options: dict | None = None,
) -> Ensemble:
    """Train one autoencoder per seed on ``X`` (already scaled) and normalise their scores.

    Member ``i`` uses ``seeds[i]`` (weights, shuffling, validation split, noise) and
    ``code_sizes[i % len(code_sizes)]``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training data in the space the members model (``preprocess="none"``).
    model : str, default="ae"
        A registered model name.
    model_params : dict, optional
        Further constructor arguments of the model (e.g. ``{"corruption": "gaussian"}``).
    code_sizes : sequence of int
    hidden : sequence of int
        Encoder hidden widths (the decoder mirrors them).
    seeds : sequence of int
        One member per seed.
    scorer : str, default="reconstruction"
    train_options : dict, optional
        Keyword arguments of :func:`aelab.train` (epochs, batch_size, ...).

    Returns
    -------
    Ensemble
    """
    check_choice(scorer, SCORERS, "scorer", "fit_ensemble")
    X = np.ascontiguousarray(X, dtype=np.float32)
    params = {"preprocess": "none", **(model_params or {})}
    members, scales = [], []
    for i, seed in enumerate(seeds):
        member = create(model, seed=int(seed), input_shape=X.shape[1],
                        latent_dim=int(code_sizes[i % len(code_sizes)]), hidden=tuple(hidden),
                        **params)
        train(member, X, seed=int(seed), **(train_options or {}))
        scale = float(np.median(feature_scores(member, X, scorer).sum(1)))
        members.append(member)
        scales.append(scale if math.isfinite(scale) and scale > 1e-12 else 1.0)
    return Ensemble(members, scales, scorer)


# --------------------------------------------------------------------------- defaults
@dataclass(frozen=True)
class AutoSettings:
    """The detector's data-dependent defaults (see :func:`auto_settings`)."""

    code_sizes: tuple[int, ...]
    hidden: tuple[int, ...]
    epochs: int
    batch_size: int


def auto_settings(n_samples: int, n_features: int, n_members: int = 1) -> AutoSettings:
    """Code sizes, hidden widths, epochs and batch size for ``n_samples × n_features`` data.

    Chosen on the selection protocol of ``benchmarks/adbench.py`` (never its test
    split); ``benchmarks/results/adbench_selection.md`` holds the comparison.
    """
    d = n_features
    k = max(1, math.ceil(d / 4))
    hidden = (int(np.clip(d, 8, 64)),)
    batch_size = int(np.clip(n_samples // 20, 16, 256))
    epochs = int(np.clip(math.ceil(1000 * batch_size / n_samples), 10, 200))
    return AutoSettings((k,) * 1, hidden, epochs, batch_size)
