"""Small distribution objects for stochastic encoders and decoders.

The posterior of a variational autoencoder, q(z|x) = N(mu, diag σ²), as an object with
``.sample() / .log_prob() / .kl() / .mode()`` (Kingma & Welling, ICLR 2014). The math
itself lives in :mod:`aelab.core.losses`; this only packages it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from aelab.core.losses import gaussian_kl, gaussian_log_prob


class DiagonalGaussian:
    """N(mu, diag e^logvar) over the last dimension; ``mu``/``logvar`` of shape (batch, d)."""

    def __init__(self, mu: Tensor, logvar: Tensor):
        self.mu, self.logvar = mu, logvar

    @classmethod
    def from_params(cls, params: Tensor) -> DiagonalGaussian:
        """Split a network output (batch, 2·d) into mean and log-variance halves."""
        mu, logvar = params.chunk(2, dim=1)
        return cls(mu, logvar)

    def repeat(self, k: int) -> DiagonalGaussian:
        """The same distribution for k copies of the batch, sample-major: (k·batch, d)."""
        if k == 1:
            return self
        return DiagonalGaussian(self.mu.repeat(k, 1), self.logvar.repeat(k, 1))

    def sample(self) -> Tensor:
        """z = mu + σ·ε, ε ~ N(0, I): reparameterised, so gradients reach mu and logvar."""
        return self.mu + torch.exp(0.5 * self.logvar) * torch.randn_like(self.mu)

    def mode(self) -> Tensor:
        return self.mu

    def log_prob(self, z: Tensor) -> Tensor:
        """log q(z), summed over dims, shape (batch,)."""
        return gaussian_log_prob(z, self.mu, self.logvar)

    def kl(self, other: DiagonalGaussian | None = None) -> Tensor:
        """KL(self || other) in closed form (other: N(0, I) by default), shape (batch,)."""
        if other is None:
            return gaussian_kl(self.mu, self.logvar)
        return gaussian_kl(self.mu, self.logvar, other.mu, other.logvar)
