"""Binarised MNIST as in the VAE/IWAE literature (Burda et al. 2016, §5).

Training pixels are resampled as Bernoulli(intensity) every time they are seen
(dynamic binarisation); the test set is binarised once, with a seed, so that every
model is scored on the same bits.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def dynamic_binarize(x: Tensor) -> Tensor:
    """A fresh Bernoulli(x) draw of a batch of intensities in [0, 1].

    Pass it as ``aelab.train(..., batch_transform=aelab.data.dynamic_binarize)``: it
    draws from the trainer's seeded RNG, so runs stay reproducible.
    """
    return torch.bernoulli(x)


def binarize(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """A fixed, seeded Bernoulli(X) draw of intensities in [0, 1] (float32 zeros and ones)."""
    X = np.asarray(X, dtype=np.float32)
    if X.size and (X.min() < 0.0 or X.max() > 1.0):
        raise ValueError(f"binarize needs intensities in [0, 1]; got values in [{X.min():.3g}, "
                         f"{X.max():.3g}]. Scale the data first (e.g. pixels / 255).")
    return (np.random.default_rng(seed).random(X.shape, dtype=np.float32) < X).astype(np.float32)
