"""What every saved, trainable aelab model shares, whatever it computes: its config read
off its constructor, its device, input checks, batched inference and saving.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from aelab.core.validation import as_float_array
from aelab.models.persistence import load_model, save_model
from aelab.nn.layers import evaluating


class Model(nn.Module):
    """Base of autoencoders and of the classifier.

    A subclass stores every constructor argument under its own name (as scikit-learn's
    estimators do), so that :meth:`get_config` rebuilds it and :func:`aelab.load` can
    read it back from ``config.json`` + ``model.safetensors``.
    """

    name = "model"  # set by the registry
    input_shape: tuple[int, ...]

    # ------------------------------------------------------------------ config
    @classmethod
    def init_parameters(cls) -> dict[str, inspect.Parameter]:
        """Every constructor keyword across the class and its bases, base first.

        A subclass that re-declares a keyword keeps the base's position and gives its own
        default.
        """
        params: dict[str, inspect.Parameter] = {}
        for klass in reversed(cls.__mro__):
            if "__init__" not in vars(klass) or not issubclass(klass, Model):
                continue
            for p in inspect.signature(klass.__init__).parameters.values():
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    params[p.name] = p
        return params

    @classmethod
    def config_keys(cls) -> set[str]:
        """Every keyword this model's constructor accepts (across its bases)."""
        return set(cls.init_parameters())

    def get_config(self) -> dict:
        """Constructor keyword arguments (the model's config), JSON-ready."""
        return {name: _jsonable(getattr(self, name)) for name in self.init_parameters()}

    @classmethod
    def completed_config(cls, config: dict) -> dict:
        """``config`` as this version writes it: a keyword it lacks (an option added since it
        was written) reads as that keyword's default, so it still builds and compares equal."""
        filled = dict(config)
        for name, p in cls.init_parameters().items():
            if name not in filled and p.default is not p.empty:
                filled[name] = _jsonable(p.default)
        return filled

    # ------------------------------------------------------------------ inputs and batches
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def as_input(self, data, shape=None, what: str = "input") -> Tensor:
        """Validate user data against ``shape`` (default: the input shape) as a float tensor."""
        shape = self.input_shape if shape is None else tuple(shape)
        arr = as_float_array(data, name="X")
        t = arr if isinstance(arr, torch.Tensor) else torch.from_numpy(arr)
        n = t.shape[0]
        if tuple(t.shape[1:]) != shape:
            if math.prod(t.shape[1:]) == math.prod(shape):
                t = t.reshape(n, *shape)
            else:
                raise ValueError(
                    f"X has {math.prod(t.shape[1:])} features per example (shape "
                    f"{tuple(t.shape)}), but {type(self).__name__}.{what} expects {shape} "
                    f"({math.prod(shape)} features), as it was built/trained with."
                )
        return t

    def batched(self, fn: Callable[[Tensor, Tensor | None], Tensor], x: Tensor,
                batch_size: int, y: Tensor | None = None) -> Tensor:
        """``fn(x_batch, y_batch)`` over batches of ``x`` on this model's device, in eval
        mode and without gradients; the outputs concatenated."""
        dev = self.device
        with evaluating(self):
            return torch.cat([
                fn(x[i : i + batch_size].to(dev),
                   None if y is None else y[i : i + batch_size].to(dev))
                for i in range(0, x.shape[0], batch_size)])

    # ------------------------------------------------------------------ saving
    def save(self, path, metadata: dict | None = None) -> None:
        """Write ``config.json`` and ``model.safetensors`` into directory ``path``."""
        save_model(self, path, metadata=metadata)

    @classmethod
    def load(cls, path, device: str | torch.device = "cpu"):
        """Rebuild a model of this class saved by :meth:`save` (safetensors + JSON, no pickle)."""
        return load_model(path, device, model_class=cls)


def _jsonable(v):
    if isinstance(v, tuple):
        return [_jsonable(i) for i in v]
    if isinstance(v, dict):
        return {k: _jsonable(i) for k, i in v.items()}
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v
