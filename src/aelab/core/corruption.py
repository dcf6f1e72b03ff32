"""Corruption processes C(x_tilde | x) for denoising autoencoders.

Vincent et al., *Stacked Denoising Autoencoders*, JMLR 11 (2010), §4.2: additive
isotropic Gaussian noise, masking noise (a fraction ν of the features forced to 0)
and salt-and-pepper noise (a fraction ν set to the feature's minimum or maximum,
half each). Every function draws the fraction per example: exactly
``round(ν·d)`` features of each example are chosen, uniformly at random.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


def gaussian_noise(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """x_tilde = x + ε, ε ~ N(0, σ² I)."""
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + sigma * noise


def _choose(x: Tensor, fraction: float, generator: torch.Generator | None) -> Tensor:
    """A boolean mask (batch, d) with exactly round(fraction·d) True per row."""
    flat = x.reshape(x.shape[0], -1)
    d = flat.shape[1]
    n = int(round(fraction * d))
    keys = torch.rand(flat.shape, generator=generator, device=x.device)
    mask = torch.zeros_like(flat, dtype=torch.bool)
    if n > 0:
        mask.scatter_(1, keys.topk(n, dim=1).indices, True)
    return mask.reshape(x.shape)


def masking_noise(x: Tensor, fraction: float, generator: torch.Generator | None = None) -> Tensor:
    """Set a fraction ν of each example's features to 0."""
    return x.masked_fill(_choose(x, fraction, generator), 0.0)


def salt_pepper_noise(
    x: Tensor,
    fraction: float,
    low: Tensor | float,
    high: Tensor | float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Set a fraction ν of each example's features to their min (``low``) or max (``high``).

    ``low``/``high`` broadcast against one example (per-feature bounds). Each chosen
    feature becomes ``low`` or ``high`` with probability 1/2.
    """
    mask = _choose(x, fraction, generator)
    coin = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
    low = torch.as_tensor(low, dtype=x.dtype, device=x.device).expand_as(x)
    high = torch.as_tensor(high, dtype=x.dtype, device=x.device).expand_as(x)
    return torch.where(mask, torch.where(coin, high, low), x)


@dataclass(frozen=True)
class Corruption:
    """A corruption process as the denoising autoencoder applies it.

    ``apply(x, level, low, high)`` corrupts a batch ``(batch, d)`` at noise level
    ``level``; ``low``/``high`` are the per-feature training minimum and maximum (only
    salt-and-pepper reads them). ``max_level``: the largest level (1 for a fraction of
    the features; None for a standard deviation).
    """

    apply: Callable[[Tensor, float, Tensor, Tensor], Tensor]
    max_level: float | None


CORRUPTIONS: dict[str, Corruption] = {
    "gaussian": Corruption(lambda x, sigma, low, high: gaussian_noise(x, sigma), None),
    "masking": Corruption(lambda x, fraction, low, high: masking_noise(x, fraction), 1.0),
    "salt_pepper": Corruption(salt_pepper_noise, 1.0),
}
