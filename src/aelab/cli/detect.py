"""`aelab detect`: fit an autoencoder outlier detector on a table, then score new rows.

    aelab detect fit --data train.csv --out DIR
    aelab detect score DIR --data new.csv --out scores.csv

Tables may hold string columns (one-hot encoded, see :mod:`aelab.sklearn.tabular`).
``score`` reads a .npy or .parquet file in chunks and writes the scores as they come, so
memory stays bounded whatever the file's size (the scores are those of scoring it whole).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from aelab.applications.detection import AUTO_NEIGHBORS, NEIGHBOR_MAX_CODE, top_features
from aelab.cli.options import Formatter, add_chunk_option
from aelab.cli.tables import add_column_options, read_table
from aelab.core.io import AtomicFile, directory_lock
from aelab.core.optional import require
from aelab.data.streaming import NpyChunks, parquet_frames
from aelab.models import list_models
from aelab.sklearn import AutoencoderOutlierDetector

DEFAULTS = AutoencoderOutlierDetector().get_params()


def add_parser(sub):
    p = sub.add_parser("detect", help="outlier detection on tables (fit, score)",
                       formatter_class=Formatter)
    steps = p.add_subparsers(dest="step", required=True, metavar="STEP")

    fit = steps.add_parser("fit", help="fit a detector on a table (no labels) and save it",
                           formatter_class=Formatter)
    fit.add_argument("--data", required=True, help="training table: .csv, .parquet, .npy or .npz")
    fit.add_argument("--out", required=True, help="directory for the detector")
    add_column_options(fit)
    fit.add_argument("--contamination", default="auto",
                     help="expected outlier fraction in (0, 0.5], or 'auto' (Tukey's fence on the "
                          "training scores)")
    fit.add_argument("--model", default=DEFAULTS["model"], choices=list_models(trained_with_labels=False),
                     help="registered model of the ensemble members")
    fit.add_argument("--n-members", type=int, default=DEFAULTS["n_members"],
                     help="autoencoders in the final ensemble")
    fit.add_argument("--refits", type=int, default=DEFAULTS["refits"],
                     help="refits on the rows below the outlier threshold (0: fit once)")
    fit.add_argument("--neighbors", default=DEFAULTS["neighbors"],
                     help="nearest training codes whose mean distance is added to the score "
                          f"(0: reconstruction error only; 'auto': {AUTO_NEIGHBORS} for codes of "
                          f"at most {NEIGHBOR_MAX_CODE} dimensions, else 0)")
    fit.add_argument("--epochs", default="auto", help="maximum epochs per member, or 'auto'")
    fit.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, splits")
    fit.set_defaults(func=run_fit)

    score = steps.add_parser("score", help="score a table with a saved detector",
                             formatter_class=Formatter)
    score.add_argument("detector_dir", help="directory written by `aelab detect fit`")
    score.add_argument("--data", required=True, help="table to score: .csv, .parquet, .npy or .npz")
    score.add_argument("--out", required=True, help="output CSV: one row per input row")
    add_column_options(score)
    score.add_argument("--top", type=int, default=3, help="contributing features listed per row")
    add_chunk_option(score)
    score.set_defaults(func=run_score)


def run_fit(args) -> int:
    X, _ = read_table(args)
    contamination = _auto_or(args.contamination, "--contamination", float)
    epochs = _auto_or(args.epochs, "--epochs", int)
    neighbors = _auto_or(args.neighbors, "--neighbors", int)
    det = AutoencoderOutlierDetector(model=args.model, n_members=args.n_members, refits=args.refits,
                                     neighbors=neighbors,
                                     epochs=epochs, contamination=contamination,
                                     random_state=args.seed)
    t0 = time.perf_counter()
    det.fit(X)
    seconds = time.perf_counter() - t0
    with directory_lock(args.out, "saving a detector"):  # one writer per --out
        det.save(args.out)
    flagged = float(np.mean(det.predict(X) == -1))
    print(f"fitted {args.n_members} x {args.model} on {len(X)} rows x {det.n_features_in_} columns "
          f"in {seconds:.1f}s; {flagged:.1%} of the training rows are outliers "
          f"(contamination={contamination})")
    print(f"saved to {args.out}")
    return 0


def read_table_chunks(args) -> Iterator[tuple]:
    """The rows of a .npy or .parquet ``args.data``, a chunk at a time, as ``(X, ids)``
    like :func:`read_table` (Parquet chunks are DataFrames: string columns allowed)."""
    path = Path(args.data)
    if path.suffix.lower() == ".npy":
        if args.id_column or args.drop:
            raise ValueError("--id-column and --drop need a table with named columns (.csv or "
                             ".parquet).")
        chunks = NpyChunks(path, args.chunk_rows)
        for (start, stop), X in zip(chunks.chunk_bounds, chunks):
            yield X, np.arange(start, stop)
        return
    start = 0
    wanted = ([args.id_column] if args.id_column else []) + list(args.drop)
    for frame in parquet_frames(path, args.chunk_rows):
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise ValueError(f"{path} has no column(s) {missing}; its columns: {list(frame.columns)}.")
        ids = (frame[args.id_column].to_numpy() if args.id_column
               else np.arange(start, start + len(frame)))
        start += len(frame)
        yield frame.drop(columns=wanted), ids


def run_score(args) -> int:
    det = AutoencoderOutlierDetector.load(args.detector_dir)
    if args.top < 0:
        raise ValueError(f"--top must be >= 0; got {args.top}.")
    path = Path(args.data)
    if not path.is_file():
        raise ValueError(f"Data file {str(path)!r} does not exist.")
    streamed = path.suffix.lower() in (".npy", ".parquet")
    tables = read_table_chunks(args) if streamed else iter([read_table(args)])
    names = (list(det.feature_names_in_) if hasattr(det, "feature_names_in_")
             else [f"x{j}" for j in range(det.n_features_in_)])
    k = min(args.top, len(names))
    rows = outliers = 0
    with AtomicFile(args.out, "w") as out:  # scores.csv appears complete, or not at all
        for X, ids in tables:
            anomaly = -det.score_samples(X)
            outlier = det.predict(X) == -1
            tops = top_features(det.explain(X), names, k) if k else [[] for _ in range(len(anomaly))]
            scores_frame(args.id_column or "row", ids, anomaly, outlier, tops, k).to_csv(
                out.file, index=False, header=rows == 0)
            rows, outliers = rows + len(anomaly), outliers + int(outlier.sum())
    print(f"scored {rows} rows: {outliers} outliers ({outliers / rows:.1%}); wrote {args.out}",
          file=sys.stdout)
    return 0


def scores_frame(id_name, ids, anomaly, outlier, tops, k):
    """The rows of scores.csv: id, anomaly_score (higher = more anomalous), is_outlier, top
    features."""
    pd = require("pandas", "tables", "Writing scores.csv")
    table = {id_name: ids, "anomaly_score": anomaly, "is_outlier": outlier.astype(int)}
    for i in range(k):
        table[f"feature_{i + 1}"] = [row[i][0] for row in tops]
        table[f"share_{i + 1}"] = [round(row[i][1], 6) for row in tops]
    return pd.DataFrame(table)


def _auto_or(text: str, flag: str, kind: type):
    """``"auto"``, or ``text`` as ``kind`` (int or float)."""
    if text == "auto":
        return text
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise ValueError(f"{flag} must be {what} or 'auto'; got {text!r}.") from None
