"""Figures of the generative autoencoders on MNIST (issue 3, benchmark 3).

- VAE and AAE: a grid of samples from the prior and interpolations between test digits;
- a 2-D AAE with the 10-Gaussian mixture prior (unsupervised, and label-assigned), test
  codes coloured by digit (Makhzani et al. 2015, Figs. 2 and 4);
- β-VAE latent traversals for β = 1 and β = 4 (Higgins et al. 2017);
- class-conditional samples from a conditional AAE: each column one style z, each row
  one digit (Makhzani et al. 2015, Fig. 6).

    python benchmarks/generative_figures.py [--epochs 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import aelab
from aelab.applications.generation import interpolate, traverse
from aelab.applications.sample_quality import mnist_feature_network
from aelab.report.figures import image_grid, plot_codes_2d
from common import RESULTS, data_dir, machine, parse_args, write

FIGURES = RESULTS / "figures"
MLP = dict(input_shape=784, hidden=(512, 256), likelihood="bernoulli")


def fit(name: str, epochs: int, ds, labels: bool = False, **config):
    model = aelab.create(name, seed=0, **MLP, **config)
    t0 = time.perf_counter()
    aelab.train(model, ds.X_train, ds.y_train if labels else None, epochs=epochs, batch_size=100,
                lr=1e-3, lr_schedule="cosine", seed=0, device="cpu")
    return model, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    args = parse_args(parser, quick=False)
    ds = aelab.data.load("mnist", data_dir=data_dir())
    shape, x_test = (28, 28), ds.X_test
    pairs_a, pairs_b = x_test[:8], x_test[8:16]
    rows, times = [], {}

    for name, config in (("vae", dict(latent_dim=16)),
                         ("aae", dict(latent_dim=16, prior="gaussian", disc_hidden=(512, 512)))):
        model, times[name] = fit(name, args.epochs, ds, **config)
        image_grid(model.sample(100, seed=0), shape, FIGURES / f"{name}_samples.png", ncols=10,
                   unit_range=True, title=f"{name}: 100 samples from the prior")
        path = interpolate(model, pairs_a, pairs_b, steps=10)
        image_grid(path.reshape(-1, 784), shape, FIGURES / f"{name}_interpolations.png", ncols=10,
                   unit_range=True, title=f"{name}: interpolations between test digits (rows)")
        error = float(np.square(x_test - model.reconstruct(x_test)).sum(1).mean())
        rows.append(f"| `{name}_samples.png`, `{name}_interpolations.png` | {name}, MLP 784-512-256-16, "
                    f"{config} | test squared error per image {error:.2f} | {times[name]:.0f} s |")

    for label_prior in (False, True):
        tag = "aae2d_mixture" + ("_labels" if label_prior else "")
        model, times[tag] = fit("aae", args.epochs, ds, labels=label_prior, latent_dim=2,
                                prior="mixture", prior_scale=5.0, label_prior=label_prior,
                                disc_hidden=(512, 512))
        torch.manual_seed(0)
        prior = model.sample_prior(5000).cpu().numpy()
        how = "label-assigned components (semi-supervised)" if label_prior else "unsupervised"
        codes = model.encode(x_test)
        plot_codes_2d(codes, ds.y_test, FIGURES / f"{tag}.png", prior_samples=prior,
                      title=f"AAE, 2-D code, mixture of 10 Gaussians prior, {how}: test codes")
        # Which component each test code falls in; with label_prior it should be its digit's.
        means = model.prior_dist.means[:, :2].numpy()
        nearest = np.argmin(((codes[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
        measured = (f"test codes in their digit's component: {np.mean(nearest == ds.y_test):.1%}"
                    if label_prior else f"components used by the test codes: {len(np.unique(nearest))}/10")
        rows.append(f"| `{tag}.png` | aae, latent 2, prior mixture (10, radius 5), label_prior="
                    f"{label_prior} | {measured} | {times[tag]:.0f} s |")

    for beta in (1.0, 4.0):
        tag = f"beta_vae_{beta:g}"
        model, times[tag] = fit("vae", args.epochs, ds, latent_dim=10, beta=beta)
        # Every one of the 10 code dimensions, around the code of the first test digit.
        walk = np.concatenate([traverse(model, x_test[:1], dim=d, values=np.linspace(-3, 3, 11))[0]
                               for d in range(10)])
        image_grid(walk.reshape(-1, 784), shape, FIGURES / f"{tag}_traversals.png", ncols=11,
                   unit_range=True, row_labels=[f"z{d}" for d in range(10)],
                   title=f"β-VAE, β={beta:g}: each row varies one code dimension from -3 to 3")
        with torch.no_grad():  # KL(q(z_j|x) || N(0,1)) per code dimension, mean over test digits
            q = model.posterior(model.scaler(torch.from_numpy(x_test)))
            kl = 0.5 * (q.mu.pow(2) + q.logvar.exp() - 1.0 - q.logvar).mean(0).numpy()
        measured = (f"active dimensions (mean KL > 0.1 nats): {int((kl > 0.1).sum())}/10; "
                    f"KL per dimension [{', '.join(f'{v:.2f}' for v in kl)}]")
        rows.append(f"| `{tag}_traversals.png` | vae, latent 10, beta={beta:g} | {measured} | "
                    f"{times[tag]:.0f} s |")

    model, times["cond_aae"] = fit("aae", args.epochs, ds, labels=True, latent_dim=4, n_classes=10,
                                   disc_hidden=(512, 512))
    torch.manual_seed(0)
    styles = model.sample_prior(10).cpu().numpy()  # one style per column, shared by every row
    grid = np.concatenate([model.decode(styles, y=np.full(10, c)) for c in range(10)])
    image_grid(grid.reshape(-1, 784), shape, FIGURES / "conditional_aae_samples.png", ncols=10,
               unit_range=True, row_labels=[str(c) for c in range(10)],
               title="conditional AAE: rows = requested digit, columns = one style z each")
    # Do the samples show the requested digit? Ask aelab's MNIST feature network (a CNN).
    judge = mnist_feature_network(data_dir())
    many = np.concatenate([model.decode(model.sample_prior(100).cpu().numpy(), y=np.full(100, c))
                           for c in range(10)])
    hit = np.mean(judge.predict(many) == np.repeat(np.arange(10), 100))
    rows.append(f"| `conditional_aae_samples.png` | aae, latent 4, n_classes=10 | 1,000 samples (100 per "
                f"digit) classified as the requested digit by `mnist_feature_network` (test accuracy "
                f"{judge.score(x_test, ds.y_test):.2%}): {hit:.1%} | {times['cond_aae']:.0f} s |")

    md = f"""# Generative autoencoders on MNIST: figures (issue 3, benchmark 3)

Command: `{args.command}` (repository root; MNIST from `$AELAB_DATA_DIR`). Every model: MLP
784-512-256-code (ReLU), Bernoulli decoder on the [0, 1] intensities, Adam lr 1e-3 with cosine
decay, batch 100, {args.epochs} epochs, seed 0, CPU ({args.threads} thread(s)). AAE
discriminators 512-512 (leaky ReLU). Figures in `benchmarks/results/figures/`.

| figure | model | measured | train time |
|---|---|---|---|
""" + "\n".join(rows) + "\n"
    write("generative_figures", md, {"command": args.command, "train_s": times, "machine": machine()})
    print(md)


if __name__ == "__main__":
    main()
