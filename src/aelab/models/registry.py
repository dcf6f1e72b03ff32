"""The model registry: names → classes, and :func:`create`. Variants register themselves
when their module is imported (``aelab.models`` imports every module of its package)."""

from __future__ import annotations

import difflib

from aelab.core.seeding import seeded
from aelab.core.validation import check_unknown_options

MODELS: dict[str, type] = {}
# Saved kinds that are not autoencoders (e.g. the fine-tuned classifier): ``aelab.load``
# reads them back, but ``create``/``list_models`` offer only the autoencoders.
SAVED_KINDS: dict[str, type] = {}


def _claim(name: str, cls: type, table: dict[str, type]) -> type:
    """Put ``cls`` in ``table`` under ``name``: one class per name across both registries,
    so that ``aelab.load`` can never read a saved file back as the wrong kind."""
    taken = MODELS.get(name, SAVED_KINDS.get(name))
    if taken is not None and taken is not cls:
        raise ValueError(f"A model named {name!r} is already registered ({taken}); choose "
                         "another name.")
    cls.name = name
    table[name] = cls
    return cls


def register(name: str):
    """Class decorator: register an autoencoder class under ``name``."""
    return lambda cls: _claim(name, cls, MODELS)


def register_saved_kind(name: str):
    """Class decorator: let ``aelab.load`` rebuild a saved non-autoencoder module ``name``."""
    return lambda cls: _claim(name, cls, SAVED_KINDS)


def get_saved_class(name: str) -> type:
    """The class that rebuilds a saved model called ``name`` (autoencoder or other kind)."""
    if isinstance(name, str) and name in SAVED_KINDS:
        return SAVED_KINDS[name]
    return get_model_class(name)


def get_model_class(name: str) -> type:
    """Return the class registered under ``name`` or raise a ValueError listing the options."""
    if isinstance(name, str) and name in MODELS:
        return MODELS[name]
    close = difflib.get_close_matches(str(name), MODELS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown model {name!r}.{hint} Available models: {sorted(MODELS)} "
        "(see aelab.list_models())."
    )


def list_models(**capabilities) -> list[str]:
    """Names of every registered model, sorted; those with the given capabilities only.

    >>> import aelab
    >>> aelab.list_models(can_sample=True)
    ['aae', 'pixel_vae', 'ssvae', 'vae', 'vae_gan', 'wae']
    """
    return sorted(name for name, cls in MODELS.items()
                  if all(getattr(cls, cap, None) == want for cap, want in capabilities.items()))


def create(name: str, seed: int | None = None, **config):
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
