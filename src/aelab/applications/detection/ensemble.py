"""Ensembles of autoencoders whose normalised per-feature anomaly scores are averaged
(Chen et al., *Outlier detection with autoencoder ensembles*, SDM 2017), with an optional
code-space neighbour term; saved as safetensors + JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aelab.applications.detection.neighbors import knn_distances
from aelab.applications.detection.scoring import NORMALIZATIONS, SCORERS, feature_scores, score_scales
from aelab.core.io import atomic_write_bytes, file_entry, read_listed_tensors, tensors_to_bytes
from aelab.core.validation import check_choice
from aelab.models.persistence import load_model
from aelab.models.registry import create
from aelab.training import train

# Reference codes kept per member for the neighbour term: at most this many training rows.
MAX_REFERENCE = 10_000
# Every fitted array of the ensemble (score scales, reference codes) lives in this file.
ARRAYS_FILE = "ensemble.safetensors"


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

    def _arrays(self) -> bytes:
        tensors = {}
        for i, scale in enumerate(self.scales):
            tensors[f"member_{i}/scales"] = torch.from_numpy(np.ascontiguousarray(scale, np.float64))
        for i, (codes, c) in enumerate(zip(self.references, self.code_scales)):
            tensors[f"member_{i}/reference_codes"] = torch.from_numpy(np.ascontiguousarray(codes))
            tensors[f"member_{i}/code_scale"] = torch.tensor(float(c), dtype=torch.float64)
        return tensors_to_bytes(tensors)

    def save(self, path) -> dict:
        """Save each member as ``path/member_<i>`` (safetensors + JSON) and the fitted
        arrays (score scales, reference codes) as ``path/ensemble.safetensors``; return the
        JSON part (scorer, sizes, the arrays file's checksum) that :meth:`load` reads."""
        for i, model in enumerate(self.members):
            model.save(Path(path) / f"member_{i}")
        arrays = self._arrays()
        atomic_write_bytes(Path(path) / ARRAYS_FILE, arrays)
        return {"scorer": self.scorer, "n_members": len(self.members), "neighbors": self.neighbors,
                "arrays": file_entry(ARRAYS_FILE, arrays)}

    @classmethod
    def load(cls, path, cfg: dict) -> Ensemble:
        """Rebuild from :meth:`save`'s directory and the JSON part it returned."""
        n = int(cfg["n_members"])
        members = [load_model(Path(path) / f"member_{i}") for i in range(n)]
        neighbors = int(cfg["neighbors"])
        arrays = read_listed_tensors(path, cfg["arrays"], "the detector's estimator.json")
        scales = [arrays[f"member_{i}/scales"].numpy() for i in range(n)]
        references, code_scales = [], []
        if neighbors:
            references = [arrays[f"member_{i}/reference_codes"].numpy() for i in range(n)]
            code_scales = [float(arrays[f"member_{i}/code_scale"]) for i in range(n)]
        return cls(members, scales, check_choice(cfg["scorer"], SCORERS, "scorer", "Ensemble"),
                   neighbors, references, code_scales)


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
    bootstrap: bool = False,
    train_options: dict | None = None,
) -> Ensemble:
    """Train one autoencoder per seed on ``X`` (already scaled) and normalise their scores.

    Member ``i`` uses ``seeds[i]`` (weights, shuffling, validation split, noise, its
    bootstrap sample) and ``code_sizes[i % len(code_sizes)]``.

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
    bootstrap : bool, default=False
        Each member trains on ``len(X)`` rows drawn from ``X`` with replacement (with its
        seed), as a random forest's trees do (Breiman, *Bagging predictors*, 1996); the
        validation rows of ``train_options`` come out of that sample, and its score
        scales are still those of every row of ``X``.
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
        sample = X
        if bootstrap:
            sample = X[np.random.default_rng(int(seed)).integers(0, len(X), len(X))]
        train(member, sample, seed=int(seed), **(train_options or {}))
        ensemble.members.append(member)
        ensemble.scales.append(score_scales(feature_scores(member, X, scorer), normalization,
                                            groups, feature_floor))
        if k:
            codes = member.encode(reference)
            scale = float(knn_distances(codes, codes, k, leave_one_out=True).mean())
            ensemble.references.append(codes)
            ensemble.code_scales.append(scale if scale > 1e-12 else 1.0)
    return ensemble


