"""Test NLL on dynamically binarised MNIST beside Burda, Grosse & Salakhutdinov (2016), Table 1.

Architectures as in the paper (tanh units, Gaussian latents, Bernoulli output):
1 stochastic layer x-200-200-z(50); 2 stochastic layers x-200-200-z1(100)-100-100-z2(50).
Training pixels are resampled as Bernoulli(intensity) at every step; the test set is one
fixed binarisation (seed 0). NLL = -mean log p(x) estimated with k=5000 importance
samples on all 10,000 test images (`aelab.log_likelihood`). The paper trains 3,280 passes
with batch 20; we train far fewer epochs (stated per row) with batch 100 and a cosine
learning-rate decay. Each model is its own invocation; results accumulate in
benchmarks/results/iwae_mnist.json and the table is rebuilt from all rows present.

    python benchmarks/iwae_mnist.py [--models vae1 iwae1_k5 ...] [--epochs N] [--threads 1]

Without --epochs each model trains for its default budget (200 epochs; 50 for the k=50
models, whose decoder does 50x the work); the whole set takes hours on 2 CPU cores.
Each trained model is saved under runs/iwae_mnist/NAME with a training.json record, so
`--evaluate-saved` can redo the evaluation of a run that was cut short after training.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import aelab
from aelab.core.distributions import DiagonalGaussian
from aelab.core.seeding import seeded
from common import RESULTS, data_dir, machine, parse_args, write

ONE = dict(hidden=(200, 200), latent_dim=50)
TWO = dict(hidden=(200, 200), latent_dim=50, intermediate_dims=(100,), latent_hidden=(100, 100))
# name: (label, architecture, objective, published NLL at k=5000 (Burda et al. Table 1), epochs)
MODELS = {
    "vae1": ("VAE, 1 layer, k=1", ONE, dict(objective="elbo", k=1), 86.76, 200),
    "iwae1_k5": ("IWAE, 1 layer, k=5", ONE, dict(objective="iwae", k=5), 85.54, 200),
    "iwae1_k50": ("IWAE, 1 layer, k=50", ONE, dict(objective="iwae", k=50), 84.78, 50),
    "vae2": ("VAE, 2 layers, k=1", TWO, dict(objective="elbo", k=1), 85.33, 200),
    "iwae2_k50": ("IWAE, 2 layers, k=50", TWO, dict(objective="iwae", k=50), 82.90, 50),
}
BATCH, LR = 100, 1e-3
RUNS = RESULTS.parent.parent / "runs" / "iwae_mnist"


def active_units(model, X: np.ndarray, draws: int = 20, threshold: float = 0.01) -> list[int]:
    """Active units per stochastic layer, bottom first (Burda et al. 2016, §5.2).

    Unit u is active if A_u = Var_x(E_{q(u|x)}[u]) > 0.01; the inner expectation of an
    upper layer is averaged over ``draws`` samples of the layers below.
    """
    with torch.no_grad(), seeded(0):
        q = model.posterior(model.scaler(torch.from_numpy(X)))
        means = [q.mu]
        z = q.repeat(draws).sample()
        for up in model.up:
            q_up = DiagonalGaussian.from_params(up(z))
            means.append(q_up.mu.reshape(draws, len(X), -1).mean(0))
            z = q_up.sample()
    return [int((m.var(0) > threshold).sum()) for m in means]


def train(name: str, epochs: int, ds) -> None:
    """Train one model and save it with a ``training.json`` record under runs/iwae_mnist/."""
    _, arch, objective, _, _ = MODELS[name]
    model = aelab.create("vae", input_shape=784, activation="tanh", likelihood="bernoulli", seed=0,
                         **arch, **objective)
    t0 = time.perf_counter()
    result = aelab.train(model, ds.X_train, epochs=epochs, batch_size=BATCH, lr=LR,
                         lr_schedule="cosine", batch_transform=aelab.data.dynamic_binarize, seed=0,
                         device="cpu", progress=True)
    model.save(RUNS / name)
    record = {"epochs": epochs, "train_s": time.perf_counter() - t0,
              "final_train_loss": result.history["train/loss"][-1],
              "train_threads": torch.get_num_threads()}
    (RUNS / name / "training.json").write_text(json.dumps(record))


def evaluate(name: str, eval_k: int, X_test_bin) -> dict:
    """Evaluate the saved model ``name`` (test NLL, -ELBO, active units) beside the paper."""
    label, arch, objective, published, _ = MODELS[name]
    record = json.loads((RUNS / name / "training.json").read_text())
    model = aelab.load(RUNS / name)
    t0 = time.perf_counter()
    ll = aelab.log_likelihood(model, X_test_bin, k=eval_k, seed=0)
    eval_s = time.perf_counter() - t0
    elbo = aelab.log_likelihood(model, X_test_bin, k=1, seed=0)
    return {"label": label, **record, "batch": BATCH, "lr": LR, "schedule": "cosine",
            "objective": objective, "architecture": arch, "eval_s": eval_s, "eval_k": eval_k,
            "test_nll": float(-ll.mean()), "test_neg_elbo_k1": float(-elbo.mean()),
            "published_nll": published, "active_units": active_units(model, X_test_bin),
            "eval_threads": torch.get_num_threads()}


def table(rows: dict) -> str:
    lines = ["| model | epochs (paper: 3,280) | train wall | test NLL, k=5000 | published | gap | "
             "-ELBO (k=1) | active units | command |", "|---|---|---|---|---|---|---|---|---|"]
    for name in MODELS:
        if name not in rows:
            continue
        r = rows[name]
        lines.append(f"| {r['label']} | {r['epochs']} | {r['train_s'] / 60:.0f} min | "
                     f"**{r['test_nll']:.2f}** | {r['published_nll']:.2f} | "
                     f"{r['test_nll'] - r['published_nll']:+.2f} | {r['test_neg_elbo_k1']:.2f} | "
                     f"{' + '.join(map(str, r.get('active_units', ['?'])))} | `{r['command']}` |")
    return "\n".join(lines)


def write_table(payload: dict) -> None:
    md = f"""# Binarised MNIST test NLL beside Burda et al. (2016), Table 1 (issue 3, benchmark 1)

Data: MNIST, 60,000 training images dynamically binarised (Bernoulli(intensity) redrawn at
every step), 10,000 test images binarised once (seed 0). Architectures as in the paper: tanh
units, Gaussian latents, Bernoulli output; 1 layer x-200-200-z(50), 2 layers
x-200-200-z1(100)-100-100-z2(50). NLL: -mean of `aelab.log_likelihood(model, X_test, k=5000)`.
Training: Adam lr {LR} with cosine decay to 0, batch {BATCH}, seed 0, CPU. The paper used batch
20 and 3,280 passes with a stepped schedule; each row states the epochs we could afford on a
2-core CPU shared with other jobs, and the gap that remains.

{table(payload['rows'])}

Where a gap remains, compare the epochs column with the paper's 3,280 passes. Active units
(Burda et al. §5.2: Var_x E_q[u] > 0.01) are listed per stochastic layer, bottom first.

Two stochastic layers with k=1 start slowly: the upper layer collapses onto its prior early
(the active-units column) and the bound trails the one-layer model for many epochs. This is
the optimisation, not the loss: `tests/test_generative.py::test_two_layer_log_weights_match_torch_distributions`
checks the two-layer log weights against torch.distributions term by term. The paper's
3,280 passes leave the optimiser the time this model needs; 200 epochs do not.
"""
    write("iwae_mnist", md, payload)
    print(md, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--epochs", type=int, default=None, help="default: each model's own budget")
    parser.add_argument("--eval-k", type=int, default=5000)
    parser.add_argument("--render", action="store_true",
                        help="train nothing: fill in active units from the saved models and rewrite "
                             "the table")
    parser.add_argument("--evaluate-saved", action="store_true",
                        help="train nothing: evaluate the saved --models (runs/iwae_mnist/NAME, "
                             "written by an earlier run) and add their rows")
    args = parse_args(parser, quick=False)
    ds = aelab.data.load("mnist", data_dir=data_dir())
    X_test_bin = aelab.data.binarize(ds.X_test, seed=0)
    path = RESULTS / "iwae_mnist.json"
    payload = json.loads(path.read_text()) if path.exists() else {"rows": {}}
    if args.render:
        for name, row in payload["rows"].items():
            if "active_units" not in row and (RUNS / name).is_dir():
                row["active_units"] = active_units(aelab.load(RUNS / name), X_test_bin)
        write_table(payload)
        return
    for name in args.models:
        if not args.evaluate_saved:
            train(name, args.epochs or MODELS[name][4], ds)
        row = evaluate(name, args.eval_k, X_test_bin)
        row["command"] = (f"python benchmarks/iwae_mnist.py --models {name} --epochs {row['epochs']} "
                          f"--eval-k {args.eval_k} --threads {row.get('train_threads', args.threads)}")
        row["machine"] = machine()
        # Re-read: another invocation may have added its row while this one trained.
        payload = json.loads(path.read_text()) if path.exists() else {"rows": {}}
        payload["rows"][name] = row
        write_table(payload)


if __name__ == "__main__":
    main()
