"""aelab: the autoencoder family, working, fast, correct and measured.

>>> import aelab
>>> ds = aelab.data.load("digits")
>>> model = aelab.create("denoising", input_shape=64, latent_dim=16, corruption="masking", seed=0)
>>> result = aelab.train(model, ds.X_train, epochs=3, validation_split=0.1)
>>> model.reconstruct(ds.X_test).shape
(360, 64)
"""

__version__ = "0.1.0"

from aelab import data
from aelab.applications.probes import ProbeResult, knn_probe, linear_probe
from aelab.evaluation import log_likelihood
from aelab.models import MODELS, Autoencoder, Phase, get_model_class, list_models
from aelab.models.classifier import Classifier
from aelab.persistence import load_model as load
from aelab.seeding import seeded
from aelab.training import NonFiniteLossError, TrainResult, train
from aelab.training.stacking import StackResult, greedy_pretrain
from aelab.validation import check_unknown_options


def create(name: str, seed: int | None = None, **config) -> Autoencoder:
    """Build a registered model from its config.

    Parameters
    ----------
    name : str
        A name from :func:`list_models`.
    seed : int, optional
        Seed for the weight initialisation (the global RNG is left as it was).
    **config
        The model's constructor arguments, e.g. ``input_shape=784, latent_dim=30``.

    Examples
    --------
    >>> import aelab
    >>> aelab.create("sparse", input_shape=64, latent_dim=128, penalty="kl", rho=0.05).name
    'sparse'
    """
    cls = get_model_class(name)
    check_unknown_options(config, cls.config_keys(), f"Model {name!r}")
    if "input_shape" not in config:
        raise TypeError(
            f"Model {name!r} needs input_shape: the number of features (e.g. input_shape=64) "
            "or the shape of one example (e.g. input_shape=(1, 28, 28))."
        )
    with seeded(seed):
        return cls(**config)


__all__ = [
    "MODELS",
    "Autoencoder",
    "NonFiniteLossError",
    "Phase",
    "TrainResult",
    "__version__",
    "create",
    "data",
    "list_models",
    "load",
    "log_likelihood",
    "train",
    "Classifier",
    "ProbeResult",
    "StackResult",
    "greedy_pretrain",
    "knn_probe",
    "linear_probe",
]
