"""Building blocks: layers, preprocessing and encoder/decoder backbones."""

from aelab.nn.backbones import BACKBONES, Backbone, feedforward, register_backbone
from aelab.nn.layers import ACTIVATIONS, Scaler, TiedConvTranspose2d, TiedLinear, TopK, make_activation
from aelab.nn.priors import PRIORS, Prior

__all__ = [
    "ACTIVATIONS",
    "BACKBONES",
    "Backbone",
    "PRIORS",
    "Prior",
    "Scaler",
    "TiedConvTranspose2d",
    "TiedLinear",
    "TopK",
    "feedforward",
    "make_activation",
    "register_backbone",
]
