"""Stability check of the adversarial and perceptual models on MNIST: WAE-GAN, the GAN
baseline, VAE-GAN and DFC-VAE (a VAE with the perceptual option on aelab's MNIST
ConvClassifier), each trained a few epochs per seed on one thread.

Reports, per model and seed, whether training stayed finite, the last epoch's loss terms,
and the Fréchet distance of 2,000 samples to 2,000 test images in the ConvClassifier's
features (aelab.applications.sample_quality): a diverged or collapsed GAN shows there.
It is a check that each model trains, not the comparison table
(benchmarks/generative_mnist.py).

    python benchmarks/adversarial_mnist.py            # the recorded run
    python benchmarks/adversarial_mnist.py --quick    # seconds: checks the script
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import aelab
from aelab.applications.sample_quality import SampleQuality, mnist_feature_network
from aelab.core.seeding import seeded
from aelab.models.base import perceptual_option
from aelab.models.gan import GAN
from aelab.training.trainer import NonFiniteLossError
from common import RESULTS, data_dir, machine, parse_args, write

IMAGE = (1, 28, 28)


def build(name: str, seed: int, phi):
    """The model and its trainer settings; the configurations recommended in /tmp/h18/h2.md."""
    conv = {"input_shape": IMAGE, "backbone": "conv", "hidden": (32, 64)}
    if name == "gan":
        with seeded(seed):
            return GAN(input_shape=IMAGE, latent_dim=32, hidden=(32, 64)), {"lr": 2e-4, "batch_size": 64}
    if name == "wae_gan":
        model = aelab.create("wae", seed=seed, penalty="gan", latent_dim=8, **conv)
        return model, {"lr": 1e-3, "batch_size": 100}
    if name == "vae_gan":
        model = aelab.create("vae_gan", seed=seed, latent_dim=16, likelihood="bernoulli", **conv)
        return model, {"lr": 3e-4, "batch_size": 64}
    if name == "dfc_vae":
        model = aelab.create("vae", seed=seed, latent_dim=16, likelihood="bernoulli",
                             perceptual=perceptual_option(phi, weight=100.0, layers=[0, 1]), **conv)
        return model.use_perceptual_network(phi), {"lr": 1e-3, "batch_size": 128}
    raise ValueError(name)


def main() -> None:
    parser = argparse.ArgumentParser(prog="adversarial_mnist.py", description=__doc__)
    parser.add_argument("--models", nargs="+", default=["gan", "wae_gan", "vae_gan", "dfc_vae"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--n-train", type=int, default=20000,
                        help="first N of the 50,000 training images (the last 10,000 are validation)")
    args = parse_args(parser)
    if args.quick:
        args.epochs, args.n_train, args.seeds = 1, 512, [0]
    ds = aelab.data.load("mnist", data_dir=data_dir())
    x = ds.X_train[: min(args.n_train, 50_000)]
    phi = mnist_feature_network(data_dir())
    quality = SampleQuality(phi, ds.X_test[:2000])
    reference = quality.score(ds.X_test[2000:4000]).frechet_distance
    rows, images = [], {}
    for name in args.models:
        for seed in args.seeds:
            model, settings = build(name, seed, phi)
            t0 = time.perf_counter()
            try:
                result = aelab.train(model, x, epochs=args.epochs, seed=seed, device="cpu", **settings)
                history = {k[6:]: v for k, v in result.history.items() if k.startswith("train/")}
                last = {k: v[-1] for k, v in history.items()}
                finite = all(math.isfinite(v) for vals in result.history.values() for v in vals)
                error = None
            except NonFiniteLossError as err:
                history, last, finite, error = {}, {}, False, str(err)
            samples = model.sample(2000, seed=seed).reshape(2000, -1) if finite else None
            fd = quality.score(np.clip(samples, 0.0, 1.0)).frechet_distance if finite else None
            if finite and seed == args.seeds[0]:
                images[name] = samples[:16]
            rows.append({"model": name, "seed": seed, "finite": finite, "error": error,
                         "train_seconds": round(time.perf_counter() - t0, 1),
                         "frechet_distance": fd, "last_epoch": last, "settings": settings,
                         "history": history})
            _report(args, len(x), reference, rows)  # after every run: a cut run keeps its rows
    _figure(images)


def _report(args, n_train: int, reference: float, rows: list[dict]) -> None:
    lines = [
        "# Adversarial and perceptual models on MNIST: do they train?", "",
        f"`{args.command}` — {args.epochs} epochs on the first {n_train:,} training images, "
        f"one thread, seeds {args.seeds}. Fréchet distance (FD) of 2,000 samples to test "
        f"images 0–1,999 in the ConvClassifier's features; test images 2,000–3,999 score "
        f"{reference:.2f} (the floor). A stability check, not the comparison table.", "",
        "| model | seed | finite | FD | last epoch's terms | s |", "|---|---|---|---|---|---|",
    ]
    for r in rows:
        terms = ", ".join(f"{k} {v:.4g}" for k, v in r["last_epoch"].items())
        fd = "—" if r["frechet_distance"] is None else f"{r['frechet_distance']:.2f}"
        lines.append(f"| {r['model']} | {r['seed']} | {r['finite']} | {fd} | {terms or r['error']} "
                     f"| {r['train_seconds']} |")
    write("adversarial_mnist", "\n".join(lines) + "\n",
          {"command": args.command, "machine": machine(), "reference_fd": reference, "rows": rows})


def _figure(images: dict[str, np.ndarray]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(images), 1, figsize=(8, 0.7 * len(images) + 0.3), squeeze=False)
    for ax, (name, x) in zip(axes[:, 0], images.items()):
        ax.imshow(np.concatenate(list(x.reshape(-1, 28, 28)), axis=1), cmap="gray", vmin=0, vmax=1)
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(RESULTS / "adversarial_mnist_samples.png", dpi=110)


if __name__ == "__main__":
    main()
