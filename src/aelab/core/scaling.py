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

A scale at or below 1e-12 (a constant feature) becomes 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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


def _moments(batches) -> tuple[int, Tensor, Tensor] | None:
    """Count, mean and sum of squared deviations, combined batch by batch (Chan et al. 1979)."""
    count, mean, m2 = 0, None, None
    for x in _rows(batches):
        n_b = x.shape[0]
        if n_b == 0:
            continue
        mean_b = x.mean(0)
        m2_b = (x - mean_b).pow(2).sum(0)
        if mean is None:
            count, mean, m2 = n_b, mean_b, m2_b
            continue
        total = count + n_b
        delta = mean_b - mean
        mean = mean + delta * (n_b / total)
        m2 = m2 + m2_b + delta.pow(2) * (count * n_b / total)
        count = total
    return None if mean is None else (count, mean, m2)


def _standard(batches):
    moments = _moments(batches)
    if moments is None:
        return None
    count, mean, m2 = moments
    return mean, (m2 / count).sqrt()


def _minmax(batches):
    lo = hi = None
    for x in _rows(batches):
        if x.shape[0] == 0:
            continue
        lo = x.min(0).values if lo is None else torch.minimum(lo, x.min(0).values)
        hi = x.max(0).values if hi is None else torch.maximum(hi, x.max(0).values)
    return None if lo is None else (lo, hi - lo)


def _robust(batches):
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
