"""A generative adversarial network: the baseline the autoencoders' samples are compared with.

Goodfellow et al., *Generative Adversarial Nets*, NeurIPS 2014, with the non-saturating
generator loss; DCGAN's convolutional generator and discriminator for images (Radford,
Metz & Chintala, ICLR 2016). Each batch runs two phases through the one trainer: the
discriminator, then the generator. No encoder, so not an autoencoder and not in the
``MODELS`` registry; ``aelab.load`` (or :meth:`GAN.load`) reads it back.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from aelab.core.seeding import seeded
from aelab.core.validation import check_choice, check_number, check_shape, check_widths
from aelab.models.contract import Phase
from aelab.models.module import Model
from aelab.models.registry import register_saved_kind
from aelab.nn.adversarial import Critic, critic_loss, generator_loss, generator_network
from aelab.nn.layers import ACTIVATIONS, Scaler, evaluating
from aelab.nn.priors import GaussianPrior


@register_saved_kind("gan")
class GAN(Model):
    """Generator G(z), z ~ N(0, I), and discriminator D(x), trained against each other.

    The discriminator minimises ``disc`` = -log D(x) - log(1 - D(G(z))); the generator
    ``gen`` = -log D(G(z)). Each phase's Adam takes DCGAN's β1 = 0.5: with the trainer's
    default 0.9 the discriminator overwhelmed the generator on MNIST (3 epochs of 8,000
    images at ``lr=2e-4``, DCGAN's rate: Fréchet distance 1254 against 775). Both phases
    are adversarial (``monitor=False``): a GAN has no loss that says how good it is, so
    training reports no ``train/loss`` and cannot stop early; judge its samples instead
    (e.g. :mod:`aelab.applications.sample_quality`).

    Parameters
    ----------
    input_shape : int or tuple of int
        ``(C, H, W)`` images get DCGAN's convolutional networks (any size, e.g.
        ``(1, 28, 28)``); other shapes get MLPs.
    latent_dim : int, default=32
        Width of z.
    hidden : tuple of int, default=(64, 128)
        Channels (images) or widths (vectors) from the data side, shared by both players:
        the discriminator runs through them, the generator back.
    disc_hidden : tuple of int, optional
        The discriminator's own widths (default: ``hidden``).
    output_activation : str, default="sigmoid"
        Applied to the generator's output, in the scaled space (see ``preprocess``).
    preprocess : {"auto", "none", "standard", "minmax", "robust"}, default="auto"
        Per-feature scaling fitted on the training data; ``auto``: none for data in
        [0, 1], else ``minmax``, so that a sigmoid output can reach every value.
    disc_lr_scale : float, default=1.0
        The discriminator's learning rate relative to the trainer's.

    Examples
    --------
    >>> import aelab, numpy as np
    >>> from aelab.models.gan import GAN
    >>> gan = GAN(input_shape=2, latent_dim=2, hidden=(16,))
    >>> x = np.random.default_rng(0).normal(size=(256, 2)).astype(np.float32)
    >>> _ = aelab.train(gan, x, epochs=2, device="cpu")
    >>> gan.sample(5, seed=0).shape
    (5, 2)
    """

    can_sample = True

    def __init__(self, input_shape, latent_dim: int = 32, hidden=(64, 128), disc_hidden=None,
                 output_activation: str = "sigmoid", preprocess: str = "auto",
                 disc_lr_scale: float = 1.0):
        super().__init__()
        owner = type(self).__name__
        self.input_shape = check_shape(input_shape, "input_shape", owner)
        self.latent_dim = check_number(latent_dim, "latent_dim", owner, kind=int, low=1)
        self.hidden = check_widths(hidden, "hidden", owner, allow_empty=False)
        self.disc_hidden = (None if disc_hidden is None
                            else check_widths(disc_hidden, "disc_hidden", owner, allow_empty=False))
        self.output_activation = check_choice(output_activation, ACTIVATIONS, "output_activation",
                                              owner)
        self.preprocess = check_choice(preprocess, Scaler.KINDS, "preprocess", owner)
        self.disc_lr_scale = check_number(disc_lr_scale, "disc_lr_scale", owner, low=0.0,
                                          low_inclusive=False)
        self.n_features = math.prod(self.input_shape)
        self.generator = generator_network(self.latent_dim, self.input_shape, self.hidden,
                                           self.output_activation, owner)
        self.discriminator = Critic(self.input_shape, self.disc_hidden or self.hidden, owner)
        self.scaler = Scaler(self.n_features, preprocess, auto_kind="minmax", owner=owner)
        self.prior_dist = GaussianPrior(self.latent_dim)

    # ------------------------------------------------------------------ the two players
    def generate(self, n: int) -> Tensor:
        """``n`` examples G(z), z ~ N(0, I) from the global RNG, in the scaled space."""
        return self.generator(self.prior_dist.sample(n, None, device=self.device))

    def discriminator_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """``disc``: the discriminator's cross-entropy, a raw batch against as many samples."""
        with torch.no_grad():
            fake = self.generate(x.shape[0])
        return {"disc": critic_loss(self.discriminator(self.scaler(x)), self.discriminator(fake))}

    def generator_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        """``gen``: -log D(G(z)) for as many samples as the batch holds."""
        return {"gen": generator_loss(self.discriminator(self.generate(x.shape[0])))}

    # ------------------------------------------------------------------ what the trainer calls
    def training_phases(self) -> list[Phase]:
        """Discriminator then generator, both adversarial (not monitored), with DCGAN's
        Adam β1 = 0.5 (``momentum``)."""
        return [
            Phase("discriminator", list(self.discriminator.parameters()), self.discriminator_terms,
                  lr_scale=self.disc_lr_scale, momentum=0.5, monitor=False),
            Phase("generator", list(self.generator.parameters()), self.generator_terms,
                  momentum=0.5, monitor=False),
        ]

    def prepare_training(self, batches) -> None:
        """Fit the input scaling on the training data, unless it is fitted."""
        if not self.scaler.is_fitted:
            self.scaler.fit(batches)

    def on_epoch_start(self, epoch: int) -> None:
        """Nothing changes with the epoch (the trainer calls this before each one)."""

    # ------------------------------------------------------------------ public API
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """Draw ``n`` new examples G(z), z ~ N(0, I), in data space.

        Parameters
        ----------
        n : int
        seed : int, optional
            Seeds the draw (the global RNG is left as it was); the same seed gives the
            same samples.

        Returns
        -------
        ndarray of shape (n, *input_shape)
        """
        n = check_number(n, "n", f"{type(self).__name__}.sample", kind=int, low=1)
        with seeded(seed, self.device), evaluating(self):
            x = self.generate(n)
        return self.scaler.inverse(x).cpu().numpy()
