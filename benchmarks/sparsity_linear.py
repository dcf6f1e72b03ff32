"""Sparse codes and the linear autoencoder, checked (Goodfellow et al. 2016 §14.2.1, §14.1).

Sparse: the fraction of (near-)zero code entries (|h| ≤ 0.01) and the mean activation of
the code units on test data, for a plain ReLU code, L1 penalties, KL penalties with target
rates ρ (sigmoid codes) and top-k, on digits (3 seeds) and MNIST (1 seed), beside the test
reconstruction error; histograms of the code activations.

Linear: a linear autoencoder 64-12-64 on digits trained with momentum SGD and with Adam;
the principal angles between its decoder's column space and the top-12 PCA subspace, per
epoch.

    python benchmarks/sparsity_linear.py            # the recorded run
    python benchmarks/sparsity_linear.py --quick    # tiny; writes nothing
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.decomposition import PCA

import aelab
from aelab.applications.evaluation import code_statistics, principal_angles
from aelab.report.figures import plot_curves, plot_histograms
from common import RESULTS, data_dir, machine, parse_args, write

# (label, model, options): the code is one layer of `width` units (hidden=()).
VARIANTS = [
    ("ReLU code, no penalty", "ae", {"code_activation": "relu"}),
    ("L1, λ=1e-3", "sparse", {"penalty": "l1", "sparsity_weight": 1e-3}),
    ("L1, λ=1e-2", "sparse", {"penalty": "l1", "sparsity_weight": 1e-2}),
    ("KL, ρ=0.02", "sparse", {"penalty": "kl", "rho": 0.02, "sparsity_weight": 1.0}),
    ("KL, ρ=0.05", "sparse", {"penalty": "kl", "rho": 0.05, "sparsity_weight": 1.0}),
    ("KL, ρ=0.1", "sparse", {"penalty": "kl", "rho": 0.1, "sparsity_weight": 1.0}),
    ("top-k, k=5%", "sparse", {"penalty": "topk"}),
]


def sparse_rows(ds, width: int, epochs: int, seeds: int) -> tuple[list[dict], dict]:
    rows, codes = [], {}
    for label, name, options in VARIANTS:
        opts = dict(options)
        if opts.get("penalty") == "topk":
            opts["k"] = max(1, width // 20)
        stats = []
        for seed in range(seeds):
            model = aelab.create(name, input_shape=ds.n_features, latent_dim=width, hidden=(),
                                 seed=seed, **opts)
            t0 = time.perf_counter()
            aelab.train(model, ds.X_train, epochs=epochs, batch_size=64, lr=2e-3, seed=seed,
                        device="cpu")
            s = code_statistics(model, ds.X_test)
            err = float(np.square(ds.X_test - model.reconstruct(ds.X_test)).sum(1).mean())
            stats.append((s["fraction_zero"], float(s["mean_activation"].mean()), err,
                          time.perf_counter() - t0))
            if seed == 0:
                codes[label] = s["codes"]
        z, m, e, t = (np.array(c) for c in zip(*stats))
        rows.append({"data": ds.name, "variant": label, "seeds": seeds,
                     "rho": options.get("rho"), "fraction_zero": [float(z.mean()), float(z.std())],
                     "mean_activation": [float(m.mean()), float(m.std())],
                     "test_error": [float(e.mean()), float(e.std())], "train_s": float(t.mean())})
        print(f"{ds.name} {label}: zeros {z.mean():.3f}, mean activation {m.mean():.3f}, "
              f"error {e.mean():.2f}", flush=True)
    return rows, codes


def linear_angles(ds, k: int, epochs: int) -> dict:
    components = PCA(n_components=k).fit(ds.X_train).components_.T
    runs = {}
    for label, options in (("SGD (momentum 0.9), lr 0.01", {"optimizer": "sgd", "lr": 0.01}),
                           ("Adam, lr 1e-3", {"optimizer": "adam", "lr": 1e-3})):
        model = aelab.create("ae", input_shape=ds.n_features, latent_dim=k, hidden=(), linear=True,
                             seed=0)
        angles = []

        def record(epoch, logs, model=model, angles=angles):
            weight = model.decoder.affine_maps()[0].weight.detach().numpy()  # (d, k)
            angles.append(principal_angles(weight, components))

        aelab.train(model, ds.X_train, epochs=epochs, batch_size=64, seed=0, device="cpu",
                    callback=record, **options)
        runs[label] = np.array(angles)  # (epochs, k), largest angle first
        print(f"linear, {label}: largest angle after {epochs} epochs {angles[-1][0]:.1f}°", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="digits seeds (MNIST: 1)")
    parser.add_argument("--linear-epochs", type=int, default=300)
    args = parse_args(parser)
    t_start = time.perf_counter()
    digits = aelab.data.load("digits")
    quick = args.quick
    rows, codes = sparse_rows(digits, 64, 5 if quick else 100, 1 if quick else args.seeds)
    angles = linear_angles(digits, 12, 5 if quick else args.linear_epochs)
    if quick:
        return
    mnist = aelab.data.load("mnist", data_dir=data_dir())
    mnist_rows, _ = sparse_rows(mnist, 200, 10, 1)
    rows += mnist_rows
    plot_histograms({label: c for label, c in codes.items()}, RESULTS / "sparsity_digits.png",
                    xlabel="code activation",
                    title="digits: code activations on the test set (64 units, seed 0)")
    plot_curves({label: (np.arange(1, len(a) + 1), a[:, 0]) for label, a in angles.items()},
                RESULTS / "linear_pca_angles.png", xlabel="epoch",
                ylabel="largest principal angle to PCA-12 (degrees)",
                title="linear autoencoder 64-12-64 on digits: decoder subspace vs PCA")
    wall = time.perf_counter() - t_start

    def fmt(pair, seeds, digits_=3):
        return f"{pair[0]:.{digits_}f}" + (f" ± {pair[1]:.{digits_}f}" if seeds > 1 else "")

    table = "\n".join(
        f"| {r['data']} | {r['variant']} | {fmt(r['fraction_zero'], r['seeds'])} | "
        f"{fmt(r['mean_activation'], r['seeds'])} | {'' if r['rho'] is None else r['rho']} | "
        f"{fmt(r['test_error'], r['seeds'], 2)} |" for r in rows)
    final = {label: a[-1] for label, a in angles.items()}
    linear_table = "\n".join(
        f"| {label} | {a[0]:.1f} | {np.mean(a):.1f} | "
        f"{next((i + 1 for i, row in enumerate(angles[label]) if row[0] < 5.0), 'never')} |"
        for label, a in final.items())
    md = f"""# Sparse codes and the linear autoencoder, checked

## Sparsity

One-layer codes (digits: 64 units, 100 epochs, {args.seeds} seeds, mean ± std; MNIST: 200
units, 10 epochs, 1 seed), Adam lr 2e-3, batch 64; nothing tuned. Near-zero: |h| ≤ 0.01. Mean activation: the mean
over test examples and units (for the sigmoid codes of the KL penalty, the rate ρ̂ it
targets). Test error: squared error per example.

| data | variant | fraction near zero | mean activation | target ρ | test error |
|---|---|---|---|---|---|
{table}

The KL penalty (weight 1) drives the sigmoid units' mean activation to near its target ρ;
L1 raises the fraction of exact zeros of a ReLU code and lowers its mean activation at a
cost in reconstruction; top-k fixes the fraction of zeros at 1 − k/width by construction.
Top-k with a fixed small k from the start reconstructs MNIST poorly after 10 epochs (many
units never win and stop learning; Makhzani & Frey lower k gradually, which aelab does not
do). Digits with 64 units for 64 pixels is a square code, hence the near-zero errors of
the unpenalised and L1 models. Figure: `sparsity_digits.png`.

## The linear autoencoder and PCA

64-12-64, no nonlinearity, squared error, batch 64, {args.linear_epochs} epochs on digits, seed 0.
Largest principal angle between the decoder's column space and the top-12 PCA subspace
(Baldi & Hornik 1989: at the global minimum they coincide).

| optimiser | largest angle at the end (°) | mean angle at the end (°) | first epoch under 5° |
|---|---|---|---|
{linear_table}

Figure: `linear_pca_angles.png`. Use plain (momentum) SGD when a linear autoencoder must
recover the principal subspace: it follows the gradient flow that escapes the saddles
(the non-top subspaces), where Adam's per-coordinate scaling can linger.

Wall time: {wall:.0f} s. Command: `{args.command}`. Machine: {machine()}.
"""
    write("sparsity_linear", md, {"rows": rows, "linear_final_angles": {k: v.tolist() for k, v in final.items()},
                                  "linear_angles": {k: v[:, 0].tolist() for k, v in angles.items()},
                                  "command": args.command, "machine": machine(), "wall_s": wall})


if __name__ == "__main__":
    main()
