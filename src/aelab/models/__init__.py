"""Models: the registry, the autoencoder and one small file per variant.

Importing this package imports every module in it, so a new model is one new file whose
class carries ``@register(name)``: nothing else lists the models.
"""

import importlib
import pkgutil

from aelab.models.base import Autoencoder
from aelab.models.classifier import Classifier
from aelab.models.contract import Phase, Trainable
from aelab.models.module import Model
from aelab.models.registry import MODELS, create, get_model_class, list_models, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["MODELS", "Autoencoder", "Classifier", "Model", "Phase", "Trainable", "create",
           "get_model_class", "list_models", "register"]
