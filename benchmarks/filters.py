"""Filters learned on natural image patches (Vincent et al., JMLR 11 (2010), §5.3, Fig. 6):
100 sigmoid hidden units on 12x12 patches cut from scikit-image's bundled photographs,
for a plain AE, an AE with weight decay and a DAE with 10% salt-and-pepper noise.

    python benchmarks/filters.py [--epochs 30] [--patches 50000]
    python benchmarks/filters.py --quick
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import aelab
from aelab.report.figures import image_grid
from common import RESULTS, machine, parse_args, write

PATCH = 12
IMAGES = ("camera", "astronaut", "coffee", "chelsea", "coins", "moon", "grass", "gravel", "brick",
          "text", "page", "rocket", "hubble_deep_field", "immunohistochemistry")


def photographs() -> dict[str, np.ndarray]:
    """The bundled photographs as grayscale float arrays in [0, 1] (those present offline)."""
    from skimage import color, data, util

    out = {}
    for name in IMAGES:
        try:
            img = getattr(data, name)()
        except Exception:  # noqa: BLE001 - an image that needs a download is skipped
            continue
        if img.ndim == 3:
            img = color.rgb2gray(img[..., :3])
        out[name] = util.img_as_float(img).astype(np.float32)
    return out


def patches(images: dict[str, np.ndarray], n: int, seed: int = 0) -> np.ndarray:
    """``n`` random 12x12 patches, each with its mean removed, then squashed into [0.1, 0.9].

    The UFLDL recipe: truncate at ±3 standard deviations (over all patches) and map
    linearly into [0.1, 0.9], so a sigmoid decoder with cross-entropy can model them.
    """
    rng = np.random.default_rng(seed)
    names = sorted(images)
    out = np.empty((n, PATCH * PATCH), dtype=np.float32)
    for i in range(n):
        img = images[names[rng.integers(len(names))]]
        r, c = rng.integers(img.shape[0] - PATCH), rng.integers(img.shape[1] - PATCH)
        out[i] = img[r : r + PATCH, c : c + PATCH].ravel()
    out -= out.mean(1, keepdims=True)
    limit = 3 * out.std()
    return ((np.clip(out, -limit, limit) / limit + 1) * 0.4 + 0.1).astype(np.float32)


def localisation(w: np.ndarray) -> float:
    """Mean share of a filter's energy held by its 20% largest weights (1 = fully local).

    A heuristic for 'edge/blob-like' (local) versus global, noise-like filters; a
    random 144-pixel Gaussian filter scores about 0.55.
    """
    e = np.sort(np.square(w), axis=1)[:, ::-1]
    top = int(round(0.2 * w.shape[1]))
    return float((e[:, :top].sum(1) / e.sum(1)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patches", type=int, default=50000)
    parser.add_argument("--weight-decay", type=float, default=1e-2)
    args = parse_args(parser)
    if args.quick:
        args.epochs, args.patches = 2, 2000
    images = photographs()
    X = patches(images, args.patches)
    runs = {
        "AE": ("ae", {}, 0.0),
        f"AE + weight decay {args.weight_decay:g}": ("ae", {}, args.weight_decay),
        "DAE, 10% salt-and-pepper": ("denoising", {"corruption": "salt_pepper", "noise": 0.1}, 0.0),
    }
    rows, payload_runs, grids = [], {}, []
    t_start = time.perf_counter()
    for label, (name, options, wd) in runs.items():
        model = aelab.create(name, seed=0, input_shape=PATCH * PATCH, hidden=(), latent_dim=100,
                             code_activation="sigmoid", likelihood="bernoulli", tied=True,
                             preprocess="none", **options)
        res = aelab.train(model, X, epochs=args.epochs, batch_size=64, lr=1e-3, weight_decay=wd,
                          seed=0, device="cpu")
        (enc,) = model.encoder.affine_maps()
        w = enc.weight.detach().numpy()  # (100, 144): one filter per hidden unit
        slug = label.split(",")[0].lower().replace(" + ", "_").replace(" ", "_").replace(".", "")
        fig = f"filters_{slug}.png"
        if not args.quick:
            image_grid(w, (PATCH, PATCH), RESULTS / fig, ncols=10, title=label)
        loc = localisation(w)
        recon = res.history["train/recon"][-1]
        rows.append(f"| {label} | {recon:.2f} | {loc:.2f} | ![{label}]({fig}) |")
        payload_runs[label] = {"model": name, "options": options, "weight_decay": wd,
                               "final_train_recon_bce": recon, "localisation": loc,
                               "train_time_s": res.train_time_s, "figure": fig}
        grids.append(fig)
    wall = time.perf_counter() - t_start
    rand = localisation(np.random.default_rng(0).normal(size=(100, PATCH * PATCH)))
    payload = {"command": args.command, "machine": machine(), "wall_time_s": wall,
               "images": sorted(images), "runs": payload_runs,
               "random_filter_localisation": rand,
               "setup": {"patch": PATCH, "n_patches": args.patches, "hidden": 100, "epochs": args.epochs,
                         "optimizer": "Adam lr 1e-3, batch 64", "units": "sigmoid code, tied weights, "
                         "Bernoulli (cross-entropy) decoder", "seed": 0}}
    md = f"""# Filters on natural image patches (Vincent et al. 2010, Fig. 6)

Command: `{args.command}` (from the repository root; needs `pip install -e .[bench]`).
Wall time {wall:.0f} s, {payload['machine']['cpu_cores']} shared CPU cores, {args.threads} torch thread(s).

Data: {args.patches} random 12x12 patches from scikit-image's bundled photographs
({', '.join(sorted(images))}), converted to grey, each patch's mean removed, truncated at
±3 standard deviations and mapped into [0.1, 0.9].
Model: 144-100-144, sigmoid code, tied weights, Bernoulli (cross-entropy) decoder, Adam lr 1e-3,
batch 64, {args.epochs} epochs, seed 0. Each grid shows the 100 rows of the encoder's weight
matrix as 12x12 images, each scaled on its own.

| model | final train cross-entropy per patch | localisation | filters |
|---|---|---|---|
{chr(10).join(rows)}

Localisation: mean share of each filter's squared weight held by its 20% largest weights
(1.0 = all energy in a few pixels; random Gaussian filters: {rand:.2f}). Vincent et al. show
that the plain AE learns global, noise-like filters, weight decay helps a little and
denoising training yields local, edge-like (Gabor-like) filters.
"""
    if not args.quick:
        write("filters", md, payload)
    print(md)


if __name__ == "__main__":
    main()
