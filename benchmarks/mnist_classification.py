"""MNIST classification from learned representations (Vincent et al. 2010, Table 3; Rifai et
al. 2011, Table 1): raw pixels, AE, stacked AE, stacked DAE (masking 25%), CAE (one
1000-unit layer), k-sparse AE; each read out by a linear probe on the frozen codes and
fine-tuned end to end as a classifier (encoder + softmax) by the one trainer.

    python benchmarks/mnist_classification.py [--pretrain-epochs 5] [--finetune-epochs 15]
    python benchmarks/mnist_classification.py --quick     # 5k images, 1 epoch: checks it runs
"""

from __future__ import annotations

import argparse
import logging
import time

import aelab
from aelab.applications.probes import linear_probe
from common import data_dir, machine, parse_args, write

logger = logging.getLogger("mnist_classification")
BATCH = 128
LR = 1e-3
ONE = {"likelihood": "bernoulli", "hidden": (), "latent_dim": 1000, "code_activation": "sigmoid"}


def representations(args):
    """name -> (description, builder(X) -> (autoencoder, pretrain seconds)), or None for pixels."""
    opts = {"batch_size": BATCH, "lr": LR, "lr_schedule": "cosine", "device": "cpu", "seed": 0}

    def shallow(name, **config):
        def build(X):
            model = aelab.create(name, seed=0, input_shape=784, **{**ONE, **config})
            res = aelab.train(model, X, epochs=args.pretrain_epochs, **opts)
            return model, res.train_time_s
        return build

    def stacked(layer, **layer_options):
        def build(X):
            stack = aelab.greedy_pretrain(X, (1000, 1000, 1000), layer=layer, activation="sigmoid",
                                          code_activation="sigmoid", likelihood="bernoulli",
                                          layer_options=layer_options, epochs=args.pretrain_epochs,
                                          **opts)
            return stack.unroll(), stack.train_time_s
        return build

    return {
        "raw pixels": ("784 pixels in [0, 1]; fine-tuned row: 784-1000-10 sigmoid MLP from random init",
                       None),
        "AE": ("784-1000 sigmoid code, Bernoulli decoder", shallow("ae")),
        f"CAE (λ={args.contraction:g})": ("784-1000 sigmoid code, contractive penalty (closed form)",
                                          shallow("contractive", contraction_weight=args.contraction)),
        f"k-sparse AE (k={args.k})": (f"784-1000 linear code, top-{args.k} units kept, tied weights, "
                                      "squared error (Makhzani & Frey 2014)",
                                      shallow("sparse", penalty="topk", k=args.k, code_activation="linear",
                                              likelihood="gaussian", tied=True)),
        "stacked AE (3 layers)": ("greedy 784-1000-1000-1000, sigmoid codes, Bernoulli decoders",
                                  stacked("ae")),
        "stacked DAE (3 layers, masking 25%)": ("as stacked AE, each layer a DAE with 25% masking noise",
                                               stacked("denoising", corruption="masking", noise=0.25)),
    }


def report(args, results: dict, n_train: int, n_test: int, wall: float) -> str:
    published = {"stacked AE (3 layers)": "SAE-3 1.40", "stacked DAE (3 layers, masking 25%)": "SDAE-3 1.28",
                 "AE": "AE 1.78 (Rifai)", "raw pixels": "SVM-RBF 1.40",
                 "3-layer MLP, random init": "—"}
    pct = lambda v: "—" if v is None else f"{100 * v:.2f}"  # noqa: E731
    rows = []
    for name, r in results.items():
        pub = published.get(name, "CAE 1.14" if name.startswith("CAE") else "—")
        minutes = (r["pretrain_time_s"] + r["finetune_time_s"]) / 60
        rows.append(f"| {name} | {r['description']} | {pct(r['linear_probe_test_error'])} | "
                    f"**{pct(r['finetuned_test_error'])}** | {minutes:.0f} | {pub} |")
    payload = {"command": args.command, "machine": machine(), "wall_time_s": wall, "results": results,
               "setup": {"pretrain_epochs_per_layer": args.pretrain_epochs,
                         "finetune_epochs": args.finetune_epochs, "optimizer": f"Adam lr {LR}, cosine",
                         "batch": BATCH, "seed": 0, "linear_probe": "StandardScaler + multinomial "
                         f"LogisticRegression(C=1, max_iter={args.probe_iter}) on frozen codes",
                         "data": f"MNIST {n_train} train / {n_test} test"},
               "published_test_error_pct": {"SDAE-3": 1.28, "SAE-3": 1.40, "DBN-3": 1.24, "SVM-RBF": 1.40,
                                            "CAE": 1.14, "DAE-gaussian": 1.18, "DAE-masking (1 layer)": 1.57,
                                            "AE+wd": 1.68, "AE": 1.78}}
    md = f"""# MNIST classification from learned representations

Command: `{args.command}` (from the repository root; MNIST from `$AELAB_DATA_DIR`).
Total wall time {wall / 60:.1f} min on {payload['machine']['cpu_cores']} shared CPU cores,
{args.threads} torch thread(s). Data: {payload['setup']['data']}; no validation set, no early
stopping: every number is the model after the last epoch.

Unsupervised pretraining: {args.pretrain_epochs} epochs (per layer for the stacks), Adam lr {LR},
cosine decay, batch {BATCH}. Linear probe: {payload['setup']['linear_probe']}.
Fine-tuning: the encoder + a softmax layer (`aelab.Classifier`), cross-entropy,
{args.finetune_epochs} epochs, Adam lr {LR}, cosine decay, batch {BATCH}.

Test error, % (10,000 MNIST test images):

| representation | architecture | linear probe | fine-tuned | minutes | published (fine-tuned) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Published: Vincent et al. 2010 (JMLR) Table 3 — SDAE-3 1.28%, SAE-3 1.40%, DBN-3 1.24%,
SVM-RBF 1.40%, with 1000–3000 units per layer, up to 1000s of pretraining epochs and
hyper-parameters chosen on a validation set; Rifai et al. 2011 Table 1 — one 1000-unit layer
then fine-tuned: CAE 1.14%, DAE (Gaussian) 1.18%, DAE (masking) 1.57%, AE + weight decay 1.68%,
AE 1.78%. Our budgets are far smaller (see the epochs above).
"""
    if not args.quick:
        write("mnist_classification", md, payload)
    return md


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pretrain-epochs", type=int, default=5, help="unsupervised epochs (per layer)")
    parser.add_argument("--finetune-epochs", type=int, default=15)
    parser.add_argument("--contraction", type=float, default=0.1, help="CAE λ")
    parser.add_argument("--k", type=int, default=25, help="k-sparse AE: units kept")
    parser.add_argument("--probe-iter", type=int, default=300, help="logistic regression max_iter")
    args = parse_args(parser)
    if args.quick:
        args.pretrain_epochs, args.finetune_epochs, args.probe_iter = 1, 1, 20
    ds = aelab.data.load("mnist", data_dir=data_dir())
    X, y, X_test, y_test = ds.X_train, ds.y_train, ds.X_test, ds.y_test
    if args.quick:
        X, y = X[:5000], y[:5000]
    ft = {"batch_size": BATCH, "lr": LR, "lr_schedule": "cosine", "device": "cpu", "seed": 0}
    t_start = time.perf_counter()
    results = {}
    for name, (description, build) in representations(args).items():
        logger.info("== %s", name)
        row = {"description": description}
        if build is None:
            model, row["pretrain_time_s"] = None, 0.0
            base = aelab.create("ae", seed=0, input_shape=784, **ONE)
            clf = aelab.Classifier.from_autoencoder(base, 10, pretrained=False, seed=0)
        else:
            model, row["pretrain_time_s"] = build(X)
            clf = aelab.Classifier.from_autoencoder(model, 10, seed=0)
        t0 = time.perf_counter()
        probe = linear_probe(model, X, y, X_test, y_test, max_iter=args.probe_iter)
        row["probe_time_s"] = time.perf_counter() - t0
        row["linear_probe_test_error"] = 1.0 - probe.accuracy
        res = aelab.train(clf, X, y, epochs=args.finetune_epochs, **ft)
        row["finetune_time_s"] = res.train_time_s
        row["finetuned_test_error"] = 1.0 - clf.score(X_test, y_test)
        row["finetuned_train_error"] = 1.0 - clf.score(X, y)
        logger.info("%s: probe %.2f%%, fine-tuned %.2f%%", name, 100 * row["linear_probe_test_error"],
                    100 * row["finetuned_test_error"])
        results[name] = row
        if name.startswith("stacked AE"):
            # The same 784-1000-1000-1000-10 network from random initialisation.
            deep = aelab.Classifier.from_autoencoder(model, 10, pretrained=False, seed=0)
            res = aelab.train(deep, X, y, epochs=args.finetune_epochs, **ft)
            results["3-layer MLP, random init"] = {
                "description": "784-1000-1000-1000-10 sigmoid MLP from random init, no pretraining",
                "pretrain_time_s": 0.0, "linear_probe_test_error": None,
                "finetune_time_s": res.train_time_s,
                "finetuned_test_error": 1.0 - deep.score(X_test, y_test),
                "finetuned_train_error": 1.0 - deep.score(X, y)}
        # Written after every representation, so a run cut short still reports.
        report(args, results, len(X), len(X_test), time.perf_counter() - t_start)
    print(report(args, results, len(X), len(X_test), time.perf_counter() - t_start))


if __name__ == "__main__":
    main()
