"""Semi-supervised MNIST with the semi-supervised VAE: Kingma et al. (2014)'s M1+M2.

M1: a VAE 784-600-600-50 trained on the 50,000 fitting images without labels; its posterior
means are the features. M2 (``ssvae``): q(y|x) and q(z|x,y) with 500 hidden units and a
50-d z, p(x|y,z) Gaussian on the features, trained on the same 50,000 rows of which 100,
1,000 or all carry their label (class-balanced draws), labelled rows repeated to a tenth of
the rows (aelab.train_semi_supervised). The last 10,000 training images validate; the test
set is read once, in stage 2. Two stages (see CONTRIBUTING.md):

    # 1. the grid (CANDIDATES), 100 labels, draw 0: validation error only
    python benchmarks/semisupervised_vae.py --candidates a1 a10 a50
    # 2. the candidate with the lowest validation error: draws 0..4, 100 / 1,000 / all labels
    python benchmarks/semisupervised_vae.py --final --draws 0 1 2 3 4
    python benchmarks/semisupervised_vae.py --quick      # tiny, checks the script
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import aelab
from common import SavedRuns, balanced_draw, data_dir, machine, mean_std, parse_args, write

logger = logging.getLogger("semisupervised_vae")
N_FIT = 50_000
WORK = Path(__file__).resolve().parent / ".work" / "semisupervised_vae"
M1 = {"hidden": [600, 600], "latent_dim": 50, "epochs": 50, "batch_size": 100, "lr": 1e-3}
# The grid, fixed before any run: α, the weight of -log q(y|x) per labelled row.
BASE = {"hidden": [500], "latent_dim": 50, "epochs": 100, "batch_size": 100, "lr": 1e-3,
        "labelled_share": 0.1}
CANDIDATES = {f"a{a:g}": {**BASE, "classification_weight": float(a)} for a in (1, 10, 50)}
BUDGETS = (100, 1000, N_FIT)


def m1_features(runs: SavedRuns, m1: dict, X, parts):
    """Train (or load) M1 on ``X``; return its posterior means of each array in ``parts``."""
    def train():
        vae = aelab.create("vae", input_shape=784, hidden=tuple(m1["hidden"]), latent_dim=m1["latent_dim"],
                           likelihood="bernoulli", seed=0)
        res = aelab.train(vae, X, epochs=m1["epochs"], batch_size=m1["batch_size"], lr=m1["lr"],
                          lr_schedule="cosine", device="cpu", seed=0)
        return vae, {"train_time_s": res.train_time_s, "final_loss": res.history["train/loss"][-1]}

    vae, record = runs.fitted("m1", 0, {**m1, "n_fit": len(X)}, train)
    return [vae.encode(p) for p in parts], record


def fit_m2(runs: SavedRuns, name: str, s: dict, draw: int, n_labels: int, F, y, F_val, y_val):
    """M2 on features ``F`` with ``n_labels`` labels of draw ``draw``: (model, record)."""
    def train():
        y_partial = np.full(len(y), -1)
        idx = np.arange(len(y)) if n_labels >= len(y) else balanced_draw(y, n_labels, draw)
        y_partial[idx] = y[idx]
        model = aelab.create("ssvae", input_shape=F.shape[1], n_classes=10, hidden=tuple(s["hidden"]),
                             latent_dim=s["latent_dim"], classification_weight=s["classification_weight"],
                             seed=draw)
        res = aelab.train_semi_supervised(model, F, y_partial, labelled_share=s["labelled_share"],
                                          epochs=s["epochs"], batch_size=s["batch_size"], lr=s["lr"],
                                          lr_schedule="cosine", device="cpu", seed=draw)
        return model, {"train_time_s": res.train_time_s, "val_error": 1.0 - model.score(F_val, y_val),
                       "n_labels": n_labels, "draw": draw}

    return runs.fitted(f"{name}_n{n_labels}", draw, {**s, "n_labels": n_labels}, train)


def header(args, m1: dict, m1_record: dict, wall: float) -> str:
    m = machine()
    return (f"Command: `{args.command}` (from the repository root; MNIST from `$AELAB_DATA_DIR`).\n"
            f"This invocation: {wall / 60:.1f} min on {m['cpu_cores']} shared CPU cores, "
            f"{args.threads} torch thread(s), torch {m['torch']}; each run's own time is in the JSON.\n"
            f"M1: VAE 784-{'-'.join(map(str, m1['hidden']))}-{m1['latent_dim']} (ReLU, Bernoulli "
            f"decoder), {m1['epochs']} epochs of Adam (lr {m1['lr']:g}, cosine, batch {m1['batch_size']}) "
            f"on the first 50,000 training images, seed 0, {m1_record['train_time_s'] / 60:.0f} min; "
            "one M1 serves every draw. Features: its posterior means.\n"
            "Validation: the last 10,000 training images; test: the 10,000 test images.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    stage = parser.add_mutually_exclusive_group()
    stage.add_argument("--candidates", nargs="+", choices=sorted(CANDIDATES))
    stage.add_argument("--final", action="store_true")
    parser.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS),
                        help="stage 2: label counts (50000: all)")
    parser.add_argument("--work", type=Path,
                        help="where runs are saved and found (default benchmarks/.work/<script>)")
    args = parse_args(parser)
    ds = aelab.data.load("mnist", data_dir=data_dir())
    X, y = ds.X_train[:N_FIT], ds.y_train[:N_FIT]
    X_val, y_val = ds.X_train[N_FIT:], ds.y_train[N_FIT:]
    t_start = time.perf_counter()
    m1, grid = M1, CANDIDATES
    if args.quick:
        X, y, X_val, y_val = X[:3000], y[:3000], X_val[:500], y_val[:500]
        m1 = {**M1, "epochs": 1}
        grid = {n: {**s, "epochs": 1} for n, s in CANDIDATES.items()}
        args.work = Path(tempfile.mkdtemp())
    runs = SavedRuns(args.work or WORK)
    (F, F_val, F_test), m1_record = m1_features(runs, m1, X, (X, X_val, ds.X_test))
    if args.quick:
        for name in grid:
            fit_m2(runs, name, grid[name], 0, 100, F, y, F_val, y_val)
        chosen = runs.choose([f"{n}_n100" for n in grid], "val_error")
        print(f"quick: chosen {chosen}")
        shutil.rmtree(args.work)
        return
    if not args.final:
        for name in args.candidates or sorted(grid):
            _, rec = fit_m2(runs, name, grid[name], 0, 100, F, y, F_val, y_val)
            logger.info("%s: validation error %.2f%%", name, 100 * rec["val_error"])
        saved = runs.records([f"{n}_n100" for n in grid])
        rows = [f"| `{n}` | α = {s['classification_weight']:g}, {s['epochs']} epochs | "
                + (f"{100 * saved[f'{n}_n100'][0]['val_error']:.2f}" if f"{n}_n100" in saved else "not run yet")
                + " |" for n, s in grid.items()]
        md = f"""# Semi-supervised VAE (M1+M2), stage 1: the grid on the validation split

{header(args, m1, m1_record, time.perf_counter() - t_start)}
100 labels (draw 0), validation error %:

| candidate | setting | validation error |
|---|---|---|
{chr(10).join(rows)}

The test set is not read in this stage; stage 2: [semisupervised_vae.md](semisupervised_vae.md).
"""
        write("semisupervised_vae_validation", md, {"command": args.command, "machine": machine(),
                                                    "candidates": grid, "m1": m1, "runs": saved})
        print(md)
        return
    chosen = runs.choose([f"{n}_n100" for n in grid], "val_error").removesuffix("_n100")
    results = {}
    for n_labels in args.budgets:
        draws = args.draws[:1] if n_labels >= N_FIT else args.draws  # all labels: nothing to draw
        for draw in draws:
            model, rec = fit_m2(runs, chosen, grid[chosen], draw, n_labels, F, y, F_val, y_val)
            rec = {**rec, "test_error": 1.0 - model.score(F_test, ds.y_test)}
            results.setdefault(n_labels, {})[draw] = rec
            logger.info("%d labels, draw %d: validation %.2f%%, test %.2f%%", n_labels, draw,
                        100 * rec["val_error"], 100 * rec["test_error"])
    published = {100: "3.33 ± 0.14", 1000: "2.40 ± 0.02"}
    rows = [f"| {'all (50,000)' if n >= N_FIT else f'{n:,}'} | {len(r)} | "
            f"{mean_std([100 * v['val_error'] for v in r.values()])} | "
            f"**{mean_std([100 * v['test_error'] for v in r.values()])}** | {published.get(n, '—')} |"
            for n, r in results.items()]
    s = grid[chosen]
    md = f"""# Semi-supervised VAE (Kingma et al. 2014, M1+M2) on MNIST

{header(args, m1, m1_record, time.perf_counter() - t_start)}
Chosen on validation (100 labels, draw 0; [semisupervised_vae_validation.md](semisupervised_vae_validation.md)):
`{chosen}`: M2 with α = {s['classification_weight']:g}, {s['epochs']} epochs over the oversampled
rows (labelled rows {100 * s['labelled_share']:.0f}% of them), Adam lr {s['lr']:g} cosine, batch
{s['batch_size']}, hidden {s['hidden']}, z {s['latent_dim']}-d. Test read once per model.

Error, %, mean ± std over label draws:

| labels | draws | validation | test | Kingma et al. 2014, Table 1 (M1+M2) |
|---|---|---|---|---|
{chr(10).join(rows)}

Published: Kingma, Rezende, Mohamed & Welling, *Semi-Supervised Learning with Deep Generative
Models*, NeurIPS 2014, Table 1: M1+M2 3.33 ± 0.14 with 100 labels and 2.40 ± 0.02 with 1,000;
M2 alone on pixels 11.97 ± 1.71 with 100. For comparison in this repository: the
stacked-DAE pretrained MLP fine-tuned on 100 labels, 20.6 ± 0.4% ([semisupervised.md](semisupervised.md)).
"""
    write("semisupervised_vae", md, {"command": args.command, "machine": machine(), "chosen": chosen,
                                     "setting": s, "m1": m1, "m1_record": m1_record,
                                     "results": {str(n): {str(d): v for d, v in r.items()}
                                                 for n, r in results.items()}})
    print(md)


if __name__ == "__main__":
    main()
