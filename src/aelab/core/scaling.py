"""Per-feature scaling statistics, one set of names for the whole library.

A scaling maps each feature to ``(x - shift) / scale``. Its statistics are fitted in one
pass over batches ``(n, ...)`` (flattened to ``(n, n_features)``), in float64:

- ``none``: shift 0, scale 1;
- ``standard``: mean and standard deviation (Chan et al.'s pairwise update, stable for
  features with a large mean);
- ``minmax``: minimum and range;
- ``robust``: median and interquartile range / 1.349 (in standard deviations for normal
  data, insensitive to outliers); it needs every value at once, so it holds the feature
  column in memory. A feature with more than half its values tied falls back to the
  standard deviation.

A scale at or below 1e-12 (a constant feature) becomes 1. ``auto`` (none for data in
[0, 1], else another kind) reads the data once when that kind is ``standard``, ``minmax``
or ``none``: the range and the statistics come from the same pass.

Batches streamed from a file larger than memory come in an iterable whose attribute
``out_of_core`` is true; ``robust`` refuses them rather than gather every value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

# The interquartile range of a standard normal: robust scales are in standard deviations.
IQR_NORMAL = 1.3489795
TINY = 1e-12


def _rows(batches: Iterable[Tensor]):
    for x in batches:
        yield torch.as_tensor(x).detach().flatten(1).double().cpu()


def _none(batches):
    n_features = None
    for x in _rows(batches):
        n_features = x.shape[1]
    if n_features is None:
        return None
    return torch.zeros(n_features, dtype=torch.float64), torch.ones(n_features, dtype=torch.float64)


@dataclass
class Summary:
    """Per-feature statistics of one pass over the data, float64 ``(n_features,)``."""

    count: int
    mean: Tensor
    m2: Tensor  # sum of squared deviations from the mean
    lo: Tensor
    hi: Tensor


def summarize(batches: Iterable[Tensor]) -> Summary | None:
    """Count, mean, sum of squared deviations, minimum and maximum of every feature in one
    pass, combined batch by batch (Chan et al. 1979); None for no rows."""
    s = None
    for x in _rows(batches):
        n_b = x.shape[0]
        if n_b == 0:
            continue
        mean_b = x.mean(0)
        m2_b = (x - mean_b).pow(2).sum(0)
        lo_b, hi_b = x.min(0).values, x.max(0).values
        if s is None:
            s = Summary(n_b, mean_b, m2_b, lo_b, hi_b)
            continue
        total = s.count + n_b
        delta = mean_b - s.mean
        s.mean = s.mean + delta * (n_b / total)
        s.m2 = s.m2 + m2_b + delta.pow(2) * (s.count * n_b / total)
        s.count = total
        s.lo, s.hi = torch.minimum(s.lo, lo_b), torch.maximum(s.hi, hi_b)
    return s


# The kinds whose statistics a Summary holds, and how to read them off it.
FROM_SUMMARY: dict[str, Callable[[Summary], tuple[Tensor, Tensor]]] = {
    "none": lambda s: (torch.zeros_like(s.mean), torch.ones_like(s.mean)),
    "standard": lambda s: (s.mean, (s.m2 / s.count).sqrt()),
    "minmax": lambda s: (s.lo, s.hi - s.lo),
}


def _standard(batches):
    s = summarize(batches)
    return None if s is None else FROM_SUMMARY["standard"](s)


def _minmax(batches):
    s = summarize(batches)
    return None if s is None else FROM_SUMMARY["minmax"](s)


def _robust(batches):
    if getattr(batches, "out_of_core", False):
        raise ValueError(
            "Robust scaling (preprocess='robust') needs every training value in memory at once "
            "for its medians, which data streamed in chunks does not allow. Use "
            "preprocess='standard' or 'minmax', or fit the scaling on a sample that fits in "
            "memory first: model.scaler.fit([torch.from_numpy(sample)]) (training keeps a "
            "fitted scaling).")
    parts = [x.numpy() for x in _rows(batches) if x.shape[0]]
    if not parts:
        return None
    x = np.concatenate(parts)
    q1, median, q3 = np.percentile(x, [25, 50, 75], axis=0)
    scale = (q3 - q1) / IQR_NORMAL
    tied = scale <= TINY
    if tied.any():
        scale = np.where(tied, x.std(0), scale)
    return torch.from_numpy(median), torch.from_numpy(scale)


SCALINGS: dict[str, Callable[[Iterable[Tensor]], tuple[Tensor, Tensor] | None]] = {
    "none": _none,
    "standard": _standard,
    "minmax": _minmax,
    "robust": _robust,
}


def fit_scaling(kind: str, batches: Iterable[Tensor]) -> tuple[Tensor, Tensor]:
    """``(shift, scale)``, float64 of shape ``(n_features,)``, of the scaling ``kind``.

    Raises a ValueError on empty data.
    """
    stats = SCALINGS[kind](batches)
    if stats is None:
        raise ValueError("Cannot fit scaling statistics on empty data.")
    shift, scale = stats
    return shift, torch.where(scale > TINY, scale, torch.ones_like(scale))


def fit_auto_scaling(auto_kind: str, batches: Callable[[], Iterable[Tensor]]
                     ) -> tuple[str, Tensor, Tensor]:
    """``(kind, shift, scale)`` of the scaling ``auto``: ``none`` if every value lies in
    [0, 1], else ``auto_kind``. ``batches()`` yields the data afresh at each call; it is
    read once unless ``auto_kind`` is ``robust`` (then the range first, then the values).
    """
    if auto_kind not in FROM_SUMMARY:
        lo, hi = math.inf, -math.inf
        for x in batches():
            lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        kind = "none" if lo >= 0.0 and hi <= 1.0 else auto_kind
        return (kind, *fit_scaling(kind, batches()))
    s = summarize(batches())
    if s is None:
        raise ValueError("Cannot fit scaling statistics on empty data.")
    kind = "none" if float(s.lo.min()) >= 0.0 and float(s.hi.max()) <= 1.0 else auto_kind
    shift, scale = FROM_SUMMARY[kind](s)
    return kind, shift, torch.where(scale > TINY, scale, torch.ones_like(scale))
