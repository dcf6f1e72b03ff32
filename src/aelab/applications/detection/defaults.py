"""The detector's data-dependent defaults: network size, training budget and the
neighbour term, chosen on the selection protocol of ``benchmarks/adbench.py`` (see
``benchmarks/results/adbench_selection.md``; never on its test split).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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


def spread_code_sizes(code_size: int, n_features: int) -> tuple[int, ...]:
    """Code sizes of an ensemble spread around ``code_size``: itself, half and double it.

    ``(c, ceil(c / 2), min(2c, n_features))``, cycled over the members (the first is the
    size the refits use). No single code size suits every data set; members of several
    sizes average over that choice instead of making it (as Chen et al., *Outlier
    detection with autoencoder ensembles*, SDM 2017, vary their members' structure).
    """
    c = int(code_size)
    return (c, max(1, math.ceil(c / 2)), max(1, min(2 * c, int(n_features))))


def auto_neighbors(code_sizes: Sequence[int]) -> int:
    """``k`` of the code-space neighbour term for members with these code sizes.

    ``AUTO_NEIGHBORS`` if every code has at most ``NEIGHBOR_MAX_CODE`` dimensions, else 0
    (reconstruction error alone). The term helps where a narrow code keeps the clusters of
    the data apart, and can hurt where the outliers form a dense cluster of their own; the
    width cut was chosen on the selection protocol of ``benchmarks/adbench.py`` (see
    ``benchmarks/results/adbench_selection.md``).
    """
    return AUTO_NEIGHBORS if max(int(c) for c in code_sizes) <= NEIGHBOR_MAX_CODE else 0
