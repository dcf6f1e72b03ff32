"""`aelab encode`: write the codes of a data set to a .npy file."""

from __future__ import annotations

import io

import numpy as np

from aelab.cli.options import Formatter, add_data_option, load_data
from aelab.core.io import atomic_write_bytes
from aelab.models.persistence import load_model


def add_parser(sub):
    p = sub.add_parser("encode", help="encode data with a saved model", formatter_class=Formatter)
    p.add_argument("model_dir", help="directory written by `aelab train`")
    add_data_option(p)
    p.add_argument("--split", default="all", choices=["all", "train", "test"],
                   help="which part of a named data set to encode (all = train then test)")
    p.add_argument("--out", required=True, help="output .npy file")
    p.set_defaults(func=run)


def run(args) -> int:
    model = load_model(args.model_dir)
    ds = load_data(args)
    parts = {"train": [ds.X_train], "test": [ds.X_test],
             "all": [x for x in (ds.X_train, ds.X_test) if x is not None]}[args.split]
    if parts[0] is None:
        raise ValueError(f"{ds.name} has no {args.split} split; use --split all.")
    codes = model.encode(np.concatenate(parts))
    buf = io.BytesIO()
    np.save(buf, codes.astype(np.float32), allow_pickle=False)
    atomic_write_bytes(args.out, buf.getvalue())
    print(f"wrote codes {codes.shape} to {args.out}")
    return 0
