"""`aelab train`: fit a model, save it with its history, metrics and figures."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from aelab.applications.evaluation import reconstruction_report
from aelab.cli.options import (
    Formatter,
    add_chunk_option,
    add_data_option,
    add_model_options,
    add_tracking_options,
    add_train_options,
    load_data,
    log_saved_run,
    model_config,
    open_stream,
    show_progress,
    tracking,
    train_options,
)
from aelab.core.io import directory_lock, write_json
from aelab.core.optional import MissingExtra
from aelab.data import ChunkedArray, Split, dynamic_binarize
from aelab.models import create
from aelab.report.figures import plot_history, plot_reconstructions
from aelab.training import is_main_process, train

# Rows of a streamed file that metrics.json is computed on (they are held in memory).
REPORT_ROWS = 10_000


def add_parser(sub):
    p = sub.add_parser("train", help="train a model and save it", formatter_class=Formatter)
    add_data_option(p)
    add_model_options(p)
    add_train_options(p)
    p.add_argument("--dynamic-binarization", action="store_true",
                   help="resample training pixels as Bernoulli(intensity) at every step (binarised "
                        "MNIST, with --likelihood bernoulli)")
    p.add_argument("--stream", action="store_true",
                   help="read a .npy or .parquet --data file in chunks, for data larger than memory "
                        "(shuffled chunk by chunk; the reports use its first "
                        f"{REPORT_ROWS:,} rows)")
    add_chunk_option(p)
    p.add_argument("--out", required=True, help="directory for the model and its reports")
    add_tracking_options(p)
    p.set_defaults(func=run)


def save_run(model, ds, result, out: Path, seconds: float) -> dict:
    """Save the model, history.json, metrics.json and figures into ``out``."""
    metadata = {"data": ds.name, "image_shape": list(ds.image_shape) if ds.image_shape else None}
    model.save(out, metadata=metadata)
    write_json(out / "history.json", result.to_dict())
    held = ds.held_out()
    if isinstance(held.X, ChunkedArray):  # streamed (--stream): report on its first rows
        rows = held.X.head(REPORT_ROWS)
        held = Split(f"{held.name} (first {len(rows):,} rows)", rows,
                     None if held.y is None else held.y[: len(rows)])
    report = reconstruction_report(model, held.X, ds.X_train if held.name == "test" else None,
                                   held.y if model.n_classes else None)
    report.update({"split": held.name, "train_time_s": seconds,
                   "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                   "samples_per_s": result.samples_per_s})
    write_json(out / "metrics.json", report)
    try:
        plot_history(result.history, out / "figures" / "loss.png",
                     title=f"{model.name} on {ds.name}")
        if ds.image_shape and math.prod(ds.image_shape) == model.n_features:
            x = held.X[:10]
            labels = held.y[:10] if model.n_classes else None
            plot_reconstructions(x, model.reconstruct(x, y=labels), ds.image_shape,
                                 out / "figures" / "reconstructions.png", title=model.name)
    except MissingExtra as err:  # the model and the reports are saved; only figures are missing
        print(f"figures skipped: {err}", file=sys.stderr)
    return report


def run(args) -> int:
    if not is_main_process():  # under torchrun every rank trains; rank 0 alone writes
        return _run(args, None)
    with directory_lock(args.out, "writing a model"), tracking(args) as tracker:  # one writer per --out
        return _run(args, tracker)


def _run(args, tracker=None) -> int:
    ds = open_stream(args) if args.stream else load_data(args)
    out = Path(args.out)
    model = create(args.model, seed=args.seed, **model_config(args, ds))
    transform = dynamic_binarize if args.dynamic_binarization else None
    t0 = time.perf_counter()
    result = train(model, ds.X_train, ds.y_train, progress=show_progress(),
                         batch_transform=transform, callback=tracker,
                         **train_options(args, out / "checkpoints"))
    seconds = time.perf_counter() - t0
    if not is_main_process():
        return 0
    report = save_run(model, ds, result, out, seconds)
    if tracker is not None:
        log_saved_run(tracker, report, out)
    print(f"trained {args.model} on {ds.name}: {result.epochs_run} epochs in {seconds:.1f}s")
    print(f"{report['split']} squared error per example: {report['sq_error_per_example']:.4f} "
          f"(PCA-{report['code_size']}: {report['pca']['sq_error_per_example']:.4f})")
    print(f"saved to {out}")
    return 0
