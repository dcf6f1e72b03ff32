"""Outlier tasks outside the 22 ADBench data sets, constructed from the data sets that ship
with scikit-learn (no download), run like ``benchmarks/adbench.py``'s test protocol.

Constructed tasks, not a benchmark anyone publishes: each takes some classes as normal
and a few rows of another class as anomalies, the construction of Campos et al. (*On the
evaluation of unsupervised outlier detection*, DMKD 2016) that ODDS and ADBench use:

- ``breast_cancer``: benign rows normal, 18 malignant rows (5%) anomalies (the diagnostic
  Wisconsin data; ADBench's 42_WBC is the *original* Wisconsin data, 9 other features);
- ``digits_k`` (k = 0..9): every other digit normal, 5% of the rows digit ``k`` (8×8
  images; the same source as ADBench's 26_optdigits, whose anomalies are the zeros);
- ``wine_k`` (k = 1, 2): the other two cultivars normal, 10 rows of cultivar ``k``
  (ADBench's 45_wine is this data with cultivar 0 as the anomalies);
- ``iris_k`` (k = 0, 1, 2): the other two species normal, 5 rows of species ``k``.

The anomalies are drawn once (seed 0); per seed a stratified 60/40 split, each detector
fitted on the 60% without labels (contamination = its anomaly rate), ROC-AUC on the 40%.

    python benchmarks/adbench_constructed.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

import adbench
from common import RESULTS, machine, write

DEFAULT_METHODS = ["aelab", "aelab-previous", "pyod-AutoEncoder", "IsolationForest"]


def downsampled(X, y, anomaly_class: int, n_anomalies: int, seed: int = 0):
    """Rows of every other class (label 0) and ``n_anomalies`` rows of ``anomaly_class`` (label 1)."""
    rng = np.random.default_rng(seed)
    normal = np.flatnonzero(y != anomaly_class)
    anomalies = rng.choice(np.flatnonzero(y == anomaly_class), n_anomalies, replace=False)
    rows = np.r_[normal, np.sort(anomalies)]
    return X[rows].astype(np.float64), (y[rows] == anomaly_class).astype(np.int64)


def tasks() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    cancer = load_breast_cancer()
    out["breast_cancer"] = downsampled(cancer.data, cancer.target, 0, 18)  # 0: malignant
    digits = load_digits()
    for k in range(10):
        n = int(round(0.05 * np.sum(digits.target != k) / 0.95))
        out[f"digits_{k}"] = downsampled(digits.data, digits.target, k, n)
    wine = load_wine()
    for k in (1, 2):
        out[f"wine_{k}"] = downsampled(wine.data, wine.target, k, 10)
    iris = load_iris()
    for k in range(3):
        out[f"iris_{k}"] = downsampled(iris.data, iris.target, k, 5)
    return out


def markdown(setup: dict, summary: dict, wall_s: float, sizes: dict) -> str:
    methods, names = setup["methods"], summary["complete_datasets"]
    table, overall = summary["per_dataset"], summary["overall"]
    lines = [
        "# Constructed outlier tasks outside the 22 (scikit-learn's bundled data sets)", "",
        f"Command: `{setup['command']}`", "",
        f"{len(names)} tasks × {setup['seeds']} seeds; wall time {wall_s / 60:.1f} min; torch threads 1, "
        f"{setup['machine']['cpu_cores']} cores shared with other jobs (load average at start "
        f"{setup['machine']['load_average_at_start'][0]:.1f}), torch {setup['machine']['torch']}, "
        f"PyOD {setup['pyod']}, scikit-learn {setup['sklearn']}.", "",
        "**Constructed tasks**, labelled as such: some classes normal, a few rows of another "
        "class anomalies (see the script's docstring for each construction and its overlap "
        "with ADBench sources: `digits_*` share optdigits' source, `wine_*` 45_wine's). "
        "Per seed a stratified 60/40 split, fit on the 60% without labels (contamination = "
        "its anomaly rate), ROC-AUC on the 40%. None of these tasks took part in choosing "
        "aelab's defaults. `aelab`: the current defaults; `aelab-previous`: the defaults "
        "before issue 22.", "",
        "## Mean over tasks", "",
        "| method | mean ROC-AUC | mean rank | tasks above PyOD AutoEncoder | tasks above IsolationForest |",
        "|---|---|---|---|---|"]
    for m in sorted(methods, key=lambda m: -overall[m]["mean_roc_auc"]):
        above = {b: "–" if b == m else
                 f"{sum(table[n][m]['roc_auc'] > table[n][b]['roc_auc'] for n in names)} of {len(names)}"
                 for b in ("pyod-AutoEncoder", "IsolationForest")}
        lines.append(f"| {m} | {overall[m]['mean_roc_auc']:.4f} | {overall[m]['mean_rank']:.2f} | "
                     f"{above['pyod-AutoEncoder']} | {above['IsolationForest']} |")
    digits = [n for n in names if n.startswith("digits_")]
    rest = [n for n in names if n not in digits]
    lines += ["", "The ten `digits_*` tasks share one source; the means without them (6 tasks) "
              "and over them:", "", "| method | mean, 6 non-digit tasks | mean, 10 digit tasks |",
              "|---|---|---|"]
    for m in methods:
        lines.append(f"| {m} | {np.mean([table[n][m]['roc_auc'] for n in rest]):.4f} | "
                     f"{np.mean([table[n][m]['roc_auc'] for n in digits]):.4f} |")
    lines += ["", "## ROC-AUC per task (mean ± std over seeds)", "",
              "| task | rows | anomalies | " + " | ".join(methods) + " |",
              "|---|---|---|" + "---|" * len(methods)]
    for n in names:
        values = [table[n][m]["roc_auc"] for m in methods]
        cells = [(f"**{v:.3f}**" if v == max(values) else f"{v:.3f}")
                 + f" ± {table[n][m]['roc_auc_std']:.3f}" for m, v in zip(methods, values)]
        lines.append(f"| {n} | {sizes[n][0]} | {sizes[n][1]} | " + " | ".join(cells) + " |")
    lines += ["", "## Fit time (seconds, mean over seeds)", "",
              "| method | total over tasks |", "|---|---|"]
    for m in methods:
        lines.append(f"| {m} | {overall[m]['total_fit_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="*", default=DEFAULT_METHODS)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--name", default="adbench_constructed")
    p.add_argument("--render", action="store_true", help="only re-render results/NAME.md from its JSON")
    args = p.parse_args(argv)
    if args.render:
        payload = json.loads((RESULTS / f"{args.name}.json").read_text())
        write(args.name, markdown(payload["setup"], payload["summary"], payload["wall_s"],
                                  payload["sizes"]), payload)
        return 0
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    import pyod
    import sklearn

    facts = machine()
    t0 = time.perf_counter()
    adbench.warm_up(args.methods)
    rows, sizes = [], {}
    for name, (X, y) in tasks().items():
        sizes[name] = (len(y), int(y.sum()))
        for seed in range(args.seeds):
            for X_fit, X_eval, y_fit, y_eval in adbench.splits(X, y, seed, "test"):
                for m in args.methods:
                    rows.append({"dataset": name, "seed": seed, "fold": 0, "method": m,
                                 **adbench.run_one(m, X_fit, X_eval, y_fit, y_eval, seed)})
        done = {m: np.mean([r["roc_auc"] for r in rows if r["dataset"] == name and r["method"] == m])
                for m in args.methods}
        print(name, " ".join(f"{m}={v:.3f}" for m, v in done.items()), flush=True)
    wall = time.perf_counter() - t0
    summary = adbench.summarise(rows, args.methods, list(sizes))
    setup = {"command": " ".join(["python benchmarks/adbench_constructed.py",
                                  *(argv if argv is not None else sys.argv[1:])]),
             "machine": facts, "pyod": pyod.__version__, "sklearn": sklearn.__version__,
             "seeds": args.seeds, "methods": args.methods, "datasets": list(sizes),
             "settings": {m: getattr(adbench.DETECTORS[m], "params", None) for m in args.methods}}
    write(args.name, markdown(setup, summary, wall, sizes),
          {"setup": setup, "wall_s": wall, "summary": summary, "sizes": sizes, "runs": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
