"""The generative family on MNIST in one table (issue 18 §2): same code size, same data,
same metric.

Every row trains one registered model on the 60,000 MNIST training images (pixels in
[0, 1], Bernoulli likelihood: cross-entropy on the grey levels, which is the expected loss
under dynamic binarisation) with latent size 16, Adam lr 1e-3, batch 100 (unless the row
states otherwise), for the epochs stated in its row, and is scored on:

- Fréchet distance, precision and recall (k=3) of 10,000 samples (the decoder means)
  against the 10,000 MNIST test images, in the penultimate features of aelab's MNIST
  feature network (`aelab.applications.sample_quality`; floor and scale in
  benchmarks/results/sample_quality_floor.md);
- NLL (models with ``has_likelihood``): -mean `aelab.log_likelihood` with k importance
  samples on the first N test images binarised once (seed 0) — see --nll-k/--nll-n;
- reconstruction error: squared error summed over the 784 pixels, mean over the test set;
- samples per second (drawing 10,000, one thread) and training wall time.

A row is one entry of ROWS. Each (row, seed) result is written to
benchmarks/results/generative_mnist.json as soon as it finishes and skipped on a rerun
with the same settings, so a killed run resumes and new rows are added by rerunning.

    python benchmarks/generative_mnist.py [--rows vae iwae ...] [--seeds 0 1] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field

import numpy as np
import torch

import aelab
from aelab.applications.evaluation import squared_errors
from aelab.applications.sample_quality import SampleQuality, mnist_feature_network
from aelab.core.seeding import seeded
from aelab.models.base import perceptual_option
from aelab.models.registry import get_saved_class
from aelab.report.figures import image_grid
from common import RESULTS, data_dir, json_text, machine, parse_args

NAME = "generative_mnist"
LATENT = 16
BATCH, LR = 100, 1e-3
N_SAMPLES = 10_000
MLP = dict(hidden=(256,))
CONV = dict(backbone="conv", hidden=(32, 64))
# What every autoencoder row shares; the GAN has no likelihood option (sigmoid output).
COMMON = dict(input_shape=(1, 28, 28), latent_dim=LATENT, likelihood="bernoulli")
GAN_COMMON = dict(input_shape=(1, 28, 28), latent_dim=LATENT)
EPOCHS = 5


@dataclass(frozen=True)
class Row:
    """One model of the table: a saved kind's name, its config beyond ``base``, its epochs."""

    key: str
    label: str
    model: str
    config: dict = field(default_factory=dict)
    epochs: int = EPOCHS
    base: dict = field(default_factory=lambda: COMMON)
    train: dict = field(default_factory=dict)  # trainer settings other than LR and BATCH
    # DFC-VAE: ``perceptual_option(feature network, **this)``, the network's weights frozen
    perceptual: dict | None = None

    def build(self, phi, seed: int | None = None):
        """The untrained model; ``phi`` is the feature network (for a perceptual row)."""
        config = dict(self.config)
        if self.perceptual is not None:
            config["perceptual"] = perceptual_option(phi, **self.perceptual)
        with seeded(seed):
            model = get_saved_class(self.model)(**self.base, **config)
        return model if self.perceptual is None else model.use_perceptual_network(phi)

    def settings(self, epochs: int, n_train: int) -> dict:
        """What a stored result must match to be reused (JSON-normalised)."""
        out = dict(epochs=epochs, config=self.config, n_train=n_train)
        out.update({k: v for k, v in (("train", self.train), ("perceptual", self.perceptual)) if v})
        return json.loads(json.dumps(out))


ROWS = [
    Row("vae", "VAE (MLP)", "vae", MLP),
    Row("beta_vae", "β-VAE, β=4 (MLP)", "vae", {**MLP, "beta": 4.0}),
    Row("iwae", "IWAE, k=5 (MLP)", "vae", {**MLP, "objective": "iwae", "k": 5}),
    Row("aae_gaussian", "AAE, Gaussian prior (MLP)", "aae", MLP),
    Row("aae_mixture", "AAE, 10-Gaussian mixture prior (MLP)", "aae",
        {**MLP, "prior": "mixture", "n_components": 10}),
    Row("wae_mmd", "WAE-MMD (MLP)", "wae", {**MLP, "penalty": "mmd"}),
    Row("wae_gan", "WAE-GAN (MLP)", "wae", {**MLP, "penalty": "gan"}),
    Row("vae_conv", "VAE (conv); MLP twin: VAE (MLP)", "vae", CONV),
    Row("ae_mlp", "AE (MLP)", "ae", MLP),
    Row("ae_conv", "AE (conv); MLP twin: AE (MLP)", "ae", CONV),
    # The adversarial and perceptual models, with the settings benchmarks/adversarial_mnist.py
    # found stable (lr, batch); DFC-VAE's perceptual loss uses the very network the scores are
    # computed in (its conv blocks; the scores use its dense layer): read its FD with that in mind.
    Row("gan", "GAN (DCGAN nets, hidden (32, 64); lr 2e-4, batch 64)", "gan", {"hidden": (32, 64)},
        base=GAN_COMMON, train={"lr": 2e-4, "batch_size": 64}),
    Row("vae_gan", "VAE-GAN (conv, disc (32, 64, 128); lr 3e-4, batch 64)", "vae_gan",
        {**CONV, "disc_hidden": (32, 64, 128)}, train={"lr": 3e-4, "batch_size": 64}),
    Row("dfc_vae", "DFC-VAE (conv VAE + perceptual loss, weight 100, feature-network blocks 0, 1)",
        "vae", CONV, perceptual={"weight": 100.0, "layers": [0, 1]}),
]


def available(row: Row, phi) -> str | None:
    """Why ``row`` cannot be built now (model not registered, option unknown), or None."""
    try:
        row.build(phi)
    except (TypeError, ValueError) as err:
        return str(err).split(". ")[0]
    return None


def run(row: Row, seed: int, ds, X_test_bin, quality: SampleQuality, args) -> dict:
    """Train ``row`` with ``seed`` and score it; write its sample grid for seed 0."""
    model = row.build(quality.network, seed)
    epochs = args.epochs or row.epochs
    train = {"lr": LR, "batch_size": BATCH, **row.train}
    t0 = time.perf_counter()
    history = aelab.train(model, ds.X_train[: args.n_train], epochs=epochs, seed=seed,
                          device="cpu", **train).history
    result = {"label": row.label, "model": row.model, "config": row.config, "seed": seed,
              **({"train": row.train} if row.train else {}),
              **({"perceptual": row.perceptual} if row.perceptual else {}),
              "epochs": epochs, "n_train": len(ds.X_train[: args.n_train]),
              "train_s": time.perf_counter() - t0,
              "final_train_loss": history.get("train/loss", [None])[-1]}
    if hasattr(model, "reconstruct"):  # a GAN has no encoder
        x_hat = model.reconstruct(ds.X_test)
        result["recon_sq_error"] = float(squared_errors(ds.X_test, x_hat).sum(1).mean())
    if getattr(type(model), "has_likelihood", False):
        t1 = time.perf_counter()
        ll = aelab.log_likelihood(model, X_test_bin[: args.nll_n], k=args.nll_k, seed=0)
        result.update(nll=float(-ll.mean()), nll_k=args.nll_k, nll_n=args.nll_n,
                      nll_s=time.perf_counter() - t1)
    if type(model).can_sample:
        t1 = time.perf_counter()
        samples = model.sample(args.n_samples, seed=seed)
        result["samples_per_s"] = args.n_samples / (time.perf_counter() - t1)
        scores = quality.score(samples.reshape(len(samples), -1))
        result.update(frechet_distance=scores.frechet_distance, precision=scores.precision,
                      recall=scores.recall, n_samples=scores.n_samples,
                      pixel_range=[float(samples.min()), float(samples.max())])
        if seed == 0:
            image_grid(samples[:64], (28, 28), RESULTS / f"{NAME}_{row.key}.png", ncols=8,
                       title=f"{row.label}: samples, seed 0, {epochs} epochs", unit_range=True)
    result["eval_threads"] = torch.get_num_threads()
    return result


def fmt(values: list[float], digits: int) -> str:
    """``mean ± std`` over seeds (the std only with two or more)."""
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def table(results: dict) -> str:
    lines = ["| model | epochs | seeds | Fréchet distance ↓ | precision ↑ | recall ↑ | NLL (nats) ↓ | "
             "recon. sq. error ↓ | samples/s | train wall (min) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in ROWS:
        runs = [r for r in results.values() if r["key"] == row.key]
        if not runs:
            continue
        def col(name: str, runs=runs) -> list[float]:
            return [r[name] for r in runs if name in r]

        lines.append(
            f"| {row.label} | {runs[0]['epochs']} | {len(runs)} | {fmt(col('frechet_distance'), 2)} | "
            f"{fmt(col('precision'), 3)} | {fmt(col('recall'), 3)} | {fmt(col('nll'), 1)} | "
            f"{fmt(col('recon_sq_error'), 2)} | {fmt(col('samples_per_s'), 0)} | "
            f"{fmt([t / 60 for t in col('train_s')], 1)} |")
    return "\n".join(lines)


def write_results(payload: dict, floor: dict | None, args) -> None:
    floor_line = ("" if floor is None else
                  f"Floor (real vs real, 10,000 MNIST training images vs the 10,000 test images): "
                  f"Fréchet distance {floor['frechet_distance']:.2f}, precision "
                  f"{floor['precision']:.3f}, recall {floor['recall']:.3f} "
                  "(benchmarks/results/sample_quality_floor.md).\n")
    seeds = sorted({str(r["seed"]) for r in payload["results"].values()})
    skipped = "\n".join(f"- `{k}`: {why}" for k, why in payload.get("unavailable", {}).items())
    ran = {r["key"] for r in payload["results"].values()}
    pending = ", ".join(f"`{r.key}`" for r in ROWS
                        if r.key not in ran and r.key not in payload.get("unavailable", {}))
    md = f"""# The generative family on MNIST (issue 18 §2)

No published table measures these models under one protocol; per-model published numbers
(e.g. IWAE NLL) are in benchmarks/results/iwae_mnist.md under the papers' own, much longer,
schedules. This table compares the models with each other at equal code size and budget.

Setup: MNIST 60,000 training images in [0, 1]; every model latent size {LATENT}, Bernoulli
likelihood, MLP rows hidden {MLP['hidden']} (decoder mirrored), conv rows `backbone="conv"`
hidden (32, 64); Adam lr {LR}, batch {BATCH} unless the row says otherwise, constant rate, CPU, {payload['threads']} torch
thread(s) on a 2-core machine shared with other jobs (wall times are upper bounds). No setting
was tuned: every row uses the library defaults for its model beyond what its label states.
Samples: {N_SAMPLES:,} decoder means E[x | z], z ~ p(z), scored against the 10,000 test
images in the feature network's 128-d penultimate features (FD, precision/recall with k=3,
Kynkäänniemi et al. 2019). NLL: -mean log p(x) by importance sampling, k={args.nll_k}, on the
first {args.nll_n:,} test images binarised once (seed 0) — a k-sample lower bound on log p(x),
so an upper bound on the NLL. Reconstruction error: squared error summed over pixels, mean
over the 10,000 test images. Mean ± std over seeds (std with ddof=1). Autoencoders without a
prior (AE rows) do not sample: reconstruction only. The GAN (`aelab.models.gan.GAN`: DCGAN
generator and discriminator, non-saturating loss, sigmoid output, z of size {LATENT}) has no
encoder: samples only. DFC-VAE is trained with a perceptual loss in the conv blocks of the
very feature network the scores use (they use its dense layer): its scores are not
independent of its training objective.

{floor_line}
{table(payload['results'])}

Sample grids: `benchmarks/results/{NAME}_<row>.png` (seed 0).

Rows not run (model or option not registered when the table was made):
{skipped or '- none'}

Rows defined in ROWS but not run yet (rerun the command to add them): {pending or 'none'}.

Command (each finished (row, seed) is kept in the JSON and skipped when rerun):
`python benchmarks/generative_mnist.py --seeds {' '.join(seeds)} --nll-k {args.nll_k} --nll-n {args.nll_n} --threads {payload['threads']}`
"""
    (RESULTS / f"{NAME}.md").write_text(md)
    (RESULTS / f"{NAME}.json").write_text(json_text(payload) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", nargs="+", choices=[r.key for r in ROWS],
                        default=[r.key for r in ROWS])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=None, help="override every row's epochs")
    parser.add_argument("--n-train", type=int, default=60_000)
    parser.add_argument("--n-samples", type=int, default=N_SAMPLES)
    parser.add_argument("--nll-k", type=int, default=200)
    parser.add_argument("--nll-n", type=int, default=1000)
    parser.add_argument("--render", action="store_true",
                        help="train nothing: rewrite the table from the JSON")
    args = parse_args(parser, quick=False)
    ds = aelab.data.load("mnist", data_dir=data_dir())
    X_test_bin = aelab.data.binarize(ds.X_test, seed=0)
    network = mnist_feature_network(data_dir())
    quality = SampleQuality(network, ds.X_test)
    path = RESULTS / f"{NAME}.json"
    floor_path = RESULTS / "sample_quality_floor.json"
    floor = json.loads(floor_path.read_text())["train_vs_test"] if floor_path.exists() else None
    def update(section: str = "results", key: str = "", value=None) -> dict:
        """Set (or, with ``value=None``, drop) ``payload[section][key]`` and rewrite the files;
        re-read first: another invocation may have written its rows meanwhile."""
        payload = json.loads(path.read_text()) if path.exists() else {"results": {}}
        entries = payload.setdefault(section, {})
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value
        payload.update(threads=args.threads, command=args.command, machine=machine())
        write_results(payload, floor, args)
        return payload

    if args.render:
        update()
    for row in [] if args.render else ROWS:
        if row.key not in args.rows:
            continue
        why = available(row, network)
        update("unavailable", row.key, why)
        if why is not None:
            continue
        settings = row.settings(args.epochs or row.epochs, min(args.n_train, len(ds.X_train)))
        for seed in args.seeds:
            key = f"{row.key}/seed{seed}"
            done = update()["results"].get(key)
            if done is not None and all(done.get(k) == v for k, v in settings.items()):
                continue
            result = run(row, seed, ds, X_test_bin, quality, args)
            update("results", key, {"key": row.key, **result})
            print(f"{key}: " + json.dumps({k: v for k, v in result.items() if k != "config"}),
                  flush=True)
    payload = json.loads(path.read_text()) if path.exists() else {"results": {}}
    print(table(payload["results"]))


if __name__ == "__main__":
    main()
