"""Data larger than memory: rows read in chunks from .npy files (and ``np.memmap`` arrays
of them) and from Parquet row groups, and .npy files written chunk by chunk.

>>> import numpy as np, aelab
>>> np.save("big.npy", np.random.default_rng(0).random((1000, 8), dtype=np.float32))
>>> x = aelab.data.open_chunked("big.npy", chunk_rows=300)
>>> x.shape, x.n_chunks, [c.shape[0] for c in x]
((1000, 8), 4, [300, 300, 300, 100])

``aelab.train``, ``model.encode``/``reconstruct`` and the scikit-learn estimators'
``transform``/``score_samples`` take such an array (or an ``np.memmap``) and go through it
chunk by chunk, so memory stays bounded by a few chunks whatever the file's size.

Why not a memory map: the pages of a mapped file that a process touches count in its
resident memory (RSS) until the kernel evicts them, so one pass over a 4 GB ``np.memmap``
drives the RSS towards 4 GB. Chunks are therefore read with ordinary file reads into
fresh arrays: the file's pages stay in the kernel's page cache (shared and reclaimable),
and the process holds only the chunks in use. An ``np.memmap`` is accepted and read the
same way, from its file.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from aelab.core.io import AtomicFile
from aelab.core.optional import require
from aelab.core.validation import as_float_array, check_number
from aelab.data.files import check_npy_header, non_numeric_error

# Float32 bytes per chunk by default: reading, converting and shuffling hold a few chunks.
DEFAULT_CHUNK_BYTES = 16 * 2**20


def default_chunk_rows(row_shape: tuple[int, ...]) -> int:
    """Rows per chunk of about :data:`DEFAULT_CHUNK_BYTES` of float32."""
    return max(1, DEFAULT_CHUNK_BYTES // (4 * max(1, math.prod(row_shape))))


def prefetch(fn: Callable, items: Iterable, depth: int = 1) -> Iterator:
    """``fn(item)`` for each of ``items``, in order, computed up to ``depth`` items ahead in
    a background thread, so that reading the next chunk overlaps the caller's work on this
    one (file reads and NumPy conversions release the GIL).

    An exception raised by ``fn`` is raised here, at its item. Closing the iterator early
    cancels what was not started and waits for the read in progress.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aelab-read")
    pending: deque = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


class ChunkedArray:
    """Rows ``(n_rows, *row_shape)`` read as float32 chunks of consecutive rows.

    Iterating gives the chunks in order, each read in a background thread while the
    previous one is used. ``read(i)`` validates what it returns as in-memory data is
    validated (real numbers, finite, within float32): an error names the file and the rows.

    A subclass sets ``name``, ``n_rows``, ``row_shape`` and ``chunk_bounds`` (the row range
    ``[start, stop)`` of each chunk) and defines ``_read(i)``, the raw rows of chunk ``i``.
    """

    name: str
    n_rows: int
    row_shape: tuple[int, ...]
    chunk_bounds: list[tuple[int, int]]

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n_rows, *self.row_shape)

    @property
    def n_features(self) -> int:
        return math.prod(self.row_shape)

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_bounds)

    @property
    def max_chunk_rows(self) -> int:
        return max(stop - start for start, stop in self.chunk_bounds)

    def __len__(self) -> int:
        return self.n_rows

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, shape={self.shape}, n_chunks={self.n_chunks})"

    def read(self, i: int) -> np.ndarray:
        """Chunk ``i`` as a float32 array ``(stop - start, *row_shape)``."""
        start, stop = self.chunk_bounds[i]
        return as_float_array(self._read(i), name=f"{self.name} (rows {start:,} to {stop - 1:,})")

    def _read(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[np.ndarray]:
        """The chunks in ``order`` (default: all, in turn), each read one ahead in a thread."""
        return prefetch(self.read, range(self.n_chunks) if order is None else order)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.chunks()

    def runs(self) -> list[list[int]]:
        """The chunks in runs that are cheapest read one after the other (a Parquet row
        group's pieces); a shuffled pass permutes the runs and keeps each run in order."""
        return [[i] for i in range(self.n_chunks)]

    def head(self, n: int) -> np.ndarray:
        """The first ``min(n, n_rows)`` rows, as one float32 array."""
        parts, have = [], 0
        for i in range(self.n_chunks):
            if have >= n:
                break
            part = self.read(i)[: n - have]
            parts.append(part)
            have += len(part)
        return np.concatenate(parts)


def _chunk_bounds(n_rows: int, chunk_rows: int) -> list[tuple[int, int]]:
    return [(a, min(a + chunk_rows, n_rows)) for a in range(0, n_rows, chunk_rows)]


def _check_chunk_rows(chunk_rows, row_shape, owner: str) -> int:
    if chunk_rows is None:
        return default_chunk_rows(row_shape)
    return check_number(chunk_rows, "chunk_rows", owner, kind=int, low=1)


class NpyChunks(ChunkedArray):
    """The rows of an ``.npy`` file, read ``chunk_rows`` at a time with file reads.

    Parameters
    ----------
    path : str or path
        An ``.npy`` file of real numbers (any integer, boolean or float dtype; converted
        to float32 chunk by chunk), with at least 2 dimensions, in C order (``np.save``'s
        default). Its header is checked against the file's size before anything is read.
    chunk_rows : int, optional
        Rows per chunk; default: about 16 MiB of float32.

    See :meth:`from_memmap` for an ``np.memmap`` (or ``np.load(path, mmap_mode="r")``).
    """

    def __init__(self, path, chunk_rows: int | None = None):
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"Data file {str(path)!r} does not exist.")
        try:
            with open(path, "rb") as f:
                shape, fortran_order, dtype = check_npy_header(f, path.stat().st_size, str(path))
                offset = f.tell()
        except ValueError as err:
            if str(path) in str(err):
                raise
            raise ValueError(f"Cannot read {path} as a .npy file: {err}") from None
        self._setup(path, offset, tuple(shape), dtype, fortran_order, chunk_rows)

    @classmethod
    def from_memmap(cls, array: np.memmap, chunk_rows: int | None = None) -> NpyChunks:
        """The rows of ``array``, a C-ordered ``np.memmap`` (a slice of rows included), read
        from its file without touching its mapped pages."""
        if not isinstance(array, np.memmap) or array.filename is None:
            raise TypeError(f"from_memmap needs an np.memmap backed by a file; got "
                            f"{type(array).__name__}.")
        if array.mode == "c":
            raise ValueError(f"The np.memmap of {array.filename} is copy-on-write (mode='c'): its "
                             "changes are not in the file that would be streamed. Open it with "
                             "mode='r', or pass np.asarray(x) to use it in memory.")
        root = array
        while isinstance(root.base, np.memmap):
            root = root.base
        if array.ndim >= 2 and not array.flags.c_contiguous:
            raise ValueError(f"The np.memmap of {array.filename} is not C-contiguous (a column "
                             "slice, a transposed or Fortran-ordered array); only whole rows in C "
                             "order can be streamed. Pass the file's whole rows, and select "
                             "features afterwards.")
        offset = root.offset + (array.ctypes.data - root.ctypes.data)
        self = cls.__new__(cls)
        self._setup(Path(array.filename), offset, tuple(array.shape), array.dtype, False, chunk_rows)
        return self

    def _setup(self, path: Path, offset: int, shape, dtype: np.dtype, fortran_order: bool,
               chunk_rows) -> None:
        where = str(path)
        if dtype.hasobject:
            raise ValueError(f"{where} holds Python objects (dtype {dtype}); aelab reads numbers "
                             "and never unpickles. Save a numeric array.")
        if dtype.kind not in "biuf" or dtype.fields is not None:
            raise TypeError(f"{where} must hold real numbers; got an array of dtype {dtype}. "
                            "Encode non-numeric columns (e.g. one-hot) before passing them to aelab.")
        if len(shape) < 2:
            raise ValueError(f"Expected {where} to hold at least 2 dimensions (n_samples, "
                             f"n_features, ...); it holds shape {shape}. Save it reshaped, e.g. "
                             "x.reshape(-1, 1) for one feature.")
        if fortran_order:
            raise ValueError(f"{where} is stored in Fortran (column-major) order; rows can be "
                             "streamed only from C order. Save it with "
                             "np.save(path, np.ascontiguousarray(x)).")
        if shape[0] == 0:
            raise ValueError(f"{where} is empty: found 0 samples in an array of shape {shape}; "
                             "at least 1 is required.")
        self.path, self.offset, self.dtype = path, int(offset), dtype
        self.name, self.n_rows, self.row_shape = path.name, int(shape[0]), tuple(shape[1:])
        self.row_bytes = math.prod(self.row_shape) * dtype.itemsize
        self.chunk_rows = _check_chunk_rows(chunk_rows, self.row_shape, type(self).__name__)
        self.chunk_bounds = _chunk_bounds(self.n_rows, self.chunk_rows)

    def _read(self, i: int) -> np.ndarray:
        start, stop = self.chunk_bounds[i]
        buf = np.empty((stop - start) * self.row_bytes, dtype=np.uint8)
        view, got = memoryview(buf), 0
        with open(self.path, "rb", buffering=0) as f:
            f.seek(self.offset + start * self.row_bytes)
            while got < len(buf):
                n = f.readinto(view[got:])
                if not n:
                    raise ValueError(f"{self.path} ends inside rows {start:,} to {stop - 1:,}: the "
                                     "file was truncated after it was opened.")
                got += n
        return buf.view(self.dtype).reshape(stop - start, *self.row_shape)


# Arrow types whose values float32 holds exactly; any other numeric column is read as
# float64 first, so that values beyond float32's range are refused, not turned into inf.
_FLOAT32_EXACT = ("bool", "int8", "int16", "uint8", "uint16", "halffloat", "float")


class _ParquetPieces:
    """A Parquet file read one row group at a time, split into pieces of at most
    ``chunk_rows`` rows; the last row group decoded is kept for its next pieces."""

    def __init__(self, path, columns, drop, chunk_rows, owner: str):
        self.pq = require("pyarrow.parquet", "tables", "Streaming a Parquet file")
        self.pa = require("pyarrow", "tables", "Streaming a Parquet file")
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"Data file {str(self.path)!r} does not exist.")
        try:
            # without pre-buffering, a row group's compressed columns are not all held at once
            file = self.pq.ParquetFile(self.path, pre_buffer=False)
        except Exception as err:  # noqa: BLE001 - a malformed file can fail anywhere in pyarrow
            raise ValueError(f"Cannot read {self.path} as a .parquet file ({type(err).__name__}: "
                             f"{err}).") from None
        schema = file.schema_arrow
        names = list(schema.names)
        asked = list(columns or []) + list(drop)
        unknown = [c for c in asked if c not in names]
        if unknown:
            raise ValueError(f"{self.path} has no column(s) {unknown}; its columns: {names}.")
        self.columns = [c for c in (list(columns) if columns else names) if c not in set(drop)]
        if not self.columns:
            raise ValueError(f"No column of {self.path} is left to read (columns={columns}, "
                             f"drop={list(drop)}); its columns: {names}.")
        self.types = [schema.field(c).type for c in self.columns]
        meta = file.metadata
        group_rows = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        self.n_rows = sum(group_rows)
        if self.n_rows == 0:
            raise ValueError(f"{self.path} is empty: found 0 rows; at least 1 is required.")
        rows = _check_chunk_rows(chunk_rows, (len(self.columns),), owner)
        self.pieces: list[tuple[int, int, int]] = []  # (row group, first row in it, rows)
        self.bounds: list[tuple[int, int]] = []
        self.runs: list[list[int]] = []
        start = 0
        for g, n in enumerate(group_rows):
            run = []
            for a in range(0, n, rows):
                run.append(len(self.pieces))
                self.pieces.append((g, a, min(rows, n - a)))
                self.bounds.append((start + a, start + a + min(rows, n - a)))
            if run:
                self.runs.append(run)
            start += n
        self._file, self._group = file, (None, None)
        self._lock = threading.Lock()

    def table(self, i: int):
        """Piece ``i`` as an Arrow table of the selected columns."""
        g, first, rows = self.pieces[i]
        with self._lock:
            if self._group[0] != g:
                self._group = (None, None)  # free the previous row group before decoding the next
                self.pa.default_memory_pool().release_unused()
                self._group = (g, self._file.read_row_group(g, columns=self.columns))
            piece = self._group[1].slice(first, rows)
            if first + rows == self._file.metadata.row_group(g).num_rows:
                self._group = (None, None)  # its last piece: the row group is not kept
            return piece

    def __getstate__(self):
        state = dict(self.__dict__)
        for key in ("pq", "pa", "_file", "_group", "_lock"):
            state.pop(key)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.pq = require("pyarrow.parquet", "tables", "Streaming a Parquet file")
        self.pa = require("pyarrow", "tables", "Streaming a Parquet file")
        self._file, self._group = self.pq.ParquetFile(self.path, pre_buffer=False), (None, None)
        self._lock = threading.Lock()


class ParquetChunks(ChunkedArray):
    """The rows of a Parquet file's numeric columns, read one row group at a time.

    Parameters
    ----------
    path : str or path
    columns : list of str, optional
        The feature columns, in this order (default: all).
    drop : list of str, default=()
        Columns to leave out (labels, ids).
    chunk_rows : int, optional
        Row groups longer than this are handed out in pieces of this many rows (default:
        about 16 MiB of float32).

    Notes
    -----
    Parquet compresses a row group's columns as a whole, so a row group is decoded at
    once: memory holds one decoded row group besides the chunks. Write large files with
    bounded row groups, and for float features without dictionary encoding (pyarrow's
    default, which makes continuous values' files larger and several times slower to
    decode), e.g. ``pyarrow.parquet.write_table(table, path, row_group_size=16384,
    use_dictionary=False)`` (pandas: ``df.to_parquet(path, row_group_size=16384,
    use_dictionary=False)``). Missing values (nulls) are refused as NaN is, naming the rows.
    """

    def __init__(self, path, columns: list[str] | None = None, drop: Iterable[str] = (),
                 chunk_rows: int | None = None):
        self._pieces = _ParquetPieces(path, columns, list(drop), chunk_rows, type(self).__name__)
        pa = require("pyarrow", "tables", "Streaming a Parquet file")
        p = self._pieces
        bad = [c for c, t in zip(p.columns, p.types)
               if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t))]
        if bad:
            raise non_numeric_error(p.path, bad)
        exact = all(str(t) in _FLOAT32_EXACT for t in p.types)
        self._target, self._dtype = (pa.float32(), np.float32) if exact else (pa.float64(), np.float64)
        self.path, self.columns = p.path, p.columns
        self.name, self.n_rows, self.row_shape = p.path.name, p.n_rows, (len(p.columns),)
        self.chunk_bounds = p.bounds

    def _read(self, i: int) -> np.ndarray:
        """The piece's columns as rows: copied a few columns at a time into a small
        column-major block (contiguous copies), which is then written transposed into the
        rows, one cache line per row (several times faster than a column at a time)."""
        table = self._pieces.table(i)
        n, columns = table.num_rows, table.columns
        out = np.empty((n, len(columns)), dtype=self._dtype)
        width = 64 // out.itemsize
        block = np.empty((width, n), dtype=self._dtype)
        for j in range(0, len(columns), width):
            k = min(width, len(columns) - j)
            for c in range(k):  # nulls become NaN, which read() refuses
                column = columns[j + c]
                if column.type != self._target:
                    column = column.cast(self._target, safe=False)
                block[c] = column.to_numpy()
            out[:, j : j + k] = block[:k].T
        return out

    def runs(self) -> list[list[int]]:
        return [list(run) for run in self._pieces.runs]


def parquet_frames(path, chunk_rows: int | None = None, columns: list[str] | None = None
                   ) -> Iterator:
    """The rows of a Parquet file as pandas DataFrames of at most ``chunk_rows`` rows, one
    row group at a time, with every column whatever its type (for tables with categorical
    columns, which :class:`ParquetChunks` refuses); read one ahead in a background thread."""
    pieces = _ParquetPieces(path, columns, [], chunk_rows, "parquet_frames")
    return prefetch(lambda i: pieces.table(i).to_pandas(), range(len(pieces.pieces)))


def map_chunks(fn: Callable[[np.ndarray], np.ndarray], chunks: ChunkedArray) -> np.ndarray:
    """``fn(chunk)`` for every chunk, the next read while ``fn`` runs, gathered into one
    array allocated once (no list of parts concatenated at the end): for outputs that fit
    in memory, such as codes or scores. ``fn`` must return one row per input row."""
    out = None
    for (start, stop), x in zip(chunks.chunk_bounds, chunks):
        y = np.asarray(fn(x))
        if y.ndim == 0 or y.shape[0] != stop - start:
            raise ValueError(f"{fn!r} returned shape {y.shape} for rows {start:,} to {stop - 1:,} "
                             f"of {chunks.name} ({stop - start} rows); a function mapped over "
                             "chunks must return one output row per input row.")
        if out is None:
            out = np.empty((chunks.n_rows, *y.shape[1:]), dtype=y.dtype)
        out[start:stop] = y
    return out


def parquet_column(path, column: str) -> np.ndarray:
    """One column of a Parquet file, read alone (e.g. labels beside streamed features)."""
    pq = require("pyarrow.parquet", "tables", "Reading a Parquet column")
    names = list(pq.read_schema(path).names)
    if column not in names:
        raise ValueError(f"{path} has no column {column!r}; its columns: {names}.")
    return pq.read_table(path, columns=[column]).column(0).to_numpy()


def open_chunked(source, chunk_rows: int | None = None, *, columns: list[str] | None = None,
                 drop: Iterable[str] = ()) -> ChunkedArray:
    """Open data to be read in chunks.

    Parameters
    ----------
    source : path, np.memmap or ChunkedArray
        A ``.npy`` or ``.parquet`` file (see :class:`NpyChunks`, :class:`ParquetChunks`),
        an ``np.memmap`` (``np.load(path, mmap_mode="r")``), or a chunked array (returned
        as it is).
    chunk_rows : int, optional
        Rows per chunk (default: about 16 MiB of float32).
    columns, drop : list of str, optional
        For Parquet: the feature columns, and columns to leave out.

    Returns
    -------
    ChunkedArray
    """
    if isinstance(source, ChunkedArray):
        return source
    if isinstance(source, np.memmap):
        return NpyChunks.from_memmap(source, chunk_rows)
    if not isinstance(source, (str, Path)):
        raise TypeError(f"open_chunked takes the path of a .npy or .parquet file, an np.memmap or "
                        f"a ChunkedArray; got {type(source).__name__}. Data that fits in memory "
                        "needs no streaming: pass the array itself.")
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return ParquetChunks(path, columns=columns, drop=drop, chunk_rows=chunk_rows)
    if suffix == ".npy":
        if columns is not None or list(drop):
            raise ValueError(f"columns and drop select Parquet columns; {path} is an .npy file.")
        return NpyChunks(path, chunk_rows)
    raise ValueError(f"Cannot stream {path}: only .npy and .parquet files are read in chunks "
                     f"(got {suffix or 'no suffix'!r}). Convert it, e.g. "
                     "pandas.read_csv(path).to_parquet('data.parquet', row_group_size=16384), "
                     "or load it in memory with aelab.data.load.")


def as_chunked(data) -> ChunkedArray | None:
    """``data`` as a chunked array if it is one, or an ``np.memmap`` of whole rows in C order
    backed by a file (what the trainer and inference stream); else None: data used in
    memory, as any other memmap (a column slice, Fortran order, copy-on-write) is."""
    if isinstance(data, ChunkedArray):
        return data
    if (isinstance(data, np.memmap) and data.filename is not None and data.ndim >= 2
            and data.flags.c_contiguous and data.mode != "c"):
        return NpyChunks.from_memmap(data)
    return None


# The row count in the header written first, wider than any real count, so that the final
# header (written at close) fits in the same bytes.
_PLACEHOLDER_ROWS = 2**63 - 1


def _npy_header(shape: tuple[int, ...], dtype: np.dtype, length: int | None = None) -> bytes:
    """An .npy version 1.0 header for a C-ordered array, padded with spaces to ``length``
    bytes (default: the next multiple of 64, as numpy aligns it)."""
    text = (f"{{'descr': {np.lib.format.dtype_to_descr(dtype)!r}, 'fortran_order': False, "
            f"'shape': {tuple(shape)!r}, }}")
    if length is None:
        length = -(-(10 + len(text) + 1) // 64) * 64
    pad = length - 10 - len(text) - 1
    return b"\x93NUMPY\x01\x00" + (length - 10).to_bytes(2, "little") + (
        text + " " * pad + "\n").encode("latin1")


class NpyWriter:
    """An ``.npy`` file written chunk by chunk, for outputs too large to hold in memory.

    Rows are appended as they come; :meth:`close` completes the header (which states
    their count) and renames the file into place. Until then ``path`` is untouched, and a
    writer left by an exception (or :meth:`abort`) leaves nothing behind.

    Parameters
    ----------
    path : str or path
    row_shape : tuple of int
        The shape of one row, e.g. ``(latent_dim,)``; ``()`` for one value per row.
    dtype : numpy dtype, default=float32

    Examples
    --------
    >>> import numpy as np
    >>> from aelab.data import NpyWriter
    >>> with NpyWriter("codes.npy", row_shape=(2,)) as out:
    ...     out.write(np.zeros((3, 2)))
    ...     out.write(np.ones((1, 2)))
    >>> np.load("codes.npy").shape
    (4, 2)
    """

    def __init__(self, path, row_shape: tuple[int, ...], dtype=np.float32):
        self.path = Path(path)
        self.row_shape = tuple(int(d) for d in row_shape)
        self.dtype = np.dtype(dtype)
        if self.dtype.hasobject or self.dtype.kind not in "biuf":
            raise TypeError(f"NpyWriter writes numbers; got dtype {self.dtype}.")
        self.n_rows = 0
        self._header_length = len(_npy_header((_PLACEHOLDER_ROWS, *self.row_shape), self.dtype))
        self._out = AtomicFile(self.path)
        self._out.file.write(b"\0" * self._header_length)  # the header, completed by close()

    def write(self, rows) -> None:
        """Append ``rows`` ``(n, *row_shape)``, converted to the writer's dtype."""
        arr = np.ascontiguousarray(np.asarray(rows), dtype=self.dtype)
        if arr.shape[1:] != self.row_shape:
            raise ValueError(f"NpyWriter for {self.path} writes rows of shape {self.row_shape}; got "
                             f"an array of shape {arr.shape}.")
        self._out.file.write(arr.reshape(-1).view(np.uint8).data)
        self.n_rows += arr.shape[0]

    def close(self) -> Path:
        """Complete the header and move the file into place; return its path."""
        header = _npy_header((self.n_rows, *self.row_shape), self.dtype, self._header_length)
        self._out.file.seek(0)
        self._out.file.write(header)
        self._out.commit()
        return self.path

    def abort(self) -> None:
        """Remove what was written; ``path`` is left as it was."""
        self._out.discard()

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def map_to_npy(fn: Callable, data, path, *, chunk_rows: int | None = None) -> Path:
    """Write ``fn(chunk)`` for every chunk of ``data`` into the ``.npy`` file ``path``: a
    row-wise function (e.g. ``model.reconstruct``) over data larger than memory, with an
    output larger than memory too.

    Parameters
    ----------
    fn : callable(ndarray) -> array-like
        Maps a float32 chunk ``(k, ...)`` to ``k`` output rows.
    data : path, np.memmap or ChunkedArray
        See :func:`open_chunked`.
    path : str or path
        The output, written atomically (complete, or not at all).
    chunk_rows : int, optional

    Returns
    -------
    Path
        ``path``; open it with ``np.load(path, mmap_mode="r")`` or :func:`open_chunked`.

    Examples
    --------
    >>> import aelab  # doctest: +SKIP
    >>> aelab.data.map_to_npy(model.reconstruct, "big.npy", "x_hat.npy")  # doctest: +SKIP
    """
    chunks = open_chunked(data, chunk_rows)
    writer = None
    try:
        for (start, stop), x in zip(chunks.chunk_bounds, chunks):
            out = np.asarray(fn(x))
            if out.ndim == 0 or out.shape[0] != x.shape[0]:
                raise ValueError(f"map_to_npy needs a row-wise function: {fn!r} returned shape "
                                 f"{out.shape} for rows {start:,} to {stop - 1:,} ({x.shape[0]} "
                                 "rows); it must return one output row per input row.")
            if writer is None:
                writer = NpyWriter(path, out.shape[1:], out.dtype)
            writer.write(out)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return writer.close()
