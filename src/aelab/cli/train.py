"""`aelab train`: fit a model, save it with its history, metrics and figures."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import aelab
from aelab.cli.options import (
    Formatter,
    add_data_option,
    add_model_options,
    add_train_options,
    load_data,
    model_config,
    train_options,
)
from aelab.evaluation import reconstruction_report
from aelab.persistence import atomic_write_bytes
from aelab.report.figures import plot_history, plot_reconstructions


def add_parser(sub):
    p = sub.add_parser("train", help="train a model and save it", formatter_class=Formatter)
    add_data_option(p)
    add_model_options(p)
    add_train_options(p)
    p.add_argument("--dynamic-binarization", action="store_true",
                   help="resample training pixels as Bernoulli(intensity) at every step (binarised "
                        "MNIST, with --likelihood bernoulli)")
    p.add_argument("--out", required=True, help="directory for the model and its reports")
    p.set_defaults(func=run)


def write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2).encode())


def save_run(model, ds, result, out: Path, seconds: float) -> dict:
    """Save the model, history.json, metrics.json and figures into ``out``."""
    metadata = {"data": ds.name, "image_shape": list(ds.image_shape) if ds.image_shape else None}
    model.save(out, metadata=metadata)
    write_json(out / "history.json", result.to_dict())
    X_eval = ds.X_test if ds.X_test is not None else ds.X_train
    y_eval = ds.y_test if ds.X_test is not None else ds.y_train
    report = reconstruction_report(model, X_eval, ds.X_train if ds.X_test is not None else None,
                                   y_eval if model.n_classes else None)
    report.update({"split": "test" if ds.X_test is not None else "train", "train_time_s": seconds,
                   "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                   "samples_per_s": result.samples_per_s})
    write_json(out / "metrics.json", report)
    plot_history(result.history, out / "figures" / "loss.png", title=f"{model.name} on {ds.name}")
    if ds.image_shape and math.prod(ds.image_shape) == model.n_features:
        x = X_eval[:10]
        labels = y_eval[:10] if model.n_classes else None
        plot_reconstructions(x, model.reconstruct(x, y=labels), ds.image_shape,
                             out / "figures" / "reconstructions.png", title=model.name)
    return report


def run(args) -> int:
    ds = load_data(args)
    out = Path(args.out)
    model = aelab.create(args.model, seed=args.seed, **model_config(args, ds))
    transform = aelab.data.dynamic_binarize if args.dynamic_binarization else None
    t0 = time.perf_counter()
    result = aelab.train(model, ds.X_train, ds.y_train, progress=sys.stderr.isatty(),
                         batch_transform=transform, **train_options(args, out / "checkpoints"))
    seconds = time.perf_counter() - t0
    report = save_run(model, ds, result, out, seconds)
    print(f"trained {args.model} on {ds.name}: {result.epochs_run} epochs in {seconds:.1f}s")
    print(f"{report['split']} squared error per example: {report['sq_error_per_example']:.4f} "
          f"(PCA-{report['code_size']}: {report['pca']['sq_error_per_example']:.4f})")
    print(f"saved to {out}")
    return 0
