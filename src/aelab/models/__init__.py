"""Every registered autoencoder. Importing this package registers them all."""

from aelab.models import aae, ae, contractive, denoising, sparse, vae, wae  # noqa: F401  (registration)
from aelab.models.base import Autoencoder, Phase
from aelab.models.registry import MODELS, get_model_class, list_models, register

__all__ = ["MODELS", "Autoencoder", "Phase", "get_model_class", "list_models", "register"]
