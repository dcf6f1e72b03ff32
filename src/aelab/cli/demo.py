"""`aelab demo`: the main job on the embedded default data (digits)."""

from __future__ import annotations

import time
from pathlib import Path

from aelab.cli.options import Formatter
from aelab.report.demo import run_demo


def add_parser(sub):
    p = sub.add_parser("demo", help="train the autoencoder family on digits and write a summary",
                       formatter_class=Formatter)
    p.add_argument("--out", default="demo-output", help="output directory")
    p.add_argument("--epochs", type=int, default=None,
                   help="cap on epochs per model (default: the demo's 300, early-stopped)")
    p.set_defaults(func=run)


def run(args) -> int:
    t0 = time.perf_counter()
    rows = run_demo(args.out, epochs=args.epochs)
    print(f"{'model':24s} {'code':>4s} {'test err':>9s} {'PCA':>8s} {'time s':>7s}")
    for r in rows:
        print(f"{r['label']:24s} {r['code_size']:4d} {r['test_error']:9.3f} "
              f"{r['pca_error']:8.3f} {r['seconds']:7.1f}")
    print(f"wrote {Path(args.out) / 'summary.md'}, {Path(args.out) / 'report.html'} and figures in "
          f"{time.perf_counter() - t0:.0f}s")
    return 0
