"""Feeding the trainer: devices, validation splits and batch sources.

Array data are moved to the device once and batched by indexing with a seeded
permutation: no per-example Python work in the loop. Data larger than memory (a chunked
array of :mod:`aelab.data.streaming`, or an ``np.memmap``) is streamed chunk by chunk
(:class:`StreamSource`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from aelab.data.streaming import ChunkedArray, as_chunked, prefetch

DEVICES = ("auto", "cpu", "cuda", "mps")
# Rows per batch that a source's inputs() hands to prepare_training (the scaler's fit).
INPUT_ROWS = 4096
# Chunks of a stream whose rows are shuffled together (see StreamSource).
WINDOW_CHUNKS = 4


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
        for i in range(0, self.n_examples, INPUT_ROWS):
            yield self.x[i : i + INPUT_ROWS]

    def rng_state(self) -> Tensor:
        return self.generator.get_state() if self.generator is not None else torch.empty(0, dtype=torch.uint8)

    def set_rng_state(self, state: Tensor) -> None:
        if self.generator is not None and state.numel():
            self.generator.set_state(state)


class LoaderSource:
    """Batches from a user's DataLoader (its own batching and shuffling)."""

    # Under torchrun each rank's loader yields its own shard (a DistributedSampler), so
    # the trainer does not slice its batches.
    shards_itself = True

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


_GOLDEN = 0x9E3779B97F4A7C15  # splitmix64's increment: 2**64 / the golden ratio


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """Steele et al.'s splitmix64 finaliser on uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass(frozen=True)
class RowSplit:
    """The validation rows of a stream: row ``r`` is held out when a hash of ``(seed, r)``,
    uniform in [0, 1), falls below ``fraction``. Decided row by row, it holds nothing in
    memory and holds out the same rows whatever the chunking; the number held out is
    ``fraction * n`` on average (a binomial draw), not exactly."""

    fraction: float
    seed: int
    held_out: bool  # True: the validation side; False: the training side

    def mask(self, start: int, stop: int) -> np.ndarray:
        """Whether each row in ``[start, stop)`` is on this side, bool ``(stop - start,)``."""
        base = _splitmix64(np.array([self.seed], dtype=np.uint64))
        rows = np.arange(start, stop, dtype=np.uint64) * np.uint64(_GOLDEN) + base
        u = (_splitmix64(rows) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        return u < self.fraction if self.held_out else u >= self.fraction


@dataclass(frozen=True)
class Streamed:
    """Rows streamed from a chunked array: all of them, or one side of a :class:`RowSplit`."""

    chunks: ChunkedArray
    y: Tensor | None = None
    split: RowSplit | None = None


class _OutOfCore:
    """An iterator of batches read from a file larger than memory; ``out_of_core`` tells
    a consumer that would gather every batch (robust scaling) to refuse it."""

    out_of_core = True

    def __init__(self, batches: Iterator[Tensor]):
        self._batches = batches

    def __iter__(self) -> _OutOfCore:
        return self

    def __next__(self) -> Tensor:
        return next(self._batches)


class StreamSource:
    """Batches streamed from a chunked array (data larger than memory), seeded.

    Each epoch the chunks are read in a seeded random order (the pieces of one Parquet row
    group stay together), the next one in a background thread while these are used.
    Windows of :data:`WINDOW_CHUNKS` chunks (about 64 MiB) are shuffled: each batch
    gathers its rows from all over the window, that is from that many places in the file;
    the rows a window leaves over (fewer than a batch) join the next one, so batches hold
    exactly ``batch_size`` rows and only the epoch's last is shorter. Memory holds a few
    chunks whatever the file's size. Without a seed (validation) the rows come in file
    order. On CUDA, chunks are pinned and copied asynchronously.
    """

    def __init__(self, data: Streamed, batch_size: int, seed: int | None, model,
                 device: torch.device):
        self.chunks, self.y, self.split = data.chunks, data.y, data.split
        self.batch_size, self.model, self.device = batch_size, model, device
        self.pin = device.type == "cuda"
        self.generator = None if seed is None else torch.Generator().manual_seed(seed + 1)
        self.n_examples = self.chunks.n_rows
        if self.split is not None:
            self.n_examples = sum(int(self.split.mask(a, b).sum()) for a, b in self.chunks.chunk_bounds)
            if self.n_examples == 0:
                side = ("holds out none" if self.split.held_out else "holds out every one")
                raise ValueError(
                    f"validation_split={self.split.fraction} {side} of the {self.chunks.n_rows} rows "
                    f"of {self.chunks.name} (each row is held out with that probability). Change "
                    "it, or pass validation_data.")

    def _load(self, i: int) -> tuple[Tensor, Tensor | None]:
        """Chunk ``i``'s rows of this side, validated (runs in the reading thread)."""
        start, stop = self.chunks.chunk_bounds[i]
        x = self.model.as_input(self.chunks.read(i))
        y = None if self.y is None else self.y[start:stop]
        if self.split is not None:
            keep = torch.from_numpy(self.split.mask(start, stop))
            x, y = x[keep], (None if y is None else y[keep])
        if self.pin:
            x, y = x.pin_memory(), (None if y is None else y.pin_memory())
        return x, y

    def _on_device(self, order) -> Iterator[tuple[Tensor, Tensor | None]]:
        for x, y in prefetch(self._load, order):
            x, y = (x.to(self.device, non_blocking=self.pin),
                    None if y is None else y.to(self.device, non_blocking=self.pin))
            yield x, y
            del x, y  # not held while the next chunk is fetched

    def _order(self) -> list[int]:
        runs = self.chunks.runs()
        if self.generator is not None:
            runs = [runs[j] for j in torch.randperm(len(runs), generator=self.generator).tolist()]
        return [i for run in runs for i in run]

    def batches(self, epoch) -> Iterator[tuple[Tensor, Tensor | None]]:
        window = WINDOW_CHUNKS if self.generator is not None else 1
        carry: list = []  # the rows left over from the last window: fewer than a batch
        parts: list = []
        for part in self._on_device(self._order()):
            parts.append(part)
            if len(parts) == window:
                carry = yield from self._cut(carry + parts, last=False)
                parts = []
        yield from self._cut(carry + parts, last=True)

    def _cut(self, parts: list, last: bool):
        """Batches of the rows of ``parts`` (``(x, y)`` pairs) in a seeded random order (file
        order without a seed), each gathered straight from the parts (one copy of a row,
        as an in-memory source's indexing makes); returns the rows left over, fewer than a
        batch, as a list of one part, or none if ``last`` (they form the last batch)."""
        sizes = [x.shape[0] for x, _ in parts]
        total = sum(sizes)
        if total == 0:
            return []
        order = (torch.arange(total) if self.generator is None
                 else torch.randperm(total, generator=self.generator))
        starts = torch.tensor([0, *itertools.accumulate(sizes)])
        n_out = total if last else total // self.batch_size * self.batch_size
        for i in range(0, n_out, self.batch_size):
            yield _gather(parts, starts, order[i : i + self.batch_size])
        return [_gather(parts, starts, order[n_out:])] if n_out < total else []

    def inputs(self) -> _OutOfCore:
        """The rows in file order, in blocks of :data:`INPUT_ROWS` rows at the same row
        offsets as an in-memory source's (so a scaling fitted on them is the same, to the
        bit, without a split): its statistics' temporaries stay small."""
        return _OutOfCore(self._blocks())

    def _blocks(self) -> Iterator[Tensor]:
        carry = None
        for x, _ in self._on_device(range(self.chunks.n_chunks)):
            if carry is not None:  # complete the block begun in the previous chunk
                need = INPUT_ROWS - carry.shape[0]
                carry, x = torch.cat([carry, x[:need]]), x[need:]
                if carry.shape[0] < INPUT_ROWS:
                    continue
                yield carry
                carry = None
            full = x.shape[0] // INPUT_ROWS * INPUT_ROWS
            for i in range(0, full, INPUT_ROWS):
                yield x[i : i + INPUT_ROWS]
            if full < x.shape[0]:
                carry = x[full:].clone()  # not a view that keeps the whole chunk alive
        if carry is not None:
            yield carry

    def rng_state(self) -> Tensor:
        return self.generator.get_state() if self.generator is not None else torch.empty(0, dtype=torch.uint8)

    def set_rng_state(self, state: Tensor) -> None:
        if self.generator is not None and state.numel():
            self.generator.set_state(state)


def _gather(parts: list, starts: Tensor, rows: Tensor) -> tuple[Tensor, Tensor | None]:
    """The ``rows`` (indices into the concatenation of ``parts``, which start at ``starts``)
    as one batch ``(x, y)``, grouped by part."""
    which = torch.searchsorted(starts[1:], rows, right=True)
    xs, ys = [], []
    for p, (x, y) in enumerate(parts):
        picked = rows[which == p] - starts[p]
        if picked.numel():
            picked = picked.to(x.device)
            xs.append(x[picked])
            ys.append(None if y is None else y[picked])
    if len(xs) == 1:
        return xs[0], ys[0]
    return torch.cat(xs), (None if ys[0] is None else torch.cat(ys))


def _streamed(data, y) -> Streamed | None:
    """``data`` (or the ``x`` of an ``(x, y)`` pair) as a :class:`Streamed` if it is a chunked
    array or an ``np.memmap``, with its labels held in memory; else None."""
    if isinstance(data, tuple) and len(data) == 2 and y is None and as_chunked(data[0]) is not None:
        data, y = data
    chunks = as_chunked(data)
    if chunks is None:
        return None
    return Streamed(chunks, None if y is None else as_labels(y, chunks.n_rows))


def split_validation(model, data, y, validation_data, validation_split, seed, device):
    """Return ``(train, val)``, each a DataLoader, an ``(x, y)`` pair of tensors, a
    :class:`Streamed` (a chunked array or ``np.memmap``, read chunk by chunk) or None.

    A stream's ``validation_split`` holds out a seeded random subset of its rows
    (:class:`RowSplit`): each epoch's validation then reads the file once more, keeping
    those rows; ``validation_data`` (which may be streamed too) reads only its own rows.
    """
    stream = None if isinstance(data, DataLoader) else _streamed(data, y)
    if isinstance(data, DataLoader):
        if validation_split:
            raise ValueError("validation_split needs array data; with a DataLoader pass validation_data.")
        train = data
    elif stream is not None:
        train = stream
        if validation_data is None and validation_split > 0:
            train = replace(stream, split=RowSplit(validation_split, seed, held_out=False))
            validation_data = replace(stream, split=RowSplit(validation_split, seed, held_out=True))
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
        elif validation_data is not None and _streamed(validation_data, None) is None:
            validation_data = _as_pair(model, validation_data, None)
    if validation_data is not None and not isinstance(validation_data, (DataLoader, Streamed)):
        streamed = _streamed(validation_data, None)
        if streamed is not None:
            validation_data = streamed
        else:
            if not isinstance(validation_data, tuple):
                validation_data = _as_pair(model, validation_data, None)
            validation_data = tuple(None if t is None else t.to(device) for t in validation_data)
    if isinstance(train, tuple):
        train = tuple(None if t is None else t.to(device) for t in train)
    return train, validation_data


def batch_source(data, batch_size: int, device: torch.device, seed: int | None, model):
    """A batch source for ``data`` as returned by :func:`split_validation`."""
    if isinstance(data, DataLoader):
        return LoaderSource(data, model, device)
    if isinstance(data, Streamed):
        return StreamSource(data, batch_size, seed, model, device)
    x, y = data
    return TensorSource(x, y, batch_size, seed)
