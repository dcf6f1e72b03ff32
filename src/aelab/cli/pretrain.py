"""`aelab pretrain`: greedy layer-wise pretraining, unrolling, fine-tuning; saves the deep model."""

from __future__ import annotations

import json
import time
from pathlib import Path

from aelab.applications.evaluation import squared_errors
from aelab.applications.pretraining import greedy_pretrain
from aelab.cli.options import (
    Formatter,
    add_data_option,
    add_tracking_options,
    add_train_options,
    load_data,
    log_saved_run,
    show_progress,
    tracking,
    train_options,
)
from aelab.cli.train import save_run
from aelab.core.io import directory_lock
from aelab.models import list_models
from aelab.training import train


def add_parser(sub):
    p = sub.add_parser("pretrain", formatter_class=Formatter,
                       help="greedily pretrain a stack of shallow autoencoders, unroll, fine-tune")
    add_data_option(p)
    p.add_argument("--widths", type=int, nargs="+", required=True,
                   help="code width of each layer from the input side, e.g. --widths 1000 500 250 30")
    p.add_argument("--layer", default="ae", choices=list_models(), help="model of every layer")
    p.add_argument("--activation", default="sigmoid", help="code activation of every layer but the last")
    p.add_argument("--code-activation", default="linear", help="code activation of the last layer")
    p.add_argument("--likelihood", default="gaussian", choices=["gaussian", "bernoulli"],
                   help="the first layer's decoder likelihood (the data's)")
    p.add_argument("--layer-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a constructor option of every layer (VALUE as JSON), e.g. --layer-option "
                        "noise=0.25; repeat for several")
    p.add_argument("--pretrain-epochs", type=int, default=10, help="epochs per layer")
    p.add_argument("--tied", action="store_true", help="unroll with a tied decoder (shared weights)")
    add_train_options(p)
    p.add_argument("--out", required=True, help="directory for the fine-tuned model and its reports")
    add_tracking_options(p)
    p.set_defaults(func=run)


def parse_layer_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--layer-option expects KEY=VALUE (e.g. noise=0.25); got {pair!r}.")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value  # a bare word: a string option such as corruption=masking
    return options


def run(args) -> int:
    with directory_lock(args.out, "writing a model"), tracking(args) as tracker:  # one writer per --out
        return _run(args, tracker)


def _run(args, tracker=None) -> int:
    ds = load_data(args)
    out = Path(args.out)
    opts = train_options(args, out / "checkpoints")
    t0 = time.perf_counter()
    stack = greedy_pretrain(
        ds.X_train, tuple(args.widths), layer=args.layer, activation=args.activation,
        code_activation=args.code_activation, likelihood=args.likelihood,
        layer_options=parse_layer_options(args.layer_option), seed=args.seed,
        epochs=args.pretrain_epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
        weight_decay=args.weight_decay, lr_schedule=args.lr_schedule, device=args.device,
        progress=show_progress())
    deep = stack.unroll(tied=args.tied)
    X_eval = ds.held_out().X
    stack_err = float(squared_errors(X_eval, stack.reconstruct(X_eval)).sum(1).mean())
    print(f"pretrained {len(args.widths)} {args.layer} layers in {stack.train_time_s:.1f}s; "
          f"stack squared error per example: {stack_err:.4f}")
    result = train(deep, ds.X_train, progress=show_progress(), callback=tracker, **opts)
    report = save_run(deep, ds, result, out, time.perf_counter() - t0)
    if tracker is not None:
        log_saved_run(tracker, report, out)
    print(f"fine-tuned {result.epochs_run} epochs; {report['split']} squared error per example: "
          f"{report['sq_error_per_example']:.4f} (PCA-{report['code_size']}: "
          f"{report['pca']['sq_error_per_example']:.4f})")
    print(f"saved to {out}")
    return 0
