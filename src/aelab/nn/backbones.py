"""Encoder/decoder backbones, registered by name and shared by every model.

A backbone builder returns an ``(encoder, decoder)`` pair: the encoder maps a batch
``(n, *input_shape)`` to ``(n, encoder_out)``; the decoder maps ``(n, decoder_in)``
back to ``(n, *input_shape)`` (raw outputs: means or logits, per the likelihood).
``mlp`` reads ``hidden`` as layer widths; ``conv`` as the channels of stride-2
convolutions (Masci et al., *Stacked Convolutional Auto-Encoders*, ICANN 2011).
With ``label_dim > 0`` the encoder also reads a one-hot label beside x, q(z | x, y)
(Sohn, Lee & Yan, *Learning Structured Output Representation using Deep Conditional
Generative Models*, NeurIPS 2015; Kingma et al., *Semi-supervised Learning with Deep
Generative Models*, NeurIPS 2014, model M2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from aelab.core.validation import check_size
from aelab.nn.layers import TiedConvTranspose2d, TiedLinear, make_activation


@dataclass(frozen=True)
class Backbone:
    """What a model asks of a backbone builder."""

    input_shape: tuple[int, ...]
    hidden: tuple[int, ...]  # widths from the input side, e.g. (1000, 500, 250)
    encoder_out: int  # width of the encoder's last layer (2·latent for a Gaussian encoder)
    decoder_in: int  # width of the code the decoder reads
    activation: str = "relu"
    code_activation: str = "linear"
    tied: bool = False
    owner: str = "the model"
    label_dim: int = 0  # width of a vector the encoder reads beside x: a one-hot label, a mask (0: none)


class Layers(nn.Sequential):
    """One half of a backbone: a Sequential that knows its own weight layers.

    ``affine`` lists the layers that hold the half's weights (linear, convolutional or
    tied), input side first, so that code outside the backbone (unrolling a stack,
    closed-form penalties) never has to guess them by walking module types.

    With ``label_dim > 0`` the layers also read a one-hot label: ``label_weight``
    (label_dim, width) adds the label's own bias to every unit (channel) of the first
    weight layer, which is the same as that layer reading the label beside its input.
    """

    def __init__(self, modules: list[nn.Module], affine: list[nn.Module], label_dim: int = 0):
        super().__init__(*modules)
        self._affine = tuple(affine)  # a tuple: already registered above, not twice
        if label_dim:
            first = self._affine[0].weight  # (width, fan-in...) of a linear or conv layer
            bound = 1.0 / math.sqrt(first[0].numel() + label_dim)  # as if the label were input
            self.label_weight = nn.Parameter(torch.empty(label_dim, first.shape[0]).uniform_(-bound, bound))

    def forward(self, x: Tensor, label: Tensor | None = None) -> Tensor:
        """Run the layers; ``label`` (n, label_dim), a one-hot label or any vector read beside
        ``x`` (an observation mask), enters at the first weight layer."""
        first = self._affine[0] if label is not None else None
        for module in self:
            x = module(x)
            if module is first:  # the label's bias per unit, or per channel of a feature map
                bias = label @ self.label_weight
                x = x + bias.reshape(*bias.shape, *[1] * (x.dim() - 2))
        return x

    def affine_maps(self) -> list[nn.Module]:
        """The weight layers, input side first."""
        return list(self._affine)

    def extended(self, modules: list[nn.Module]) -> Layers:
        """These layers followed by ``modules`` (no weights of their own, e.g. top-k)."""
        layers = Layers([*self, *modules], list(self._affine))
        if hasattr(self, "label_weight"):
            layers.label_weight = self.label_weight
        return layers


BACKBONES: dict[str, Callable[[Backbone], tuple[Layers, Layers]]] = {}


def register_backbone(name: str):
    """Decorator: register a backbone builder under ``name``."""

    def deco(fn):
        BACKBONES[name] = fn
        return fn

    return deco


@register_backbone("mlp")
def mlp(spec: Backbone) -> tuple[Layers, Layers]:
    """Fully connected encoder/decoder; the decoder mirrors the encoder's widths."""
    d = math.prod(spec.input_shape)
    widths = (d, *spec.hidden)
    _check_widths((*widths, spec.encoder_out), spec.owner, "its encoder")
    _check_widths((spec.decoder_in, *reversed(widths)), spec.owner, "its decoder")
    enc: list[nn.Module] = [nn.Flatten()]
    linears = []
    for w_in, w_out in zip(widths[:-1], widths[1:]):
        lin = nn.Linear(w_in, w_out)
        linears.append(lin)
        enc += [lin, make_activation(spec.activation, spec.owner)]
    code = nn.Linear(widths[-1], spec.encoder_out)
    linears.append(code)
    enc += [code, make_activation(spec.code_activation, spec.owner, "code_activation")]

    dec: list[nn.Module] = []
    dec_affine: list[nn.Module] = []
    if spec.tied:
        if spec.encoder_out != spec.decoder_in:
            raise ValueError(
                f"tied=True needs the decoder to read the encoder's output; {spec.owner} has "
                f"encoder_out={spec.encoder_out} but decoder_in={spec.decoder_in}. "
                "Use tied=False for this model."
            )
        for i, lin in enumerate(reversed(linears)):
            dec_affine.append(TiedLinear(lin))
            dec.append(dec_affine[-1])
            if i < len(linears) - 1:
                dec.append(make_activation(spec.activation, spec.owner))
    else:
        back = (spec.decoder_in, *reversed(widths))
        for i, (w_in, w_out) in enumerate(zip(back[:-1], back[1:])):
            dec_affine.append(nn.Linear(w_in, w_out))
            dec.append(dec_affine[-1])
            if i < len(back) - 2:
                dec.append(make_activation(spec.activation, spec.owner))
    dec.append(nn.Unflatten(1, spec.input_shape))
    return Layers(enc, linears, spec.label_dim), Layers(dec, dec_affine)


def feedforward(widths: tuple[int, ...], activation: str, owner: str = "the model") -> nn.Sequential:
    """Linear layers through ``widths`` with ``activation`` between them (none after the last)."""
    _check_widths(widths, owner, f"a {'-'.join(map(str, widths))} network")
    layers: list[nn.Module] = []
    for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(w_in, w_out))
        if i < len(widths) - 2:
            layers.append(make_activation(activation, owner))
    return nn.Sequential(*layers)


def _check_widths(widths: tuple[int, ...], owner: str, what: str) -> None:
    """Refuse a stack of linear layers that would not fit in memory, before building it."""
    check_size(sum(a * b + b for a, b in zip(widths[:-1], widths[1:])), what, owner)


def _conv_sizes(size: int, n: int) -> list[int]:
    """Spatial sizes through n stride-2 convolutions (kernel 3, padding 1): ceil(s / 2)."""
    sizes = [size]
    for _ in range(n):
        sizes.append((sizes[-1] - 1) // 2 + 1)
    return sizes


@register_backbone("conv")
def conv(spec: Backbone) -> tuple[Layers, Layers]:
    """Convolutional encoder/decoder for images ``input_shape=(C, H, W)``.

    Encoder: one 3×3 stride-2 convolution per entry of ``hidden`` (its channels), then a
    linear map to the code. Decoder: the mirror image, with transposed convolutions
    whose output padding restores the exact input size. ``tied=True`` reuses the
    encoder's kernels in the transposed convolutions.
    """
    if len(spec.input_shape) != 3:
        raise ValueError(
            f"backbone='conv' needs input_shape=(channels, height, width), e.g. (1, 28, 28); "
            f"{spec.owner} got input_shape={spec.input_shape}."
        )
    if not spec.hidden:
        raise ValueError(f"backbone='conv' needs at least one channel width in hidden, e.g. (32, 64); "
                         f"{spec.owner} got hidden=().")
    c, h, w = spec.input_shape
    hs, ws = _conv_sizes(h, len(spec.hidden)), _conv_sizes(w, len(spec.hidden))
    chans = (c, *spec.hidden)
    flat = chans[-1] * hs[-1] * ws[-1]
    kernels = sum(9 * a * b for a, b in zip(chans[:-1], chans[1:]))
    check_size(kernels + flat * max(spec.encoder_out, spec.decoder_in), "its weights", spec.owner)
    convs = [nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip(chans[:-1], chans[1:])]
    enc: list[nn.Module] = []
    for layer in convs:
        enc += [layer, make_activation(spec.activation, spec.owner)]
    code = nn.Linear(flat, spec.encoder_out)
    enc += [nn.Flatten(), code, make_activation(spec.code_activation, spec.owner, "code_activation")]

    if spec.tied and spec.encoder_out != spec.decoder_in:
        raise ValueError(
            f"tied=True needs the decoder to read the encoder's output; {spec.owner} has "
            f"encoder_out={spec.encoder_out} but decoder_in={spec.decoder_in}. Use tied=False."
        )
    first = TiedLinear(code) if spec.tied else nn.Linear(spec.decoder_in, flat)
    dec: list[nn.Module] = [first, make_activation(spec.activation, spec.owner),
                            nn.Unflatten(1, (chans[-1], hs[-1], ws[-1]))]
    dec_affine: list[nn.Module] = [first]
    for i in reversed(range(len(convs))):
        # Output padding makes the transposed convolution land on the encoder's input size.
        pad = (hs[i] - (2 * hs[i + 1] - 1), ws[i] - (2 * ws[i + 1] - 1))
        if spec.tied:
            dec_affine.append(TiedConvTranspose2d(convs[i], output_padding=pad))
        else:
            dec_affine.append(nn.ConvTranspose2d(chans[i + 1], chans[i], 3, stride=2, padding=1,
                                                 output_padding=pad))
        dec.append(dec_affine[-1])
        if i > 0:
            dec.append(make_activation(spec.activation, spec.owner))
    return Layers(enc, [*convs, code], spec.label_dim), Layers(dec, dec_affine)
