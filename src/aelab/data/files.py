"""Reading user files: .npy, .npz, .csv, .parquet — numeric columns only, no pickle."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aelab.core.optional import MissingExtra, require
from aelab.core.validation import as_float_array


def check_npy_header(f, available: int, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read an .npy header from ``f`` (a file of ``available`` bytes) and return its
    ``(shape, fortran_order, dtype)``, leaving ``f`` at the first byte of data.

    Refuses a header that declares more data than the file holds, before numpy allocates
    room for it.
    """
    version = np.lib.format.read_magic(f)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, fortran_order, dtype = read_header(f)
    declared = math.prod(shape) * dtype.itemsize
    if declared > available - f.tell():
        raise ValueError(f"{where} declares an array of shape {shape} and dtype {dtype} "
                         f"({declared:,} bytes) but holds {available - f.tell():,}: the file is "
                         "truncated or damaged.")
    return shape, fortran_order, dtype


def _npy(path: Path, label_column):
    with open(path, "rb") as f:
        check_npy_header(f, path.stat().st_size, str(path))
    return np.load(path, allow_pickle=False), None, None


def _npz(path: Path, label_column):
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as f:
                check_npy_header(f, info.file_size, f"{path}:{info.filename}")
    with np.load(path, allow_pickle=False) as z:
        keys = list(z.files)
        if "X" in keys:
            return z["X"], (z["y"] if "y" in keys else None), None
        if len(keys) == 1:
            return z[keys[0]], None, None
        raise ValueError(f"{path} holds arrays {keys}; aelab reads 'X' (and optionally 'y'). "
                         "Save your features under the key 'X'.")


def non_numeric_error(path, bad: list[str]) -> ValueError:
    """The error for a table whose columns ``bad`` are not numbers."""
    return ValueError(f"{path} has non-numeric column(s) {bad}. aelab reads numeric features: "
                      "drop or encode them (for mixed tables use aelab.sklearn, which one-hot "
                      "encodes).")


def _frame(frame, path: Path, label_column):
    y = None
    if label_column is not None:
        if label_column not in frame.columns:
            raise ValueError(f"label_column {label_column!r} is not a column of {path}; columns: "
                             f"{list(frame.columns)}.")
        y = frame.pop(label_column).to_numpy()
    bad = [str(c) for c, dt in frame.dtypes.items() if dt.kind not in "biuf"]
    if bad:
        raise non_numeric_error(path, bad)
    return frame.to_numpy(dtype=np.float64), y, [str(c) for c in frame.columns]


def _csv(path: Path, label_column):
    pd = require("pandas", "tables", "Reading a CSV file")
    return _frame(pd.read_csv(path), path, label_column)


def _parquet(path: Path, label_column):
    pd = require("pandas", "tables", "Reading a Parquet file")
    require("pyarrow", "tables", "Reading a Parquet file")
    return _frame(pd.read_parquet(path), path, label_column)


FILE_READERS: dict[str, Callable] = {".npy": _npy, ".npz": _npz, ".csv": _csv,
                                     ".parquet": _parquet}


def read_file(path, label_column=None):
    """Return (X float32 (n, d), y or None, feature names or None) from a user file."""
    path = Path(path)
    reader = FILE_READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"Cannot read {path}: unknown file type {path.suffix!r}. Use one of "
                         f"{sorted(FILE_READERS)}.")
    if not path.is_file():
        raise ValueError(f"Data file {str(path)!r} does not exist.")
    try:
        X, y, names = reader(path, label_column)
    except MissingExtra:
        raise
    except (ValueError, TypeError) as err:
        if str(path) in str(err):  # ours: it names the file and the fix
            raise
        raise ValueError(f"Cannot read {path} as a {path.suffix} file: {err}") from None
    except Exception as err:  # noqa: BLE001 - a malformed file can fail anywhere in the parser below
        raise ValueError(f"Cannot read {path} as a {path.suffix} file ({type(err).__name__}: "
                         f"{err}).") from None
    X = as_float_array(X, name=f"the data in {path.name}")
    return X, y, names
