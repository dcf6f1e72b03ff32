"""aelab: the autoencoder family, working, fast, correct and measured.

This module only re-exports the public API; every name is defined on one floor below
(see CONTRIBUTING.md for the floors).

>>> import aelab
>>> ds = aelab.data.load("digits")
>>> model = aelab.create("denoising", input_shape=64, latent_dim=16, corruption="masking", seed=0)
>>> result = aelab.train(model, ds.X_train, epochs=3, validation_split=0.1)
>>> model.reconstruct(ds.X_test).shape
(360, 64)
"""

from aelab import data
from aelab.applications.evaluation import log_likelihood
from aelab.applications.pretraining import StackResult, greedy_pretrain
from aelab.applications.probes import ProbeResult, knn_probe, linear_probe
from aelab.applications.semi_supervised import train_semi_supervised
from aelab.core.version import __version__
from aelab.models import (
    MODELS,
    Autoencoder,
    Classifier,
    Phase,
    Trainable,
    create,
    get_model_class,
    list_models,
)
from aelab.models.persistence import load_model as load
from aelab.training import NonFiniteLossError, TrainResult, train

__all__ = [
    "MODELS",
    "Autoencoder",
    "Classifier",
    "NonFiniteLossError",
    "Phase",
    "ProbeResult",
    "StackResult",
    "TrainResult",
    "Trainable",
    "__version__",
    "create",
    "data",
    "get_model_class",
    "greedy_pretrain",
    "knn_probe",
    "linear_probe",
    "list_models",
    "load",
    "log_likelihood",
    "train",
    "train_semi_supervised",
]
