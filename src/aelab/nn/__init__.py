"""Building blocks: layers, preprocessing and encoder/decoder backbones."""

from aelab.nn.backbones import BACKBONES, Backbone, Layers, feedforward, register_backbone
from aelab.nn.layers import (
    ACTIVATIONS,
    GaussianMean,
    Scaler,
    TiedConvTranspose2d,
    TiedLinear,
    TopK,
    evaluating,
    make_activation,
)
from aelab.nn.priors import PRIORS, Prior

__all__ = [
    "ACTIVATIONS",
    "BACKBONES",
    "GaussianMean",
    "Backbone",
    "Layers",
    "PRIORS",
    "Prior",
    "Scaler",
    "TiedConvTranspose2d",
    "TiedLinear",
    "TopK",
    "evaluating",
    "feedforward",
    "make_activation",
    "register_backbone",
]
