"""Encoder/decoder backbones, registered by name and shared by every model.

A backbone builder returns an ``(encoder, decoder)`` pair: the encoder maps a batch
``(n, *input_shape)`` to ``(n, encoder_out)``; the decoder maps ``(n, decoder_in)``
back to ``(n, *input_shape)`` (raw outputs: means or logits, per the likelihood).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from aelab.nn.layers import TiedLinear, make_activation


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


BACKBONES: dict[str, Callable[[Backbone], tuple[nn.Module, nn.Module]]] = {}


def register_backbone(name: str):
    """Decorator: register a backbone builder under ``name``."""

    def deco(fn):
        BACKBONES[name] = fn
        return fn

    return deco


@register_backbone("mlp")
def mlp(spec: Backbone) -> tuple[nn.Module, nn.Module]:
    """Fully connected encoder/decoder; the decoder mirrors the encoder's widths."""
    d = math.prod(spec.input_shape)
    widths = (d, *spec.hidden)
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
    if spec.tied:
        if spec.encoder_out != spec.decoder_in:
            raise ValueError(
                f"tied=True needs the decoder to read the encoder's output; {spec.owner} has "
                f"encoder_out={spec.encoder_out} but decoder_in={spec.decoder_in}. "
                "Use tied=False for this model."
            )
        for i, lin in enumerate(reversed(linears)):
            dec.append(TiedLinear(lin))
            if i < len(linears) - 1:
                dec.append(make_activation(spec.activation, spec.owner))
    else:
        back = (spec.decoder_in, *reversed(widths))
        for i, (w_in, w_out) in enumerate(zip(back[:-1], back[1:])):
            dec.append(nn.Linear(w_in, w_out))
            if i < len(back) - 2:
                dec.append(make_activation(spec.activation, spec.owner))
    dec.append(nn.Unflatten(1, spec.input_shape))
    return nn.Sequential(*enc), nn.Sequential(*dec)
