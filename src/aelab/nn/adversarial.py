"""Adversaries: the critics of adversarial models, the generator they judge, and the GAN
losses, written once for every model with a discriminator (AAE, WAE-GAN, GAN, VAE-GAN).

Goodfellow et al., *Generative Adversarial Nets*, NeurIPS 2014 (the discriminator's
cross-entropy and the non-saturating generator loss -log D(G(z))); Radford, Metz &
Chintala, *Unsupervised Representation Learning with Deep Convolutional GANs* (DCGAN),
ICLR 2016 (strided convolutions, no pooling; batch norm and ReLU in the generator, leaky
ReLU in the discriminator).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aelab.core.validation import check_size
from aelab.nn.backbones import _conv_sizes, feedforward
from aelab.nn.layers import make_activation


def critic_loss(real: Tensor, fake: Tensor) -> Tensor:
    """The discriminator's loss -log D(real) - log(1 - D(fake)) from logits.

    Each half is a mean over its own batch; the sum is minimised by the discriminator.
    """
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def generator_loss(fake: Tensor) -> Tensor:
    """The non-saturating generator loss -log D(fake) from logits, a mean over the batch."""
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


class LatentCritic(nn.Sequential):
    """D(z): an MLP from a code (optionally with a one-hot label slot) to one logit.

    The adversary of the adversarial and Wasserstein autoencoders: high for prior
    samples, low for the encoder's codes. A Sequential of the linear layers themselves,
    so that its weights are saved as ``<name>.0.weight``, ``<name>.2.weight``, ...

    Parameters
    ----------
    latent_dim : int
    hidden : tuple of int
        Hidden widths.
    n_slots : int, default=0
        Width of the one-hot label appended to the code (0: none).
    activation : str, default="leaky_relu"
    owner : str
        The model building it, for error messages.
    """

    def __init__(self, latent_dim: int, hidden: tuple[int, ...], n_slots: int = 0,
                 activation: str = "leaky_relu", owner: str = "the model"):
        super().__init__(*feedforward((latent_dim + n_slots, *hidden, 1), activation, owner))
        self.n_slots = n_slots

    def forward(self, z: Tensor, slot: Tensor | None = None) -> Tensor:
        """Logits, shape ``(batch,)``; ``slot``: label slots ``(batch,)`` if ``n_slots``."""
        if self.n_slots:
            z = torch.cat([z, F.one_hot(slot, self.n_slots).to(z.dtype)], dim=1)
        return super().forward(z).squeeze(1)


class Critic(nn.Module):
    """D(x): a discriminator on data, whose hidden layers also serve as learned features.

    Images ``input_shape=(C, H, W)``: one 3×3 stride-2 convolution and a leaky ReLU per
    entry of ``hidden`` (its channels: 28 → 14 → 7 for two), then a linear map to one
    logit (DCGAN's discriminator, without batch norm, so that a feature of an example
    never depends on the rest of its batch). Other shapes: an MLP with these widths.

    Parameters
    ----------
    input_shape : tuple of int
    hidden : tuple of int
        Channels (images) or widths (vectors), from the input side.
    owner : str
        The model building it, for error messages.
    """

    def __init__(self, input_shape: tuple[int, ...], hidden: tuple[int, ...],
                 owner: str = "the model"):
        super().__init__()
        if not hidden:
            raise ValueError(f"The critic of {owner} needs at least one hidden layer; got "
                             "disc_hidden=(). Pass e.g. disc_hidden=(64, 128).")
        blocks: list[nn.Module] = []
        if len(input_shape) == 3:
            c, h, w = input_shape
            hs, ws = _conv_sizes(h, len(hidden)), _conv_sizes(w, len(hidden))
            chans = (c, *hidden)
            check_size(sum(9 * a * b for a, b in zip(chans[:-1], chans[1:])), "its critic", owner)
            for a, b in zip(chans[:-1], chans[1:]):
                blocks.append(nn.Sequential(nn.Conv2d(a, b, 3, stride=2, padding=1),
                                            nn.LeakyReLU(0.2)))
            flat = chans[-1] * hs[-1] * ws[-1]
        else:
            widths = (math.prod(input_shape), *hidden)
            check_size(sum(a * b for a, b in zip(widths[:-1], widths[1:])), "its critic", owner)
            blocks.append(nn.Sequential(nn.Flatten(), nn.Linear(widths[0], widths[1]),
                                        nn.LeakyReLU(0.2)))
            for a, b in zip(widths[1:-1], widths[2:]):
                blocks.append(nn.Sequential(nn.Linear(a, b), nn.LeakyReLU(0.2)))
            flat = widths[-1]
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(flat, 1))

    def features(self, x: Tensor) -> list[Tensor]:
        """Each hidden layer's output for a batch ``(n, *input_shape)``, input side first."""
        maps = []
        for block in self.blocks:
            x = block(x)
            maps.append(x)
        return maps

    def forward(self, x: Tensor) -> Tensor:
        """Logits, shape ``(batch,)``: high for data, low for generated examples."""
        return self.head(self.features(x)[-1]).squeeze(1)


def generator_network(latent_dim: int, input_shape: tuple[int, ...], hidden: tuple[int, ...],
                      output_activation: str = "sigmoid", owner: str = "the model") -> nn.Sequential:
    """G(z): codes ``(n, latent_dim)`` → examples ``(n, *input_shape)``.

    Images: DCGAN's generator — a linear map to the smallest feature map, then per entry
    of ``hidden`` (channels, read from the data side as in :class:`Critic`) a nearest
    upsampling to the next size and a 3×3 convolution (the resize-convolution of Odena,
    Dumoulin & Olah, *Deconvolution and Checkerboard Artifacts*, Distill 2016, in place of
    DCGAN's transposed convolutions, which leave checkerboards; it lands on any image
    size: 7 → 14 → 28), batch norm and ReLU between them. Other shapes: an MLP through
    ``reversed(hidden)`` with batch norm and ReLU.
    """
    if not hidden:
        raise ValueError(f"The generator of {owner} needs at least one hidden layer; got hidden=(). "
                         "Pass e.g. hidden=(64, 128).")
    act = make_activation(output_activation, owner, "output_activation")
    if len(input_shape) != 3:
        widths = (latent_dim, *reversed(hidden))
        check_size(sum(a * b for a, b in zip(widths, (*widths[1:], math.prod(input_shape)))),
                   "its generator", owner)
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(widths[-1], math.prod(input_shape)), act,
                             nn.Unflatten(1, input_shape))
    c, h, w = input_shape
    hs, ws = _conv_sizes(h, len(hidden)), _conv_sizes(w, len(hidden))
    chans = (c, *hidden)
    flat = chans[-1] * hs[-1] * ws[-1]
    check_size(latent_dim * flat + sum(9 * a * b for a, b in zip(chans[:-1], chans[1:])),
               "its generator", owner)
    layers = [nn.Linear(latent_dim, flat), nn.BatchNorm1d(flat), nn.ReLU(),
              nn.Unflatten(1, (chans[-1], hs[-1], ws[-1]))]
    for i in reversed(range(len(hidden))):
        layers += [nn.Upsample(size=(hs[i], ws[i]), mode="nearest"),
                   nn.Conv2d(chans[i + 1], chans[i], 3, padding=1)]
        if i > 0:
            layers += [nn.BatchNorm2d(chans[i]), nn.ReLU()]
    return nn.Sequential(*layers, act)
