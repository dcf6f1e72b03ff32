"""Building blocks: layers, preprocessing and encoder/decoder backbones."""

from aelab.nn.backbones import BACKBONES, Backbone, register_backbone
from aelab.nn.layers import ACTIVATIONS, Scaler, TiedLinear, TopK, make_activation

__all__ = [
    "ACTIVATIONS",
    "BACKBONES",
    "Backbone",
    "Scaler",
    "TiedLinear",
    "TopK",
    "make_activation",
    "register_backbone",
]
