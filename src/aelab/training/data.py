"""Feeding the trainer: devices, validation splits and batch sources.

Array data are moved to the device once and batched by indexing with a seeded
permutation: no per-example Python work in the loop.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device) -> torch.device:
    """Turn ``auto|cpu|cuda|cuda:N|mps`` (or a torch.device) into an available device."""
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ValueError(
            f"The 'device' parameter must be one of {list(DEVICES)} (or 'cuda:N'). "
            f"Got {device!r} instead."
        )
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available; use 'cpu' or 'auto'.")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device='mps' was requested but MPS is not available; use 'cpu' or 'auto'.")
    return torch.device(device)


def as_labels(y, n: int) -> Tensor:
    """Validate labels for ``n`` examples: integer classes → int64, else float32."""
    t = y if isinstance(y, torch.Tensor) else torch.from_numpy(np.asarray(y))
    if t.shape[0] != n:
        raise ValueError(f"y has {t.shape[0]} labels but X has {n} examples; they must match.")
    if t.dtype.is_floating_point:
        if not bool(torch.isfinite(t).all()):
            raise ValueError("y contains NaN or infinity.")
        return t.float()
    return t.long()


class TensorSource:
    """Batches from tensors held on the device, shuffled by a seeded generator."""

    def __init__(self, x: Tensor, y: Tensor | None, batch_size: int, seed: int | None):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.n_examples = x.shape[0]
        self.generator = None
        if seed is not None:
            self.generator = torch.Generator().manual_seed(seed + 1)

    def batches(self, epoch) -> Iterator[tuple[Tensor, Tensor | None]]:
        n, bs = self.n_examples, self.batch_size
        if self.generator is None:
            for i in range(0, n, bs):
                yield self.x[i : i + bs], None if self.y is None else self.y[i : i + bs]
            return
        perm = torch.randperm(n, generator=self.generator).to(self.x.device)
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            yield self.x[idx], None if self.y is None else self.y[idx]

    def inputs(self) -> Iterator[Tensor]:
        for i in range(0, self.n_examples, 4096):
            yield self.x[i : i + 4096]

    def rng_state(self) -> Tensor:
        return self.generator.get_state() if self.generator is not None else torch.empty(0, dtype=torch.uint8)

    def set_rng_state(self, state: Tensor) -> None:
        if self.generator is not None and state.numel():
            self.generator.set_state(state)


class LoaderSource:
    """Batches from a user's DataLoader (its own batching and shuffling)."""

    def __init__(self, loader: DataLoader, model, device: torch.device):
        self.loader, self.model, self.device = loader, model, device
        try:
            self.n_examples = len(loader.dataset)
        except (TypeError, AttributeError):
            self.n_examples = 0

    def _split(self, batch):
        if isinstance(batch, (tuple, list)):
            x, y = batch[0], (batch[1] if len(batch) > 1 else None)
        else:
            x, y = batch, None
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"The DataLoader must yield tensors or (x, y) pairs; got {type(x).__name__}.")
        x = self.model.as_input(x).to(self.device, non_blocking=True)
        return x, (None if y is None else y.to(self.device, non_blocking=True))

    def batches(self, epoch):
        for batch in self.loader:
            yield self._split(batch)

    def inputs(self):
        for x, _ in self.batches(None):
            yield x

    def rng_state(self) -> Tensor:
        return torch.empty(0, dtype=torch.uint8)  # the loader's shuffling follows the global RNG

    def set_rng_state(self, state: Tensor) -> None:
        pass


def _as_pair(model, data, y):
    if isinstance(data, tuple) and len(data) == 2 and y is None:
        data, y = data
    x = model.as_input(data)
    return x, (None if y is None else as_labels(y, x.shape[0]))


def split_validation(model, data, y, validation_data, validation_split, seed, device):
    """Return ``(train, val)``, each a DataLoader, an ``(x, y)`` pair of tensors, or None."""
    if isinstance(data, DataLoader):
        if validation_split:
            raise ValueError("validation_split needs array data; with a DataLoader pass validation_data.")
        train = data
    else:
        x, yt = _as_pair(model, data, y)
        train = (x, yt)
        if validation_data is None and validation_split > 0:
            n = x.shape[0]
            n_val = max(1, int(round(validation_split * n)))
            if n - n_val < 1:
                raise ValueError(
                    f"validation_split={validation_split} leaves no training data from {n} examples."
                )
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
            tr, va = perm[n_val:], perm[:n_val]
            train = (x[tr], None if yt is None else yt[tr])
            validation_data = (x[va], None if yt is None else yt[va])
        elif validation_data is not None:
            validation_data = _as_pair(model, validation_data, None)
    if validation_data is not None and not isinstance(validation_data, DataLoader):
        if not isinstance(validation_data, tuple):
            validation_data = _as_pair(model, validation_data, None)
        validation_data = tuple(None if t is None else t.to(device) for t in validation_data)
    if not isinstance(train, DataLoader):
        train = tuple(None if t is None else t.to(device) for t in train)
    return train, validation_data


def batch_source(data, batch_size: int, device: torch.device, seed: int | None, model):
    """A batch source for ``data`` as returned by :func:`split_validation`."""
    if isinstance(data, DataLoader):
        return LoaderSource(data, model, device)
    x, y = data
    return TensorSource(x, y, batch_size, seed)
