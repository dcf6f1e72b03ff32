"""The demo job: the autoencoder family on the embedded digits, beside PCA.

Trains each model on scikit-learn's 8×8 digits (1437 train / 360 test), then
writes ``summary.md`` (test reconstruction error per example beside PCA with the
same code size, train time), the same as one self-contained ``report.html``, and figures
(loss curves, reconstructions, and samples drawn from the priors of the generative models).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from aelab.applications.evaluation import pca_reconstruction, reconstruction_report
from aelab.core.io import atomic_write_bytes, write_json
from aelab.data import load
from aelab.models import create
from aelab.report.figures import image_grid, plot_history, plot_reconstructions
from aelab.report.html import Section, render
from aelab.training import train

# (label, model name, config) — every penalty and corruption of the classic family.
DEMO_MODELS: list[tuple[str, str, dict]] = [
    ("ae", "ae", {}),
    ("ae (tied)", "ae", {"tied": True}),
    ("ae (linear)", "ae", {"linear": True, "hidden": ()}),
    ("sparse l1", "sparse", {"penalty": "l1", "sparsity_weight": 1e-3}),
    ("sparse kl", "sparse", {"penalty": "kl", "sparsity_weight": 0.1, "rho": 0.1}),
    ("sparse topk", "sparse", {"penalty": "topk", "k": 6}),
    ("denoising gaussian", "denoising", {"corruption": "gaussian", "noise": 0.1}),
    ("denoising masking", "denoising", {"corruption": "masking", "noise": 0.1}),
    ("denoising salt_pepper", "denoising", {"corruption": "salt_pepper", "noise": 0.05}),
    ("contractive", "contractive", {"hidden": (128,), "code_activation": "sigmoid",
                                    "contraction_weight": 1e-3}),
    ("vae (bernoulli)", "vae", {"likelihood": "bernoulli"}),
    ("aae (gaussian prior)", "aae", {"disc_hidden": (64, 64)}),
    ("wae (mmd)", "wae", {}),
]
DEMO_DEFAULTS = {"latent_dim": 12, "hidden": (128,)}
TRAIN_OPTIONS = {"epochs": 300, "batch_size": 64, "lr": 2e-3, "validation_split": 0.1,
                 "early_stopping": 25, "seed": 0, "device": "cpu"}


def run_demo(out, epochs: int | None = None) -> list[dict]:
    """Run the demo, write ``out/summary.md`` and figures, return one row per model.

    The models are tiny (64 inputs), so they run on one CPU thread: more threads only
    add synchronisation, and on a busy machine they can be an order of magnitude slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(Path(out), epochs)
    finally:
        torch.set_num_threads(threads)


def _run(out: Path, epochs: int | None) -> list[dict]:
    ds = load("digits")
    options = dict(TRAIN_OPTIONS, **({"epochs": epochs} if epochs else {}))
    rows = []
    for label, name, cfg in DEMO_MODELS:
        config = dict(DEMO_DEFAULTS, input_shape=ds.n_features, **cfg)
        model = create(name, seed=0, **config)
        t0 = time.perf_counter()
        result = train(model, ds.X_train, **options)
        seconds = time.perf_counter() - t0
        report = reconstruction_report(model, ds.X_test, ds.X_train)
        slug = label.replace(" ", "_").replace("(", "").replace(")", "")
        plot_history(result.history, out / "figures" / f"loss_{slug}.png", title=label)
        rows.append({
            "label": label, "model": name, "config": {k: v for k, v in config.items()
                                                       if k != "input_shape"},
            "code_size": report["code_size"], "test_error": report["sq_error_per_example"],
            "pca_error": report["pca"]["sq_error_per_example"], "epochs": result.epochs_run,
            "seconds": seconds, "reconstruction": model.reconstruct(ds.X_test[:10]),
            "samples": model.sample(10, seed=0) if model.can_sample else None,
        })
    _write(out, ds, rows, options)
    return rows


def _write(out: Path, ds, rows, options) -> None:
    x = ds.X_test[:10]
    pca = pca_reconstruction(ds.X_train, x, DEMO_DEFAULTS["latent_dim"])
    image_grid(np.concatenate([x, pca] + [r["reconstruction"] for r in rows]), ds.image_shape,
               out / "figures" / "reconstructions.png", ncols=10, unit_range=True,
               title="test digits and their reconstructions",
               row_labels=["input", f"PCA-{DEMO_DEFAULTS['latent_dim']}"] + [r["label"] for r in rows])
    plot_reconstructions(x, rows[0]["reconstruction"], ds.image_shape,
                         out / "figures" / "reconstructions_ae.png", title="ae")
    drawn = [r for r in rows if r["samples"] is not None]
    image_grid(np.concatenate([np.clip(r["samples"], 0, 1) for r in drawn]), ds.image_shape,
               out / "figures" / "samples.png", ncols=10, unit_range=True,
               title="new digits drawn from each generative model's prior (seed 0)",
               row_labels=[r["label"] for r in drawn])
    data_line = (
        f"Data: scikit-learn digits, 8×8 in [0, 1], {len(ds.X_train)} train / {len(ds.X_test)} "
        "test (stratified, seed 0). Metric: squared error summed over the 64 pixels, mean over "
        "the test digits. PCA is fitted on the training digits with as many components as the "
        "code.")
    training_line = (
        f"Training: {options}. Architecture: 64-{DEMO_DEFAULTS['hidden'][0]}-"
        f"{DEMO_DEFAULTS['latent_dim']} MLP (linear AE: 64-{DEMO_DEFAULTS['latent_dim']}), "
        "mirrored decoder, Gaussian likelihood (squared error).")
    lines = [
        "# aelab demo: the autoencoder family on digits",
        "",
        data_line,
        "",
        training_line,
        "",
        "| model | code | test error | PCA, same code | ratio | epochs | train time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['label']} | {r['code_size']} | {r['test_error']:.3f} | "
                     f"{r['pca_error']:.3f} | {r['test_error'] / r['pca_error']:.2f} | "
                     f"{r['epochs']} | {r['seconds']:.1f} |")
    lines += ["", "Figures: `figures/reconstructions.png` (all models), `figures/samples.png` (samples "
              "from the generative models' priors), `figures/loss_*.png`.", ""]
    atomic_write_bytes(out / "summary.md", "\n".join(lines).encode())
    write_json(out / "summary.json",
               [{k: v for k, v in r.items() if k not in ("reconstruction", "samples")} for r in rows])
    header = ["model", "code", "test error", "PCA, same code", "ratio", "epochs", "train time (s)"]
    table = [[r["label"], r["code_size"], r["test_error"], r["pca_error"],
              r["test_error"] / r["pca_error"], r["epochs"], r["seconds"]] for r in rows]
    figures = out / "figures"
    sections = [
        Section("summary", text=f"{data_line} {training_line}",
                tables=[("test reconstruction error per example", header, table)]),
        Section("reconstructions and samples", images=[
            ("test digits and their reconstructions", (figures / "reconstructions.png").read_bytes()),
            ("samples from the generative models' priors", (figures / "samples.png").read_bytes())]),
        Section("loss curves per term", images=[
            (path.stem.removeprefix("loss_").replace("_", " "), path.read_bytes())
            for path in sorted(figures.glob("loss_*.png"))]),
    ]
    page = render("aelab demo: the autoencoder family on digits",
                  "Every model of the classic family, trained on the embedded digits, beside PCA.",
                  sections)
    atomic_write_bytes(out / "report.html", page.encode())
