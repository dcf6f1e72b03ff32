"""Tables on the command line: a .csv or .parquet file (named columns, strings allowed) or a
.npy / .npz array, with an optional id column and columns to leave out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aelab.core.optional import require
from aelab.data.files import read_file


def add_column_options(p) -> None:
    p.add_argument("--id-column", default=None,
                   help="column copied to the output as the row id, not used as a feature")
    p.add_argument("--drop", nargs="*", default=[], help="columns to leave out (labels, ...)")


def read_table(args, gaps: bool = False):
    """The table in ``args.data`` as a DataFrame (CSV/Parquet) or array, and its row ids.

    ``gaps``: the table may hold missing values; a .npy array is then read as it is (float64,
    NaN marking a gap) instead of through :func:`aelab.data.files.read_file`, which refuses NaN.
    """
    path = Path(args.data)
    if not path.is_file():
        raise ValueError(f"Data file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet"):
        pd = require("pandas", "tables", "Reading a table")
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        wanted = ([args.id_column] if args.id_column else []) + list(args.drop)
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise ValueError(f"{path} has no column(s) {missing}; its columns: {list(frame.columns)}.")
        ids = frame[args.id_column].to_numpy() if args.id_column else np.arange(len(frame))
        return frame.drop(columns=wanted), ids
    if args.id_column or args.drop:
        raise ValueError("--id-column and --drop need a table with named columns (.csv or .parquet).")
    if gaps and suffix == ".npy":
        X = np.load(path, allow_pickle=False)
        if X.ndim != 2 or X.dtype.kind not in "fiu":
            raise ValueError(f"{path} must hold a 2-D numeric array (rows x columns); it holds "
                             f"{X.ndim}-D {X.dtype}.")
        return X.astype(np.float64), np.arange(len(X))
    X, _, _ = read_file(path)
    return X, np.arange(len(X))
