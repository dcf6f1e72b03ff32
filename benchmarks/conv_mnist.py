"""Convolutional vs MLP backbone on MNIST at about equal parameter count (issue 18, §4).

AE, denoising AE and VAE, each once with ``backbone="conv"`` (``input_shape=(1, 28, 28)``,
stride-2 convolutions with 32-64-128 channels, Masci et al. 2011) and once with an MLP
784-h-h/2-code whose width h is chosen so that its parameter count is the closest to the
conv model's. Same code size, optimiser, batch, epochs and seed for both. AE and DAE:
code 30 (Hinton & Salakhutdinov 2006's size), Bernoulli decoder on the [0, 1] intensities;
test squared error per image (sum over the 784 pixels). VAE: code 50 (Burda et al. 2016's
size), trained on dynamically binarised pixels; test NLL by the k-sample importance bound on
a fixed binarisation of the first ``--nll-images`` test images. Training on the first 50,000
training images; the last 10,000 are the validation split (reported, no choice was tuned on
them); the test set is evaluated once.

    python benchmarks/conv_mnist.py [--epochs 10] [--seeds 0] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import aelab
from common import data_dir, machine, parse_args, write

CHANNELS = (32, 64, 128)
BATCH, LR = 100, 1e-3
# name: (registered model, code size, extra config, dynamic binarisation while training)
MODELS = {
    "ae": ("ae", 30, {}, False),
    "dae": ("denoising", 30, {"corruption": "masking", "noise": 0.25}, False),
    "vae": ("vae", 50, {}, True),
}
PUBLISHED = {
    "ae": "3.00 (784-1000-500-250-30, RBM-pretrained; Hinton & Salakhutdinov 2006); PCA-30: 13.87",
    "dae": "–",
    "vae": "NLL 86.76 (MLP 200-200, z 50, 3,280 epochs; Burda et al. 2016, Table 1)",
}


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def build(name: str, backbone: str, seed: int, width: int = 0):
    registered, latent, extra, _ = MODELS[name]
    if backbone == "conv":
        arch = dict(backbone="conv", input_shape=(1, 28, 28), hidden=CHANNELS)
    else:
        arch = dict(input_shape=784, hidden=(width, width // 2))
    return aelab.create(registered, latent_dim=latent, likelihood="bernoulli", seed=seed,
                        **arch, **extra)


def matched_width(name: str, target: int) -> int:
    """The MLP width h (784-h-h/2-code) whose parameter count is the closest to ``target``."""
    low, high = 2, 4096  # the count grows with h: bisect, then take the nearer neighbour
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if n_params(build(name, "mlp", 0, mid)) < target else (low, mid)
    return min((low, high), key=lambda h: abs(n_params(build(name, "mlp", 0, h)) - target))


def nll(model, x_bin: np.ndarray, k: int) -> float:
    return float(-aelab.log_likelihood(model, x_bin, k=k, seed=0).mean())


def run(name: str, backbone: str, width: int, seed: int, ds, args) -> dict:
    model = build(name, backbone, seed, width)
    X = ds.X_train[:50000]
    transform = aelab.data.dynamic_binarize if MODELS[name][3] else None
    t0 = time.perf_counter()
    aelab.train(model, X, epochs=args.epochs, batch_size=BATCH, lr=LR, lr_schedule="cosine",
                batch_transform=transform, seed=seed, device="cpu")
    train_s = time.perf_counter() - t0
    shape = model.input_shape
    x_val, x_test = ds.X_train[50000:].reshape(-1, *shape), ds.X_test.reshape(-1, *shape)
    t0 = time.perf_counter()
    model.encode(x_test)
    encode_s = time.perf_counter() - t0
    row = {"model": name, "backbone": backbone, "seed": seed, "params": n_params(model),
           "hidden": list(model.hidden), "latent": model.latent_dim, "epochs": args.epochs,
           "train_s": train_s, "train_per_s": args.epochs * len(X) / train_s,
           "encode_per_s": len(x_test) / encode_s}
    if MODELS[name][3]:
        val_bin = aelab.data.binarize(x_val[: args.nll_images], seed=0)
        test_bin = aelab.data.binarize(x_test[: args.nll_images], seed=0)
        row.update(val_nll=nll(model, val_bin, args.nll_k), test_nll=nll(model, test_bin, args.nll_k))
    else:
        for split, x in (("val", x_val), ("test", x_test)):
            row[f"{split}_sq_error"] = float(np.square(x - model.reconstruct(x)).reshape(len(x), -1)
                                             .sum(1).mean())
    return row


def fmt(values: list[float], digits: int) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(rows: list[dict]) -> str:
    lines = ["| model | backbone | hidden | code | parameters | val | **test** | published | "
             "train samples/s | encode samples/s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name in MODELS:
        for backbone in ("conv", "mlp"):
            rs = [r for r in rows if r["model"] == name and r["backbone"] == backbone]
            if not rs:
                continue
            metric = "nll" if MODELS[name][3] else "sq_error"
            r = rs[0]
            lines.append(
                f"| {name} | {backbone} | {'-'.join(map(str, r['hidden']))} | {r['latent']} | "
                f"{r['params']:,} | {fmt([x[f'val_{metric}'] for x in rs], 2)} | "
                f"**{fmt([x[f'test_{metric}'] for x in rs], 2)}** | {PUBLISHED[name]} | "
                f"{fmt([x['train_per_s'] for x in rs], 0)} | {fmt([x['encode_per_s'] for x in rs], 0)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--nll-images", type=int, default=1000, help="test images for the VAE NLL")
    parser.add_argument("--nll-k", type=int, default=200, help="importance samples for the VAE NLL")
    args = parse_args(parser)
    ds = aelab.data.load("mnist", data_dir=data_dir())
    if args.quick:
        args.epochs, args.nll_images, args.nll_k = 1, 100, 10
    rows = []
    for name in args.models:
        width = matched_width(name, n_params(build(name, "conv", 0)))
        for seed in args.seeds:
            for backbone in ("conv", "mlp"):
                rows.append(run(name, backbone, width, seed, ds, args))
                print(rows[-1], flush=True)
    md = f"""# Convolutional vs MLP backbone on MNIST, equal parameter count (issue 18, §4)

Command: `{args.command}` (repository root; MNIST from `$AELAB_DATA_DIR`). Conv: three 3×3
stride-2 convolutions, channels {'-'.join(map(str, CHANNELS))} (28 → 14 → 7 → 4), ReLU, a linear
map to the code; decoder the mirror image with transposed convolutions. MLP: 784-h-h/2-code
(ReLU), h chosen for the parameter count closest to the conv model's. Adam lr {LR} with cosine
decay, batch {BATCH}, {args.epochs} epochs on the first 50,000 training images, seeds
{args.seeds}, CPU, {args.threads} thread(s) on a 2-core machine shared with other jobs (speeds
are indicative). Val: the last 10,000 training images; test: the 10,000 test images, once.

AE and DAE (masking noise 0.25): squared error per image, sum over the 784 pixels in [0, 1],
code 30. VAE: code 50, dynamically binarised training pixels, NLL in nats =
-mean log p(x) by the k={args.nll_k} importance bound on a fixed binarisation (seed 0) of the
first {args.nll_images} val / test images. Published rows trained far longer (stated).
Mean ± std over seeds where there are several.

{table(rows)}
"""
    write("conv_mnist", md, {"command": args.command, "rows": rows, "machine": machine()})
    print(md)


if __name__ == "__main__":
    main()
