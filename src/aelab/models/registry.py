"""The model registry: names → classes. Variants register themselves on import."""

from __future__ import annotations

import difflib

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


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    return sorted(MODELS)
