"""`aelab encode`: write the codes of a data set to a .npy file.

A .npy or .parquet file is read in chunks and its codes are written as they come: memory
stays bounded by the chunk size whatever the file's size, and the codes are those of
encoding it whole. A conditional model's encoder reads each row's label too: a named data
set's labels, or ``--label-column``'s.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from aelab.cli.options import (
    Formatter,
    add_chunk_option,
    add_data_option,
    is_streamed_file,
    load_data,
    open_stream,
)
from aelab.core.io import atomic_write_bytes
from aelab.data import map_to_npy
from aelab.models.persistence import load_model


def add_parser(sub):
    p = sub.add_parser("encode", help="encode data with a saved model", formatter_class=Formatter)
    p.add_argument("model_dir", help="directory written by `aelab train`")
    add_data_option(p)
    p.add_argument("--split", default="all", choices=["all", "train", "test"],
                   help="which part of a named data set to encode (all = train then test)")
    add_chunk_option(p)
    p.add_argument("--out", required=True, help="output .npy file")
    p.set_defaults(func=run)


def run(args) -> int:
    model = load_model(args.model_dir)
    if is_streamed_file(args.data):
        return _run_streamed(model, args)
    ds = load_data(args)
    parts = {"train": [(ds.X_train, ds.y_train)], "test": [(ds.X_test, ds.y_test)],
             "all": [(x, y) for x, y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test))
                     if x is not None]}[args.split]
    if parts[0][0] is None:
        raise ValueError(f"{ds.name} has no {args.split} split; use --split all.")
    X = np.concatenate([x for x, _ in parts])
    y = None
    if model.n_classes:
        if any(labels is None for _, labels in parts):
            raise ValueError(_needs_labels(model, args.data))
        y = np.concatenate([labels for _, labels in parts])
    codes = model.encode(X, y=y)
    buf = io.BytesIO()
    np.save(buf, codes.astype(np.float32), allow_pickle=False)
    atomic_write_bytes(args.out, buf.getvalue())
    print(f"wrote codes {codes.shape} to {args.out}")
    return 0


def _needs_labels(model, data) -> str:
    return (f"This {type(model).__name__} is conditional: its encoder reads each row's class "
            f"label, and {data!r} has none. Name the labels' column with --label-column "
            "(a CSV or Parquet file), or encode a named data set that has labels.")


def _run_streamed(model, args) -> int:
    """A .npy or .parquet file, encoded chunk by chunk into the output."""
    if args.split == "test":  # a file is one split, as aelab.data.load reads it
        raise ValueError(f"{Path(args.data).stem} has no test split; use --split all.")
    ds = open_stream(args)
    chunks, labels = ds.X_train, ds.y_train
    if not model.n_classes:
        encode = model.encode
    elif labels is None:
        raise ValueError(_needs_labels(model, args.data))
    else:
        done = [0]

        def encode(x):  # map_to_npy hands the chunks over in order: labels follow by offset
            y = labels[done[0]: done[0] + len(x)]
            done[0] += len(x)
            return model.encode(x, y=y)
    out = map_to_npy(lambda x: encode(x).astype(np.float32), chunks, args.out)
    shape = np.load(out, mmap_mode="r").shape  # reads the header only
    print(f"wrote codes {shape} to {args.out}")
    return 0
