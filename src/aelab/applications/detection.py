"""Anomaly detection with autoencoders: named anomaly scorers, per-feature explanations
and ensembles over seeds and code sizes.

Reconstruction error as an outlier score: Hawkins et al., *Outlier detection using
replicator neural networks* (DaWaK 2002); ensembles of autoencoders whose scores are
normalised before averaging: Chen et al., *Outlier detection with autoencoder
ensembles* (SDM 2017); refits on the rows that look normal: the concentration step of
Rousseeuw & Van Driessen, *Computing LTS regression for large data sets* (2006); the
distance to a row's nearest training codes, added to its reconstruction error: the
k-nearest-neighbour outlier score of Ramaswamy, Rastogi & Shim, *Efficient algorithms
for mining outliers from large data sets* (SIGMOD 2000), taken in the autoencoder's
code space as DAGMM (Zong et al., ICLR 2018) scores rows by code and error together.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.neighbors import KDTree
from torch import Tensor

from aelab import create, train
from aelab.persistence import atomic_write_bytes, load_model, read_tensors, tensors_to_bytes
from aelab.seeding import seeded
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


@register_scorer("elbo")
def elbo_scores(model, x: Tensor, k: int = 10) -> Tensor:
    """The negative ELBO of a likelihood model (``vae``), per feature, ``(n, n_features)``.

    Each feature carries its expected -log p(x_j | z) (over k seeded draws of z ~ q(z|x),
    so the same rows always get the same scores), plus an equal share of KL(q || p).
    Scoring rows by the model's likelihood rather than by squared error follows An & Cho,
    *Variational autoencoder based anomaly detection using reconstruction probability* (2015).
    """
    if not model.has_likelihood:
        raise ValueError(f"scorer='elbo' needs a model with a likelihood (vae); {model.name!r} has "
                         "none. Use scorer='reconstruction'.")
    with seeded(0, x.device):
        nll, kl = model.elbo_terms(model.scaler(x), k)
    return nll + kl[:, None] / nll.shape[1]


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


# Codes of at most this many dimensions are searched with a k-d tree, wider ones by brute
# force: a k-d tree prunes well only in a few dimensions (10 neighbours of 10,000 queries
# among 10,000 rows on one CPU thread: 15x faster than brute force in 2-D, 3x in 6-D,
# 1.5x in 8-D, 2x slower in 10-D).
KD_TREE_MAX_DIM = 6


def knn_distances(queries, reference, k: int, *, leave_one_out: bool = False,
                  batch_size: int = 2048) -> np.ndarray:
    """Mean Euclidean distance of each query row to its ``k`` nearest reference rows.

    Exact either way: a k-d tree (float64) for at most ``KD_TREE_MAX_DIM`` columns,
    else brute force (float32, ``batch_size`` queries at a time).

    Parameters
    ----------
    queries : array-like of shape (n, p)
    reference : array-like of shape (m, p)
    k : int
        Neighbours, at most ``m`` (``m - 1`` with ``leave_one_out``).
    leave_one_out : bool, default=False
        ``queries`` are the reference rows themselves: each row's own zero distance
        is not counted.

    Returns
    -------
    ndarray of shape (n,), float64
    """
    skip = int(leave_one_out)
    m = len(reference)
    if not 1 <= k <= m - skip:
        raise ValueError(f"k={k} neighbours need at least {k + skip} reference rows; got {m}.")
    if len(queries) == 0:
        return np.zeros(0)
    if np.shape(reference)[1] <= KD_TREE_MAX_DIM:
        tree = KDTree(np.asarray(reference, dtype=np.float64))
        distances = tree.query(np.asarray(queries, dtype=np.float64), k=k + skip)[0]
        return distances[:, skip:].mean(1)
    q = torch.as_tensor(np.asarray(queries, dtype=np.float32))  # codes are float32
    r = torch.as_tensor(np.asarray(reference, dtype=np.float32))
    parts = []
    for i in range(0, q.shape[0], batch_size):
        d = torch.cdist(q[i : i + batch_size], r)
        parts.append(d.topk(k + skip, dim=1, largest=False).values[:, skip:].mean(1))
    return torch.cat(parts).double().numpy()


# --------------------------------------------------------------------------- ensembles
NORMALIZATIONS = ("member", "feature")
# Reference codes kept per member for the neighbour term: at most this many training rows.
MAX_REFERENCE = 10_000
REFERENCE_FILE = "reference_codes.safetensors"


@dataclass
class Ensemble:
    """Autoencoders whose per-feature anomaly scores are averaged after normalisation.

    Member ``m``'s contribution of feature ``j`` is divided by ``scales[m][j]``, fitted on
    the training data (see :func:`fit_ensemble`'s ``normalization``), so that members of
    different sizes weigh alike and the normalised score keeps its per-feature
    decomposition. With ``neighbors = k > 0`` each member also adds the mean distance
    from a row's code to its ``k`` nearest training codes (``references[m]``), divided by
    the same distance's mean over the training rows (``code_scales[m]``, leave one out),
    so that on training data it weighs as much as the normalised reconstruction error;
    a term not tied to one feature, it is spread evenly over the features.

    Attributes
    ----------
    members : list of Autoencoder
    scales : list of ndarray of shape (n_features,)
    scorer : str
        A name in :data:`SCORERS`.
    neighbors : int
        ``k`` of the code-space neighbour term (0: reconstruction scores only).
    references : list of ndarray of shape (n_reference, latent_dim)
    code_scales : list of float
    """

    members: list = field(default_factory=list)
    scales: list[np.ndarray] = field(default_factory=list)
    scorer: str = "reconstruction"
    neighbors: int = 0
    references: list[np.ndarray] = field(default_factory=list)
    code_scales: list[float] = field(default_factory=list)

    def feature_scores(self, X) -> np.ndarray:
        """Normalised contributions averaged over members, float64 ``(n, n_features)``."""
        total = None
        for i, (model, scale) in enumerate(zip(self.members, self.scales)):
            part = feature_scores(model, X, self.scorer) / scale
            if self.neighbors:
                far = knn_distances(model.encode(X), self.references[i],
                                    self.neighbors) / self.code_scales[i]
                part += far[:, None] / part.shape[1]
            total = part if total is None else total + part
        return total / len(self.members)

    def scores(self, X) -> np.ndarray:
        """Anomaly score of each row (higher = more anomalous), float64 ``(n,)``."""
        return self.feature_scores(X).sum(1)

    def _reference_bytes(self) -> bytes:
        return tensors_to_bytes({f"member_{i}": torch.from_numpy(np.ascontiguousarray(r))
                                 for i, r in enumerate(self.references)})

    def to_config(self) -> dict:
        cfg = {"scorer": self.scorer, "scales": [np.asarray(s).tolist() for s in self.scales],
               "n_members": len(self.members), "neighbors": self.neighbors,
               "code_scales": [float(c) for c in self.code_scales]}
        if self.neighbors:
            cfg["references_sha256"] = hashlib.sha256(self._reference_bytes()).hexdigest()
        return cfg

    def save(self, path) -> None:
        """Save each member as ``path/member_<i>`` (safetensors + JSON) and, with
        ``neighbors``, the reference codes as ``path/reference_codes.safetensors``."""
        for i, model in enumerate(self.members):
            model.save(Path(path) / f"member_{i}")
        if self.neighbors:
            atomic_write_bytes(Path(path) / REFERENCE_FILE, self._reference_bytes())

    @classmethod
    def load(cls, path, cfg: dict) -> Ensemble:
        """Rebuild from :meth:`save`'s directory and :meth:`to_config`'s output."""
        n = int(cfg["n_members"])
        members = [load_model(Path(path) / f"member_{i}") for i in range(n)]
        neighbors = int(cfg.get("neighbors", 0))
        references = []
        if neighbors:
            saved = read_tensors(Path(path) / REFERENCE_FILE, cfg["references_sha256"])
            references = [saved[f"member_{i}"].numpy() for i in range(n)]
        return cls(members, [np.asarray(s, dtype=np.float64) for s in cfg["scales"]],
                   check_choice(cfg["scorer"], SCORERS, "scorer", "Ensemble"), neighbors,
                   references, [float(c) for c in cfg.get("code_scales", [])])


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


def fit_ensemble(
    X: np.ndarray,
    *,
    model: str = "ae",
    model_params: dict | None = None,
    code_sizes: Sequence[int] = (2,),
    hidden: Sequence[int] = (),
    seeds: Sequence[int] = (0,),
    scorer: str = "reconstruction",
    normalization: str = "member",
    groups: np.ndarray | None = None,
    feature_floor: float = 0.0,
    neighbors: int = 0,
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
    normalization : {"member", "feature"}, default="member"
        How each member's contributions are scaled before averaging (see
        :func:`score_scales`).
    groups : ndarray of int of shape (n_features,), optional
        The input column of each feature, for ``normalization="feature"``.
    feature_floor : float, default=0.0
        ``floor`` of :func:`score_scales`.
    neighbors : int, default=0
        ``k`` of the code-space neighbour term (see :class:`Ensemble`; 0: none). The
        reference codes are those of the training rows (at most ``MAX_REFERENCE`` of
        them, drawn with ``seeds[0]``); ``k`` is capped at their number minus one.
    train_options : dict, optional
        Keyword arguments of :func:`aelab.train` (epochs, batch_size, ...).

    Returns
    -------
    Ensemble
    """
    check_choice(scorer, SCORERS, "scorer", "fit_ensemble")
    check_choice(normalization, NORMALIZATIONS, "normalization", "fit_ensemble")
    X = np.ascontiguousarray(X, dtype=np.float32)
    params = {"preprocess": "none", **(model_params or {})}
    reference = X
    if len(X) > MAX_REFERENCE:
        rows = np.random.default_rng(int(seeds[0])).choice(len(X), MAX_REFERENCE, replace=False)
        reference = X[np.sort(rows)]
    k = max(0, min(int(neighbors), len(reference) - 1))
    ensemble = Ensemble(scorer=scorer, neighbors=k)
    for i, seed in enumerate(seeds):
        member = create(model, seed=int(seed), input_shape=X.shape[1],
                        latent_dim=int(code_sizes[i % len(code_sizes)]), hidden=tuple(hidden),
                        **params)
        train(member, X, seed=int(seed), **(train_options or {}))
        ensemble.members.append(member)
        ensemble.scales.append(score_scales(feature_scores(member, X, scorer), normalization,
                                            groups, feature_floor))
        if k:
            codes = member.encode(reference)
            scale = float(knn_distances(codes, codes, k, leave_one_out=True).mean())
            ensemble.references.append(codes)
            ensemble.code_scales.append(scale if scale > 1e-12 else 1.0)
    return ensemble


# --------------------------------------------------------------------------- defaults
# Gradient steps per member: about this many whatever the data size (see auto_settings).
TARGET_STEPS = 150
# The code-space neighbour term of the default detector: this many neighbours, for codes
# of at most NEIGHBOR_MAX_CODE dimensions (see auto_neighbors).
AUTO_NEIGHBORS = 10
NEIGHBOR_MAX_CODE = 6


@dataclass(frozen=True)
class AutoSettings:
    """The detector's data-dependent defaults (see :func:`auto_settings`)."""

    code_size: int
    hidden: tuple[int, ...]
    epochs: int
    batch_size: int


def auto_settings(n_samples: int, n_features: int) -> AutoSettings:
    """Code size, hidden widths, epochs and batch size for ``n_samples × n_features`` data.

    Code ``ceil(sqrt(d))``; one hidden layer of ``clip(d, 8, 64)`` units; batches of
    ``clip(n / 20, 16, 256)`` rows and as many epochs as make about ``TARGET_STEPS``
    gradient steps (at least 5, at most 500). Chosen in sweeps of an earlier,
    single-split version of the selection protocol of ``benchmarks/adbench.py`` (never
    its test split).
    """
    d = n_features
    batch_size = int(np.clip(n_samples // 20, 16, 256))
    epochs = int(np.clip(math.ceil(TARGET_STEPS * batch_size / max(n_samples, 1)), 5, 500))
    return AutoSettings(max(1, math.ceil(math.sqrt(d))), (int(np.clip(d, 8, 64)),), epochs,
                        batch_size)


def auto_neighbors(code_sizes: Sequence[int]) -> int:
    """``k`` of the code-space neighbour term for members with these code sizes.

    ``AUTO_NEIGHBORS`` if every code has at most ``NEIGHBOR_MAX_CODE`` dimensions, else 0
    (reconstruction error alone). Measured on the selection protocol of
    ``benchmarks/adbench.py``, the term raises ROC-AUC where a narrow code keeps the
    clusters of the data apart (glass +0.07, vowels +0.07, letter +0.04, wine +0.04); on
    the four data sets whose default code is wider (``d > 36``: Arrhythmia, mnist, musk,
    optdigits) it changed Arrhythmia and musk by at most 0.002 and lowered mnist by 0.013
    and optdigits, whose outliers form a dense cluster of their own, by 0.105.
    """
    return AUTO_NEIGHBORS if max(int(c) for c in code_sizes) <= NEIGHBOR_MAX_CODE else 0


def trim_threshold(scores: np.ndarray, contamination) -> float:
    """Anomaly score above which training rows are left out of the next refit.

    The ``1 - contamination`` quantile of the scores for a float contamination, or
    :func:`auto_threshold` (Tukey's fence) for ``"auto"``.
    """
    if isinstance(contamination, str):
        return auto_threshold(scores)
    return float(np.quantile(scores, 1.0 - contamination))


def fit_detector(
    X: np.ndarray,
    *,
    contamination="auto",
    refits: int = 1,
    n_members: int = 1,
    code_sizes: Sequence[int] | None = None,
    hidden: Sequence[int] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seeds: Sequence[int] = (0,),
    neighbors: int | None = 0,
    train_options: dict | None = None,
    **ensemble_options,
) -> Ensemble:
    """Fit an ensemble, then refit it ``refits`` times on the rows that look normal.

    Each refit leaves out the training rows scoring above :func:`trim_threshold`, as
    the concentration step of least trimmed squares does (Rousseeuw & Van Driessen,
    *Computing LTS regression for large data sets*, 2006): outliers in the training
    data no longer shape the autoencoders nor their input scaling. The fits before the
    last one only choose rows, so they use one member; the last uses ``n_members``.
    Refitting stops early if fewer than two rows would be left.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    contamination : "auto" or float
        Fraction of rows left out at each refit (``"auto"``: Tukey's fence).
    refits : int, default=1
    n_members : int, default=1
        Members of the final ensemble.
    code_sizes, hidden, epochs, batch_size : optional
        None: :func:`auto_settings` for the rows each fit sees.
    seeds : sequence of int
        ``seeds[i]`` seeds member ``i`` of every fit (needs ``n_members`` of them).
    neighbors : int or None, default=0
        ``k`` of the code-space neighbour term of the final ensemble (see
        :class:`Ensemble`; None: :func:`auto_neighbors` of its code sizes); the refits
        choose rows by reconstruction error alone, and the reference codes are those of
        the rows kept.
    train_options : dict, optional
        Further keyword arguments of :func:`aelab.train` (lr, validation_split, ...).
    **ensemble_options
        ``model``, ``model_params``, ``scorer``, ``normalization``, ``groups``,
        ``feature_floor`` of
        :func:`fit_ensemble`.

    Returns
    -------
    Ensemble
    """
    val = (train_options or {}).get("validation_split", 0.0)

    def fit_on(rows: np.ndarray, members: int, k: int | None = 0) -> Ensemble:
        auto = auto_settings(int(len(rows) * (1.0 - val)), X.shape[1])
        options = {**(train_options or {}), "epochs": epochs or auto.epochs,
                   "batch_size": batch_size or auto.batch_size}
        sizes = code_sizes or (auto.code_size,)
        return fit_ensemble(rows, code_sizes=sizes,
                            hidden=auto.hidden if hidden is None else hidden,
                            seeds=seeds[:members],
                            neighbors=auto_neighbors(sizes) if k is None else k,
                            train_options=options, **ensemble_options)

    rows = X
    for _ in range(refits):
        scores = fit_on(rows, 1).scores(X)
        kept = X[scores <= trim_threshold(scores, contamination)]
        if len(kept) < 2:
            break
        rows = kept
    return fit_on(rows, n_members, neighbors)
