"""Semi-supervised MNIST: pretrain a stacked denoising autoencoder on all 60,000 training
images (no labels), then fine-tune its encoder + softmax with only 100 or 1,000 labels;
beside the same network from random initialisation and logistic regression on pixels.
Five label draws (class-balanced), mean ± std of the test error.

    python benchmarks/semisupervised.py [--pretrain-epochs 5]
    python benchmarks/semisupervised.py --quick
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

import aelab
from aelab.applications.probes import linear_probe
from common import balanced_draw, data_dir, machine, parse_args, write

logger = logging.getLogger("semisupervised")
WIDTHS = (500, 500)
LR = 1e-3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pretrain-epochs", type=int, default=5, help="per layer")
    parser.add_argument("--updates", type=int, default=1500,
                        help="fine-tuning steps (batch 32) for every label budget")
    parser.add_argument("--draws", type=int, default=5)
    args = parse_args(parser)
    if args.quick:
        args.pretrain_epochs, args.updates, args.draws = 1, 30, 2
    ds = aelab.data.load("mnist", data_dir=data_dir())
    X, y, X_test, y_test = ds.X_train, ds.y_train, ds.X_test, ds.y_test
    X_pre = X[:5000] if args.quick else X
    t_start = time.perf_counter()

    stack = aelab.greedy_pretrain(X_pre, WIDTHS, layer="denoising", activation="sigmoid",
                                  code_activation="sigmoid", likelihood="bernoulli",
                                  layer_options={"corruption": "masking", "noise": 0.25},
                                  epochs=args.pretrain_epochs, batch_size=128, lr=LR,
                                  lr_schedule="cosine", device="cpu", seed=0)
    pretrained = stack.unroll()
    logger.info("pretrained in %.0f s", stack.train_time_s)

    results: dict[int, dict[str, list[float]]] = {}
    for n_labels in (100, 1000):
        errs = {"pretrained": [], "random init": [], "logistic regression (pixels)": []}
        batch = 32
        epochs = max(1, round(args.updates * batch / n_labels))
        for draw in range(args.draws):
            idx = balanced_draw(y, n_labels, seed=draw)
            Xl, yl = X[idx], y[idx]
            for kind in ("pretrained", "random init"):
                clf = aelab.Classifier.from_autoencoder(pretrained, 10, pretrained=kind == "pretrained",
                                                        seed=draw)
                aelab.train(clf, Xl, yl, epochs=epochs, batch_size=batch, lr=LR, lr_schedule="cosine",
                            device="cpu", seed=draw)
                errs[kind].append(1.0 - clf.score(X_test, y_test))
            errs["logistic regression (pixels)"].append(
                1.0 - linear_probe(None, Xl, yl, X_test, y_test, max_iter=1000).accuracy)
            logger.info("%d labels, draw %d: %s", n_labels, draw,
                        {k: round(100 * v[-1], 2) for k, v in errs.items()})
        results[n_labels] = {"epochs": epochs, **errs}
    wall = time.perf_counter() - t_start

    ms = lambda v: f"{100 * np.mean(v):.2f} ± {100 * np.std(v):.2f}"  # noqa: E731
    rows = [f"| {kind} | " + " | ".join(ms(results[n][kind]) for n in (100, 1000)) + " |"
            for kind in ("pretrained", "random init", "logistic regression (pixels)")]
    arch = "784-" + "-".join(map(str, WIDTHS)) + "-10"
    payload = {"command": args.command, "machine": machine(), "wall_time_s": wall,
               "pretrain_time_s": stack.train_time_s,
               "setup": {"network": f"{arch}, sigmoid hidden units, softmax output",
                         "pretraining": f"greedy stacked DAE, masking 25%, {args.pretrain_epochs} epochs per "
                                        f"layer on {len(X_pre)} unlabelled images, Adam lr {LR} cosine, batch 128",
                         "finetuning": f"{args.updates} Adam steps (lr {LR}, cosine, batch 32), "
                                       "no validation, no early stopping",
                         "logistic_regression": "StandardScaler + LogisticRegression(C=1, max_iter=1000)",
                         "draws": args.draws, "labels": "class-balanced, drawn with seeds 0..draws-1"},
               "test_error": {str(n): r for n, r in results.items()}}
    md = f"""# Semi-supervised MNIST: 100 and 1,000 labels

Command: `{args.command}` (from the repository root; MNIST from `$AELAB_DATA_DIR`).
Total wall time {wall / 60:.1f} min ({stack.train_time_s / 60:.1f} min of it pretraining) on
{payload['machine']['cpu_cores']} shared CPU cores, {args.threads} torch thread(s).

Network {arch} (sigmoid hidden units). *pretrained*: greedy stacked DAE (masking 25%),
{args.pretrain_epochs} epochs per layer on all {len(X_pre)} training images without labels, unrolled,
encoder + softmax fine-tuned on the labelled images only. *random init*: the same network and
fine-tuning from a random initialisation. Fine-tuning: {args.updates} Adam steps (batch 32,
lr {LR}, cosine) = {results[100]['epochs']} epochs of 100 labels or {results[1000]['epochs']}
epochs of 1,000; no validation set, no early stopping. Labels: class-balanced draws, seeds
0..{args.draws - 1}.

Test error, % (10,000 test images), mean ± std over {args.draws} label draws:

| model | 100 labels | 1,000 labels |
|---|---|---|
{chr(10).join(rows)}

No published figure uses exactly this protocol; for scale, Hinton & Salakhutdinov (2006) and
Vincent et al. (2010) report that pretraining helps most when labels are few.
"""
    if not args.quick:
        write("semisupervised", md, payload)
    print(md)


if __name__ == "__main__":
    main()
