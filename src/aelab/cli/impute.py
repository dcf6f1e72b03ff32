"""`aelab impute`: fill the missing values of a table with a masked autoencoder imputer.

    aelab impute fit --data table.csv --out DIR --filled filled.csv
    aelab impute fill DIR --data new.csv --out filled.csv

A missing value is an empty CSV field (or NA / NaN), a Parquet null or a NaN in a .npy
array. Tables may hold string columns (one-hot encoded; a missing category is filled with the
most likely one). Observed values are written back unchanged; ``--add-indicator`` appends a
0/1 column per feature that had gaps in ``fit``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from aelab.cli.options import Formatter
from aelab.cli.tables import add_column_options, read_table
from aelab.core.io import AtomicFile, atomic_write_bytes, directory_lock
from aelab.core.optional import require
from aelab.sklearn import AutoencoderImputer

DEFAULTS = AutoencoderImputer().get_params()
OUTPUTS = (".csv", ".npy")


def add_parser(sub):
    p = sub.add_parser("impute", help="fill missing values of a table (fit, fill)",
                       formatter_class=Formatter)
    steps = p.add_subparsers(dest="step", required=True, metavar="STEP")

    fit = steps.add_parser("fit", help="fit an imputer on a table with gaps and save it",
                           formatter_class=Formatter)
    fit.add_argument("--data", required=True, help="table with gaps: .csv, .parquet or .npy")
    fit.add_argument("--out", required=True, help="directory for the imputer")
    fit.add_argument("--filled", default=None,
                     help="also write the table itself, filled (.csv or .npy)")
    add_column_options(fit)
    fit.add_argument("--n-members", type=int, default=DEFAULTS["n_members"],
                     help="networks whose imputations are averaged")
    fit.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], help="maximum epochs")
    fit.add_argument("--add-indicator", action="store_true",
                     help="append a 0/1 column per feature that has gaps")
    fit.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, masks")
    fit.set_defaults(func=run_fit)

    fill = steps.add_parser("fill", help="fill a table's gaps with a saved imputer",
                            formatter_class=Formatter)
    fill.add_argument("imputer_dir", help="directory written by `aelab impute fit`")
    fill.add_argument("--data", required=True, help="table with gaps: .csv, .parquet or .npy")
    fill.add_argument("--out", required=True, help="the filled table (.csv or .npy)")
    add_column_options(fill)
    fill.set_defaults(func=run_fill)


def run_fit(args) -> int:
    if args.filled is not None:
        _check_output(args.filled)
    X, ids = _read(args)
    imp = AutoencoderImputer(n_members=args.n_members, epochs=args.epochs,
                             add_indicator=args.add_indicator, random_state=args.seed)
    t0 = time.perf_counter()
    filled = imp.fit_transform(X)
    seconds = time.perf_counter() - t0
    with directory_lock(args.out, "saving an imputer"):  # one writer per --out
        imp.save(args.out)
    gaps = int(_missing(X).sum())
    print(f"fitted {args.n_members} networks on {len(ids)} rows x {imp.n_features_in_} columns "
          f"({gaps} missing values) in {seconds:.1f}s; saved to {args.out}")
    if args.filled is not None:
        _write(args.filled, filled, imp, args.id_column, ids)
        print(f"wrote {args.filled}")
    return 0


def run_fill(args) -> int:
    _check_output(args.out)
    imp = AutoencoderImputer.load(args.imputer_dir)
    X, ids = _read(args)
    filled = imp.transform(X)
    _write(args.out, filled, imp, args.id_column, ids)
    print(f"filled {int(_missing(X).sum())} missing values in {len(ids)} rows; wrote {args.out}")
    return 0


def _read(args):
    """The table (gaps as NaN / None) and its row ids."""
    if Path(args.data).suffix.lower() not in (".csv", ".parquet", ".npy"):
        raise ValueError(f"Cannot impute {args.data}: give a .csv, .parquet or .npy table.")
    return read_table(args, gaps=True)


def _missing(X) -> np.ndarray:
    return X.isna().to_numpy() if hasattr(X, "isna") else np.isnan(X)


def _check_output(path) -> None:
    if Path(path).suffix.lower() not in OUTPUTS:
        raise ValueError(f"Cannot write the filled table to {path}: name a {' or '.join(OUTPUTS)} "
                         "file.")


def _write(path, filled, imp: AutoencoderImputer, id_column, ids) -> None:
    """The filled table to ``path`` (.csv with a header, or .npy), whole or not at all."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        if hasattr(filled, "columns"):
            raise ValueError(f"The table has string columns: write it as .csv, not {path.name}.")
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(filled, dtype=np.float64))
        atomic_write_bytes(path, buffer.getvalue())
        return
    pd = require("pandas", "tables", "Writing a table")
    frame = filled if hasattr(filled, "columns") else pd.DataFrame(
        filled, columns=imp.get_feature_names_out())
    if id_column:
        frame.insert(0, id_column, ids)
    with AtomicFile(path, "w") as out:  # the CSV appears complete, or not at all
        frame.to_csv(out.file, index=False)
