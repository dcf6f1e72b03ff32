"""Command-line options shared by subcommands: data, model config, training."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Real
from pathlib import Path

from aelab.core.io import LOCK_FILE
from aelab.core.optional import available
from aelab.data import DATASETS, Dataset, load, open_chunked
from aelab.data.streaming import parquet_column
from aelab.models import MODELS, get_model_class, list_models
from aelab.training import LR_SCHEDULES, OPTIMIZERS, PRECISIONS, TRACKERS
from aelab.training.tracking import Tracker, flatten

# Flags with their own spelling in `aelab train`; every other constructor keyword of a
# registered model becomes a flag automatically (see add_model_options).
EXPLICIT = {"input_shape", "latent_dim", "hidden"}



class Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where the help already says it (None)."""

    def _get_help_string(self, action):
        if action.default is None or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_data_option(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--data", required=required,
                   help="a data set name (digits, mnist) or a .npy/.npz/.csv/.parquet file")
    p.add_argument("--data-dir", default=None,
                   help="where named data sets live (default: $AELAB_DATA_DIR, then a cache)")
    p.add_argument("--label-column", default=None, help="CSV/Parquet column holding labels")


def load_data(args):
    return load(args.data, data_dir=args.data_dir, label_column=args.label_column)


# Files that can be read in chunks (data larger than memory).
STREAMED_SUFFIXES = (".npy", ".parquet")


def add_chunk_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chunk-rows", type=int, default=None,
                   help="rows read at a time from a .npy or .parquet file (default: about 16 MiB "
                        "of float32 per chunk)")


def is_streamed_file(name: str) -> bool:
    """Whether ``--data`` names a .npy or .parquet file (not a named data set)."""
    return name not in DATASETS and Path(name).suffix.lower() in STREAMED_SUFFIXES


def open_stream(args) -> Dataset:
    """``--data``, a .npy or .parquet file, opened to be read in chunks: a Dataset whose
    ``X_train`` is a ChunkedArray (labels of ``--label-column``, a Parquet column, are held
    in memory)."""
    if not is_streamed_file(args.data):
        raise ValueError(f"--stream reads a .npy or .parquet file chunk by chunk; {args.data!r} is "
                         "not one. Drop --stream to load it in memory, or convert it, e.g. "
                         "pandas.read_csv(path).to_parquet('data.parquet', row_group_size=16384).")
    path, y, drop = Path(args.data), None, []
    if args.label_column is not None:
        if path.suffix.lower() != ".parquet":
            raise ValueError(f"--label-column names a column of a Parquet file; {path} is an .npy "
                             "file, which has none.")
        y, drop = parquet_column(path, args.label_column), [args.label_column]
    return Dataset(path.stem, open_chunked(path, args.chunk_rows, drop=drop), y)


def _model_params() -> dict[str, dict[str, object]]:
    """For every constructor keyword of every model: {model name: default}."""
    params: dict[str, dict[str, object]] = {}
    for name, cls in sorted(MODELS.items()):
        for p in cls.init_parameters().values():
            if p.name not in EXPLICIT:
                params.setdefault(p.name, {})[name] = p.default
    return params


def _flag_type(defaults):
    values = [v for v in defaults if v is not None and v is not inspect.Parameter.empty]
    if values and all(isinstance(v, bool) for v in values):
        return "bool"
    if values and all(isinstance(v, tuple) for v in values):
        return "widths"
    for kind in (int, float):
        if values and all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
            return kind
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return float
    return str


def add_model_options(p: argparse.ArgumentParser) -> None:
    """--model, --latent-dim, --hidden, and one flag per model keyword (defaults shown)."""
    p.add_argument("--model", default="ae", choices=list_models(), help="model to train")
    p.add_argument("--latent-dim", type=int, default=32, help="code size")
    p.add_argument("--hidden", type=int, nargs="*", default=None,
                   help="encoder hidden widths, e.g. --hidden 256 64 (default: the model's own); "
                        "channels per stride-2 convolution with --backbone conv")
    p.add_argument("--input-shape", type=int, nargs="+", default=None,
                   help="shape of one example, e.g. 1 28 28 (default: the data's; (1, H, W) for "
                        "image data with --backbone conv)")
    group = p.add_argument_group("model options (each applies to the models named in its help)")
    for param, per_model in sorted(_model_params().items()):
        kind = _flag_type(per_model.values())
        flag = "--" + param.replace("_", "-")
        distinct = {repr(d) for d in per_model.values()}
        if len(per_model) > 1 and len(distinct) == 1:
            help_text = f"default: {distinct.pop()} (models: {', '.join(per_model)})"
        else:
            help_text = "default: " + ", ".join(f"{m}={d!r}" for m, d in per_model.items())
        if kind == "bool":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        elif kind == "widths":
            group.add_argument(flag, type=int, nargs="*", default=None, help=help_text)
        else:
            group.add_argument(flag, type=kind, default=None, help=help_text)


def model_config(args, ds) -> dict:
    """The constructor keywords given on the command line for args.model, for data set ``ds``."""
    cls = get_model_class(args.model)
    accepted = cls.config_keys()
    input_shape = tuple(ds.X_train.shape[1:])
    if args.input_shape:
        input_shape = tuple(args.input_shape)
    elif getattr(args, "backbone", None) == "conv":
        if not ds.image_shape:
            raise ValueError(f"--backbone conv needs image data; give --input-shape C H W for {ds.name}.")
        input_shape = (1, *ds.image_shape)
    cfg = {"input_shape": input_shape, "latent_dim": args.latent_dim}
    if args.hidden is not None:
        cfg["hidden"] = tuple(args.hidden)
    for param, per_model in _model_params().items():
        value = getattr(args, param, None)
        if value is None:
            continue
        if param not in accepted:
            raise ValueError(
                f"--{param.replace('_', '-')} does not apply to model {args.model!r}; it is an "
                f"option of {sorted(per_model)}."
            )
        cfg[param] = tuple(value) if isinstance(value, list) else value
    return cfg


def show_progress() -> bool:
    """Progress bars on an interactive terminal, when tqdm (the ``progress`` extra) is there."""
    return sys.stderr.isatty() and available("tqdm")


def add_train_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=50, help="maximum number of epochs")
    g.add_argument("--batch-size", type=int, default=128, help="examples per step")
    g.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    g.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS), help="optimizer")
    g.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight penalty")
    g.add_argument("--lr-schedule", default="constant", choices=sorted(LR_SCHEDULES),
                   help="per-epoch learning-rate multiplier")
    g.add_argument("--validation-split", type=float, default=0.1,
                   help="fraction of the training data held out for validation")
    g.add_argument("--early-stopping", type=int, default=10,
                   help="patience in epochs on the validation loss (0 disables)")
    g.add_argument("--grad-clip", type=float, default=None,
                   help="clip gradient norms to this value (default: no clipping)")
    g.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling and noise")
    g.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    g.add_argument("--checkpoint-every", type=int, default=5,
                   help="write OUT/checkpoints/checkpoint.safetensors every N epochs")
    g.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoints if a checkpoint is there")
    g.add_argument("--precision", default="fp32", choices=sorted(PRECISIONS),
                   help="bf16: forward passes under bfloat16 autocast (mixed precision)")
    g.add_argument("--compile", action="store_true",
                   help="run the loss through torch.compile (see benchmarks/compile.py)")


def train_options(args, checkpoint_dir) -> dict:
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "optimizer": args.optimizer,
        "weight_decay": args.weight_decay,
        "lr_schedule": args.lr_schedule,
        "validation_split": args.validation_split,
        "early_stopping": (args.early_stopping or None) if args.validation_split > 0 else None,
        "grad_clip": args.grad_clip,
        "seed": args.seed,
        "device": args.device,
        "checkpoint_dir": checkpoint_dir,
        "checkpoint_every": args.checkpoint_every,
        "resume": args.resume,
        "precision": args.precision,
        "compile": args.compile,
    }


def add_tracking_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("experiment tracking (needs the track extra: pip install 'aelab[track]')")
    g.add_argument("--log", default=None, choices=sorted(TRACKERS),
                   help="record the run: parameters, every loss term per epoch, the final metrics "
                        "and the saved model (default: no tracking)")
    g.add_argument("--log-dir", default=None,
                   help="where: MLflow's SQLite store (mlflow.db, artifacts/) or TensorBoard's event "
                        "files (default: OUT/mlflow or OUT/tensorboard)")
    g.add_argument("--tracking-uri", default=None,
                   help="with --log mlflow: a tracking server or database URI, instead of --log-dir")
    g.add_argument("--run-name", default=None, help="the run's name (default: the name of OUT)")


@contextmanager
def tracking(args) -> Iterator[Tracker | None]:
    """The tracker that ``--log`` asks for (None without it), ended with the block: marked
    failed if the block raises."""
    if args.log is None:
        given = [flag for flag, value in (("--log-dir", args.log_dir), ("--tracking-uri",
                 args.tracking_uri), ("--run-name", args.run_name)) if value is not None]
        if given:
            raise ValueError(f"Tracking options ({', '.join(given)}) need --log "
                             f"({' or '.join(sorted(TRACKERS))}).")
        yield None
        return
    cls, out = TRACKERS[args.log], Path(args.out)
    if args.log_dir is not None and Path(args.log_dir).resolve() == out.resolve():
        raise ValueError(f"--log-dir must be a folder of its own, not --out itself; e.g. "
                         f"--log-dir {out / args.log} (the default).")
    options = {"run_name": args.run_name or out.resolve().name}
    directory = args.log_dir or out / args.log
    if args.tracking_uri is not None:
        if "tracking_uri" not in inspect.signature(cls).parameters:
            raise ValueError(f"--tracking-uri does not apply to --log {args.log}, which writes files: "
                             "give --log-dir instead.")
        if args.log_dir is not None:
            raise ValueError("Give --log-dir (a local store) or --tracking-uri, not both.")
        directory, options["tracking_uri"] = None, args.tracking_uri
    with cls(directory, **options) as tracker:
        yield tracker


def log_saved_run(tracker: Tracker, report: dict, out: Path) -> None:
    """Log the numbers of ``report`` (metrics.json) as final metrics and the saved run in ``out``
    as artifacts, without its checkpoints, its lock file or a tracking store inside it."""
    tracker.log_metrics({k: v for k, v in flatten(report, sep="/").items()
                         if isinstance(v, Real) and not isinstance(v, bool)})
    exclude = {"checkpoints", LOCK_FILE}
    store = getattr(tracker, "directory", None)
    if store is not None and Path(store).resolve().is_relative_to(out.resolve()):
        exclude.update(Path(store).resolve().relative_to(out.resolve()).parts[:1])
    tracker.log_artifacts(out, name="model", exclude=exclude)
