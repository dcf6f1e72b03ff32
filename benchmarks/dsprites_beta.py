"""β-VAE on generated dSprites: the β-VAE metric and MIG per β, beside Higgins et al. (2017).

Data: dSprites rendered by `aelab.data.dsprites` (737,280 64×64 binary images; see that
module for how they are drawn), a random subsample for training (`aelab.data.load_dsprites`,
--n-train images, seed 0) and a disjoint one for the reconstruction figures; the metrics
draw their own examples from all 737,280 images.
Model: `aelab.create("vae", beta=β, likelihood="bernoulli", latent_dim=10)` with Higgins et
al.'s dSprites widths, MLP 4096-1200-1200-10 encoder; aelab's MLP decoder mirrors the
encoder with the same ReLU units (10-1200-1200-4096), where the paper's decoder is
10-1200-1200-1200-4096 with tanh units. Adam, batch 64, a few epochs on a 2-core CPU
shared with other jobs: far less training than the paper's.
Scores: the β-VAE metric (Higgins et al. §4: L=64 pairs per point, a linear classifier,
--points-train/--points-test points, held-out accuracy) and MIG (Chen et al. 2018, 20 bins
per code dimension, --mig-n examples) from `aelab.applications.disentanglement`.

    python benchmarks/dsprites_beta.py [--betas 1 4] [--seeds 0 1] [--epochs 5] [--threads 1]

Rows accumulate in the results file across invocations with the same settings (a row of the
same β and seed is replaced), so seeds can run as separate processes.

Writes benchmarks/results/dsprites_beta.{md,json} and dsprites_beta_traversal_beta{β}.png.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import aelab
from aelab.applications.disentanglement import beta_vae_score, mig_score
from aelab.applications.generation import traverse
from aelab.core.seeding import seeded
from aelab.data import dsprites
from aelab.report.figures import image_grid
from common import RESULTS, json_text, machine, parse_args, write

HIDDEN, LATENT, BATCH = (1200, 1200), 10, 64
# Published β-VAE metric on dSprites (Higgins et al. 2017, §4.2 / Fig. 6): β-VAE (β=4) and VAE.
PUBLISHED = {1.0: ("VAE", 61.58), 4.0: ("β-VAE, β=4", 99.23)}
TRAVERSE_VALUES = np.linspace(-3.0, 3.0, 9)


def per_dim_kl(model, x: np.ndarray) -> np.ndarray:
    """Mean KL(q(z_j|x) || N(0, 1)) of each code dimension over ``x``, nats: (latent,)."""
    with torch.no_grad():
        q = model.posterior(model.scaler(torch.from_numpy(x)))
        kl = 0.5 * (q.mu.square() + q.logvar.exp() - 1.0 - q.logvar)
    return kl.mean(0).numpy()


def reconstruction(model, x: np.ndarray) -> dict:
    """Test -log p(x|z) per image (one draw of z, nats), KL per image, and the fraction of
    pixels wrong when the reconstruction E[x|z=mean] is thresholded at 0.5."""
    model.eval()
    with torch.no_grad(), seeded(0):
        terms = model.loss_terms(torch.from_numpy(x))
    x_hat = model.reconstruct(x)
    return {"test_recon_nll": float(terms["recon"]),
            "test_kl": float(terms["kl"]) / model.beta if model.beta else float("nan"),
            "test_pixel_error": float(((x_hat > 0.5) != (x > 0.5)).mean())}


def run(beta: float, seed: int, args, ds) -> tuple[dict, object]:
    model = aelab.create("vae", input_shape=4096, latent_dim=LATENT, hidden=HIDDEN,
                         likelihood="bernoulli", beta=beta, seed=seed)
    t0 = time.perf_counter()
    result = aelab.train(model, ds.X_train, epochs=args.epochs, batch_size=BATCH, lr=args.lr,
                         seed=seed, device="cpu")
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    score = beta_vae_score(model, n_train=args.points_train, n_test=args.points_test, pairs=64,
                           seed=seed)
    mig = mig_score(model, n=args.mig_n, seed=seed)
    row = {"beta": beta, "seed": seed, "epochs": args.epochs, "train_s": train_s,
           "eval_s": time.perf_counter() - t0, "final_train_loss": result.history["train/loss"][-1],
           "beta_vae_metric": 100 * score.test_accuracy,
           "beta_vae_metric_train": 100 * score.train_accuracy, "chance": 100 * score.chance,
           "mig": mig.mig, "mig_per_factor": dict(zip(dsprites.FACTOR_NAMES,
                                                       mig.per_factor.round(4).tolist())),
           **reconstruction(model, ds.X_test),
           "kl_per_dim": per_dim_kl(model, ds.X_test).round(3).tolist()}
    return row, model


def traversal_figure(model, beta: float, ds) -> str:
    """One test heart near the centre, each code dimension walked over ±3 (rows: dims, by KL)."""
    factors = dsprites.factors_of(dsprites.split_indices(len(ds.X_train), len(ds.X_test), 0)[1])
    heart = np.flatnonzero(factors[:, 0] == dsprites.SHAPES.index("heart"))
    pick = heart[np.argmin(np.abs(factors[heart, 3:] - 16).sum(1))]
    x = ds.X_test[pick:pick + 1]
    kl = per_dim_kl(model, ds.X_test[:2000])
    order = np.argsort(-kl)
    rows = np.concatenate([traverse(model, x, int(d), values=TRAVERSE_VALUES)[0] for d in order])
    name = f"dsprites_beta_traversal_beta{beta:g}.png"
    image_grid(rows, dsprites.IMAGE_SHAPE, RESULTS / name, ncols=len(TRAVERSE_VALUES),
               unit_range=True, row_labels=[f"z{d} KL {kl[d]:.2f}" for d in order],
               title=f"β-VAE β={beta:g}, seed 0: each row sets one code dimension to -3 … 3 "
                     "(rows sorted by KL, nats)")
    return name


def mean_std(values) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


def summarise(rows: list[dict]) -> list[dict]:
    """Mean ± std over seeds per β; active dims: code dimensions with mean KL > 0.01 nats."""
    out = []
    for beta in sorted({r["beta"] for r in rows}):
        rs = [r for r in rows if r["beta"] == beta]
        keys = ("beta_vae_metric", "mig", "test_recon_nll", "test_kl", "test_pixel_error", "train_s")
        out.append({"beta": beta, "seeds": [r["seed"] for r in rs],
                    **{k: mean_std([r[k] for r in rs]) for k in keys},
                    "active_dims": mean_std([sum(k > 0.01 for k in r["kl_per_dim"]) for r in rs])})
    return out


def markdown(payload: dict) -> str:
    a = payload["args"]
    lines = ["| β | seeds | β-VAE metric (%) | published (Higgins et al. 2017) | MIG | "
             "test -log p(x|z) (nats/image) | test KL (nats) | pixel error (%) | active dims | "
             "train wall / run |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s in payload["summary"]:
        label, pub = PUBLISHED.get(s["beta"], ("", None))
        pub_text = f"{pub:.2f} ({label})" if pub is not None else "—"
        lines.append(
            f"| {s['beta']:g} | {len(s['seeds'])} | **{s['beta_vae_metric'][0]:.1f} ± "
            f"{s['beta_vae_metric'][1]:.1f}** | {pub_text} | **{s['mig'][0]:.3f} ± {s['mig'][1]:.3f}** | "
            f"{s['test_recon_nll'][0]:.1f} ± {s['test_recon_nll'][1]:.1f} | "
            f"{s['test_kl'][0]:.1f} ± {s['test_kl'][1]:.1f} | "
            f"{100 * s['test_pixel_error'][0]:.2f} ± {100 * s['test_pixel_error'][1]:.2f} | "
            f"{s['active_dims'][0]:.1f} | {s['train_s'][0] / 60:.1f} min |")
    per_run = ["| β | seed | β-VAE metric (%) (train acc.) | MIG | MIG per factor (shape, scale, "
               "orientation, posX, posY) | KL per code dim (nats) |", "|---|---|---|---|---|---|"]
    for r in payload["rows"]:
        per_run.append(f"| {r['beta']:g} | {r['seed']} | {r['beta_vae_metric']:.1f} "
                       f"({r['beta_vae_metric_train']:.1f}) | {r['mig']:.3f} | "
                       f"{', '.join(f'{v:.3f}' for v in r['mig_per_factor'].values())} | "
                       f"{', '.join(f'{v:.2f}' for v in r['kl_per_dim'])} |")
    figures = "\n".join(f"![traversal β={b}]({name})" for b, name in payload["figures"].items())
    chance = np.mean([r["chance"] for r in payload["rows"]])
    return f"""# β-VAE on generated dSprites: β-VAE metric and MIG (issue 18 §3)

Data: dSprites generated by `aelab.data.dsprites` (3 shapes × 6 scales × 40 orientations ×
32 × 32 positions = 737,280 binary 64×64 images; an approximation of DeepMind's renders, not
their pixels: see the module docstring). Training: a random subsample of
{a['n_train']:,} images (`aelab.data.load_dsprites(n_train={a['n_train']}, n_test=5000)`), test
split 5,000 disjoint images for the reconstruction columns. Model: `aelab.create("vae",
input_shape=4096, latent_dim={LATENT}, hidden={HIDDEN}, likelihood="bernoulli", beta=β)`: encoder
4096-1200-1200-2·10 (ReLU) as in Higgins et al.; the decoder mirrors it (10-1200-1200-4096,
ReLU) where the paper uses 10-1200-1200-1200-4096 with tanh. Adam lr {a['lr']:g}, batch {BATCH},
{a['epochs']} epochs ({a['epochs'] * a['n_train'] // BATCH:,} updates; the paper trains far longer),
CPU, {a['threads']} torch thread.

Scores (`aelab.applications.disentanglement`, codes = posterior means): **β-VAE metric**
(Higgins et al. §4): each point fixes one of the 5 factors for L=64 pairs of otherwise random
images, its feature is the mean |z1 − z2|; a logistic regression on standardised features is
trained on {a['points_train']} points and scored on {a['points_test']} new ones (chance ≈
{chance:.0f}%). **MIG** (Chen et al. 2018) on {a['mig_n']:,} random images, each code
dimension cut into 20 equal-width bins (Chen et al. estimate the mutual information from
q(z|x) instead; the binned estimate follows Locatello et al.'s disentanglement_lib).
No published MIG is put beside ours: Chen et al. plot dSprites MIG against β rather than
tabulating it, and no number to quote was found. Settings were fixed before the run, not tuned on the test images.

{chr(10).join(lines)}

Mean ± std over seeds (std over {len(payload['summary'][0]['seeds'])} seeds). Active dims: code
dimensions whose mean KL to the prior exceeds 0.01 nats.

Per run:

{chr(10).join(per_run)}

Traversals (seed 0; one test heart near the centre; each row sets one code dimension to
-3 … 3 with the others at the image's posterior mean; rows sorted by KL):

{figures}

Commands (one invocation per seed; rows accumulate in the results file):

{chr(10).join(sorted({f"    {r['command']}" for r in payload['rows']}))}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--points-train", type=int, default=1000)
    parser.add_argument("--points-test", type=int, default=500)
    parser.add_argument("--mig-n", type=int, default=50_000)
    parser.add_argument("--render", action="store_true",
                        help="train nothing: rewrite the markdown from the results file")
    args = parse_args(parser)
    if args.render:
        payload = json.loads((RESULTS / "dsprites_beta.json").read_text())
        write("dsprites_beta", markdown(payload), payload)
        return
    if args.quick:
        args.epochs, args.n_train, args.points_train, args.points_test, args.mig_n = 1, 640, 40, 20, 2000
    ds = aelab.data.load_dsprites(n_train=args.n_train, n_test=5000, seed=0)
    name = "dsprites_beta_quick" if args.quick else "dsprites_beta"
    settings = {k: v for k, v in vars(args).items() if k not in ("command", "betas", "seeds", "render")}
    for seed in args.seeds:
        for beta in args.betas:
            row, model = run(beta, seed, args, ds)
            row["command"] = args.command
            figure = traversal_figure(model, beta, ds) if seed == 0 else None
            print(json_text(row), flush=True)
            payload = merged(name, settings, row, beta, figure)
            if not args.quick:  # results so far survive a run cut short
                write(name, markdown(payload), payload)
    print(markdown(payload), flush=True)


def merged(name: str, settings: dict, row: dict, beta: float, figure: str | None) -> dict:
    """The results file's rows with ``row`` added (replacing the same β and seed): runs of
    other seeds or β, in this or another invocation with the same settings, accumulate."""
    path = RESULTS / f"{name}.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    if old.get("args") != settings:
        old = {}  # other settings: start afresh
    rows = [r for r in old.get("rows", []) if (r["beta"], r["seed"]) != (row["beta"], row["seed"])]
    rows = sorted([*rows, row], key=lambda r: (r["beta"], r["seed"]))
    figures = {**old.get("figures", {}), **({f"{beta:g}": figure} if figure else {})}
    return {"args": settings, "machine": machine(), "rows": rows, "figures": figures,
            "summary": summarise(rows)}

if __name__ == "__main__":
    main()
