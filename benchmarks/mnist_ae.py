"""MNIST, MLP autoencoder 784-1000-500-250-30: reconstruction beside PCA-30 and
Hinton & Salakhutdinov (2006), and the trainer's throughput beside a plain
PyTorch loop of the same model, optimizer and batch, run in the same process.

    python benchmarks/mnist_ae.py [--epochs 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

import aelab
from aelab.applications.evaluation import pca_reconstruction
from common import data_dir, machine, matmul_flops, parse_args, write

WIDTHS = (784, 1000, 500, 250, 30)
BATCH = 256
LR = 1e-3


def build(seed: int):
    return aelab.create("ae", seed=seed, input_shape=784, hidden=WIDTHS[1:-1], latent_dim=WIDTHS[-1],
                        activation="relu")


def plain_model(seed: int) -> nn.Sequential:
    """The same network written directly with torch."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    dims = list(WIDTHS) + list(reversed(WIDTHS[:-1]))
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i not in (len(WIDTHS) - 2, len(dims) - 2):  # linear code and linear output
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def plain_epoch(model, opt, X: torch.Tensor, gen: torch.Generator) -> float:
    """One epoch of the textbook loop; returns samples/s."""
    t0 = time.perf_counter()
    perm = torch.randperm(len(X), generator=gen)
    for i in range(0, len(X), BATCH):
        xb = X[perm[i : i + BATCH]]
        loss = (model(xb) - xb).pow(2).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return len(X) / (time.perf_counter() - t0)


def sq_error(x: np.ndarray, x_hat: np.ndarray) -> float:
    return float(np.square(x - x_hat).sum(1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved throughput rounds")
    args = parse_args(parser, threads=2, quick=False)
    ds = aelab.data.load("mnist", data_dir=data_dir())
    X = torch.from_numpy(ds.X_train)
    n_weights = sum(a * b for a, b in zip(WIDTHS[:-1], WIDTHS[1:])) * 2
    flops_per_sample = 6 * n_weights  # forward 2·W, backward 4·W multiply-adds
    peak = matmul_flops()

    # 1. Throughput, interleaved: one aelab epoch, one plain epoch, per round.
    ours_model, plain, plain_fused = build(0), plain_model(0), plain_model(0)
    plain_opt = torch.optim.Adam(plain.parameters(), lr=LR)  # the textbook loop
    fused_opt = torch.optim.Adam(plain_fused.parameters(), lr=LR, fused=True)  # aelab's kernel
    gen = torch.Generator().manual_seed(0)
    ours, theirs, fused = [], [], []
    for r in range(args.rounds):
        res = aelab.train(ours_model, X, epochs=1, batch_size=BATCH, lr=LR, seed=r, device="cpu")
        ours.append(res.samples_per_s)
        theirs.append(plain_epoch(plain, plain_opt, X, gen))
        fused.append(plain_epoch(plain_fused, fused_opt, X, gen))
    ours_sps, plain_sps = statistics.median(ours), statistics.median(theirs)
    fused_sps = statistics.median(fused)

    # 2. Quality: a fresh model trained for the full budget, then the test error.
    model = build(0)
    t0 = time.perf_counter()
    result = aelab.train(model, X, epochs=args.epochs, batch_size=BATCH, lr=LR, seed=0, device="cpu")
    wall = time.perf_counter() - t0
    ae_err = sq_error(ds.X_test, model.reconstruct(ds.X_test))
    pca_err = sq_error(ds.X_test, pca_reconstruction(ds.X_train, ds.X_test, 30))

    payload = {
        "command": args.command,
        "setup": {"architecture": "784-1000-500-250-30 ReLU, linear code, mirrored decoder, "
                                  "squared error", "optimizer": "Adam", "lr": LR, "batch": BATCH,
                  "epochs": args.epochs, "seed": 0, "data": "MNIST 60k train / 10k test, [0,1]"},
        "machine": machine(),
        "test_sq_error_per_image": {"aelab": ae_err, "pca30": pca_err,
                                    "published_deep_ae": 3.00, "published_pca30": 13.87},
        "train_wall_s": wall,
        "final_train_recon": result.history["train/recon"][-1],
        "throughput": {"aelab_samples_per_s": ours_sps, "plain_samples_per_s": plain_sps,
                       "plain_fused_samples_per_s": fused_sps, "ratio": ours_sps / plain_sps,
                       "ratio_vs_plain_fused": ours_sps / fused_sps, "rounds_aelab": ours,
                       "rounds_plain": theirs, "rounds_plain_fused": fused,
                       "matmul_flops": peak,
                       "aelab_fraction_of_matmul": ours_sps * flops_per_sample / peak,
                       "plain_fraction_of_matmul": plain_sps * flops_per_sample / peak},
    }
    md = f"""# MNIST deep autoencoder 784-1000-500-250-30 (issue 2 benchmark)

Command: `{payload['command']}` (from the repository root; MNIST from `$AELAB_DATA_DIR`).
Machine: {payload['machine']['cpu_cores']} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads,
load average at start {tuple(round(v, 1) for v in payload['machine']['load_average_at_start'])}.

## Reconstruction: test squared error per image (sum over 784 pixels, mean over 10,000)

| model | setup | error | published (Hinton & Salakhutdinov 2006) |
|---|---|---|---|
| aelab `ae` | ReLU, Adam lr {LR}, batch {BATCH}, {args.epochs} epochs from random init, {wall:.0f} s | **{ae_err:.2f}** | 3.00 (RBM-pretrained, logistic units, fine-tuned) |
| PCA, 30 components | fitted on the 60k training images, same run | {pca_err:.2f} | 13.87 |

This is the plain end-to-end run the issue asks for; the published 3.00 needs pretraining
and a much longer schedule (issue 4's benchmark).

## Throughput (interleaved rounds, one epoch each, median of {args.rounds})

| loop | samples/s | fraction of float32 matmul rate ({peak / 1e9:.0f} GFLOP/s measured now) |
|---|---|---|
| aelab trainer (`aelab.train`) | {ours_sps:,.0f} | {payload['throughput']['aelab_fraction_of_matmul']:.0%} |
| plain PyTorch loop, same model/batch, `torch.optim.Adam` defaults | {plain_sps:,.0f} | {payload['throughput']['plain_fraction_of_matmul']:.0%} |
| plain PyTorch loop, `Adam(fused=True)` as aelab uses | {fused_sps:,.0f} | {fused_sps * flops_per_sample / peak:.0%} |
| **ratio aelab / plain** | **{ours_sps / plain_sps:.3f}** | target ≥ 0.95 |
| ratio aelab / plain with the same fused Adam (the trainer's own overhead) | {ours_sps / fused_sps:.3f} | |

FLOPs per sample counted as 6 × {n_weights:,} weights (forward + backward matmuls).
Per-round samples/s — aelab: {[round(v) for v in ours]}, plain: {[round(v) for v in theirs]},
plain fused: {[round(v) for v in fused]}.
"""
    write("mnist_ae", md, payload)
    print(md)


if __name__ == "__main__":
    main()
