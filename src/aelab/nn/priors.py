"""Priors p(z) that generative autoencoders match their codes to and sample from.

Makhzani et al., *Adversarial Autoencoders* (2015), §2 and §5: a standard Gaussian, a
mixture of 10 Gaussians (optionally with the component chosen by the example's label,
for semi-supervised use) and a uniform distribution. Each prior draws ``(n, dim)``
samples from torch's global RNG (the trainer and ``model.sample(seed=...)`` seed it).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from aelab.core.losses import gaussian_log_prob
from aelab.core.validation import check_size


class Prior:
    """A distribution over codes of width ``dim``; ``scale`` sets its spread."""

    n_components = 0  # > 0: samples can be tied to a component (label-assigned prior)

    def __init__(self, dim: int, scale: float = 1.0, n_components: int = 10):
        self.dim, self.scale = dim, scale

    def sample(self, n: int, y: Tensor | None = None, device: torch.device | str = "cpu") -> Tensor:
        """``n`` samples, shape (n, dim). ``y`` (n,) picks mixture components (-1: any)."""
        raise NotImplementedError


class GaussianPrior(Prior):
    """N(0, scale² I)."""

    def sample(self, n, y=None, device="cpu"):
        return self.scale * torch.randn(n, self.dim, device=device)

    def log_prob(self, z: Tensor) -> Tensor:
        """log p(z), summed over dims, shape (batch,)."""
        return gaussian_log_prob(z, 0.0, 2.0 * math.log(self.scale))


class UniformPrior(Prior):
    """U(-scale, scale) in every dimension."""

    def sample(self, n, y=None, device="cpu"):
        u = torch.rand(n, self.dim, device=device)
        return self.scale * (2.0 * u - 1.0)


class MixturePrior(Prior):
    """Equal-weight mixture of ``n_components`` Gaussians on a circle of radius ``scale``.

    The means lie evenly on the circle in the first two code dimensions (zero in the
    others), as in Makhzani et al.'s 2-D figures; each component's std is a sixth of
    the distance between neighbouring means, so components barely overlap. With labels
    ``y``, example i is drawn from component ``y_i`` (label-assigned prior); ``-1``
    means unlabelled and draws a component at random.
    """

    def __init__(self, dim: int, scale: float = 1.0, n_components: int = 10):
        super().__init__(dim, scale)
        if dim < 2:
            raise ValueError(f"The mixture prior needs latent_dim >= 2; got {dim}. Use prior='gaussian'.")
        check_size(n_components * dim, "the mixture prior's means", "MixturePrior")
        self.n_components = n_components
        angles = 2.0 * math.pi * torch.arange(n_components) / n_components
        self.means = torch.zeros(n_components, dim)
        self.means[:, 0], self.means[:, 1] = scale * torch.cos(angles), scale * torch.sin(angles)
        self.std = scale * math.sin(math.pi / n_components) / 3.0 if n_components > 1 else scale

    def sample(self, n, y=None, device="cpu"):
        comp = torch.randint(self.n_components, (n,), device=device)
        if y is not None:
            y = y.to(device)
            comp = torch.where(y >= 0, y, comp)
        noise = torch.randn(n, self.dim, device=device)
        return self.means.to(device)[comp] + self.std * noise


PRIORS: dict[str, Callable[..., Prior]] = {
    "gaussian": GaussianPrior,
    "mixture": MixturePrior,
    "uniform": UniformPrior,
}
