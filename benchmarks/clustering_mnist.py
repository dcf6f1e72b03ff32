"""Clustering with autoencoders — AE + k-means, DEC, IDEC and N2D — beside k-means on pixels.

The DEC-keras protocol: MNIST train and test joined (70,000 images), pixels / 255; a
d-500-500-2000-10 ReLU autoencoder pretrained end to end as DEC-keras does for MNIST (300
epochs of SGD, momentum 0.9, Keras's lr 1 on the per-pixel mean squared error, batch 256,
weights U(±1/√fan_in), biases 0; ``--pretrain-optimizer adam``: Adam lr 1e-3 instead);
k-means (20 starts) on its codes. DEC: SGD lr 0.01, momentum 0.9, target refreshed every
T = 140 steps, stop when < 0.1% of assignments change, at most 20,000 steps. IDEC: the
same with Adam lr 1e-3 and the reconstruction loss kept (γ = 0.1). N2D: UMAP of the same
codes (10 dimensions, 20 neighbours, min_dist 0), then a full-covariance Gaussian mixture.
Every method of a seed starts from the same pretrained autoencoder. The published
settings are used unchanged: nothing is tuned, so no labels are looked at before the end.

    python benchmarks/clustering_mnist.py                 # MNIST-70k, 3 seeds
    python benchmarks/clustering_mnist.py --data digits   # the same on scikit-learn's digits
    python benchmarks/clustering_mnist.py --quick         # tiny; writes nothing

Resumable: ``--work`` keeps each seed's pretraining checkpoint and autoencoder, and each
finished (seed, method) result; rerunning continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans

import aelab
from aelab.applications import clustering as C
from aelab.core.optional import available
from common import RESULTS, data_dir, json_text, machine, parse_args, write

METHODS = ["kmeans", "n2d", "dec", "idec"]
# Published figures: ACC / NMI in %, the source and its setting (REFERENCES.md).
PUBLISHED = {
    "mnist": {
        "k-means on pixels": ("53 / 50", "DEC-keras README"),
        "kmeans": ("88 / 81 (81.8 IDEC paper)", "DEC-keras README; Guo et al. 2017"),
        "dec": ("84.3 / – (paper); 91 / 87 (DEC-keras)", "Xie et al. 2016; DEC-keras"),
        "idec": ("88.1 / –", "Guo et al. 2017"),
        "n2d": ("97.9 / 94.2", "McConville et al. 2020"),
    },
}
SOURCES = """Published: k-means and DEC-keras from its README (XifengGuo/DEC-keras); DEC from Xie et
al. 2016 Table 2; AE + k-means 81.8 and IDEC 88.1 from Guo et al. 2017; N2D from
McConville et al. 2020. Their pretraining: 300 epochs of SGD (DEC-keras, MNIST), 200 of
Adam (IDEC), 1000 (N2D); DEC's paper pretrains a stacked denoising autoencoder layer-wise.
DEC-keras's figures are means over 10 trials whose DEC accuracy ranges from 83 to 96%."""
NAMES = {"kmeans": "AE + k-means", "dec": "DEC", "idec": "IDEC", "n2d": "N2D (UMAP + GMM)"}


def load(name: str, quick: bool):
    ds = aelab.data.load(name, data_dir=data_dir() if name == "mnist" else None)
    X = np.concatenate([ds.X_train, ds.X_test]).reshape(-1, ds.n_features).astype(np.float32)
    y = np.concatenate([ds.y_train, ds.y_test])
    if name == "digits":
        X = X / max(float(X.max()), 1.0)
    if quick:
        X, y = X[:1500], y[:1500]
    return X, y


def pretrained(X, seed, epochs, optimizer, work: Path):
    """The seed's pretrained autoencoder, from the work directory if it is there.

    ``optimizer="sgd"`` is DEC-keras's MNIST setting: SGD with momentum 0.9 at Keras's
    lr 1 on the per-pixel mean squared error, which is lr 1/d on aelab's per-example sum,
    biases started at zero as Keras does (weights: both draw U(±1/√fan_in)).
    ``"adam"``: Adam lr 1e-3, PyTorch's default initialisation.
    """
    done = work / f"seed{seed}" / "ae"
    if (done / "config.json").exists():
        return aelab.load(done), None
    ae = aelab.create("ae", seed=seed, input_shape=X.shape[1], latent_dim=10,
                      hidden=(500, 500, 2000), activation="relu", preprocess="none")
    lr = 1e-3
    if optimizer == "sgd":
        lr = 1.0 / X.shape[1]
        with torch.no_grad():
            for module in ae.modules():
                if isinstance(module, torch.nn.Linear) and module.bias is not None:
                    module.bias.zero_()
    fit = aelab.train(ae, X, epochs=epochs, batch_size=256, lr=lr, optimizer=optimizer,
                      seed=seed, checkpoint_dir=work / f"seed{seed}" / "pretrain", resume=True,
                      checkpoint_every=5)
    # Every epoch's time, those run before a resume included (the history is restored).
    pretrain_s = float(sum(fit.history["epoch_time_s"]))
    ae.save(done, metadata={"pretrain_s": pretrain_s,
                            "final_recon": fit.history["train/recon"][-1]})
    return ae, pretrain_s


def run_method(method, ae, X, seed):
    t0 = time.perf_counter()
    fit = C.cluster(method, ae, X, 10, seed=seed)
    wall = time.perf_counter() - t0
    extra = {} if fit.self_training is None else {"iterations": fit.self_training.iterations,
                                                  "converged": fit.self_training.converged}
    codes = fit.model.encode(X) if fit.codes is None else fit.codes
    return fit.labels, codes, wall, extra


def figure(codes, labels, path: Path, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    idx = rng.choice(len(codes), size=min(6000, len(codes)), replace=False)
    if available("umap"):
        import umap

        xy = umap.UMAP(n_components=2, n_neighbors=20, min_dist=0.1, random_state=0).fit_transform(
            codes[idx])
        how = "UMAP"
    else:
        from sklearn.decomposition import PCA

        xy, how = PCA(2).fit_transform(codes[idx]), "PCA"
    fig, ax = plt.subplots(figsize=(6.5, 6))
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=labels[idx], cmap="tab10", s=2, alpha=0.7)
    ax.legend(*sc.legend_elements(), title="cluster", loc="best", fontsize=7, markerscale=1.5)
    ax.set_title(f"{title}\n2-D {how} of {len(idx):,} codes, coloured by cluster")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def record(done_file: Path, done: dict) -> dict:
    """Write the finished runs, merged with what the file holds now: several processes (one
    per seed) may share a work directory, and each adds only its own keys."""
    on_disk = json.loads(done_file.read_text()) if done_file.exists() else {}
    merged = {**on_disk, **done}
    done_file.write_text(json_text(merged))
    return merged


def labels_file(work: Path, method: str, seed: int) -> Path:
    """A method's labels and codes on one seed (the page's figure shows the first seed's)."""
    return work / f"labels_{method}_seed{seed}.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="mnist", choices=["mnist", "digits"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pretrain-epochs", type=int, default=300)
    parser.add_argument("--pretrain-optimizer", default="sgd", choices=["sgd", "adam"],
                        help="sgd: DEC-keras's MNIST setting; adam: Adam lr 1e-3")
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--work", default="benchmarks/.work/clustering",
                        help="where checkpoints and finished results are kept")
    args = parse_args(parser, threads=2)
    X, y = load(args.data, args.quick)
    epochs = 2 if args.quick else args.pretrain_epochs
    work = (Path(args.work) / (f"{args.data}-quick" if args.quick else args.data)
            / f"e{epochs}{'' if args.pretrain_optimizer == 'adam' else '-' + args.pretrain_optimizer}")
    work.mkdir(parents=True, exist_ok=True)
    done_file = work / "results.json"
    done = json.loads(done_file.read_text()) if done_file.exists() else {}
    methods = [m for m in args.methods if m != "n2d" or available("umap")]

    t0 = time.perf_counter()
    pixel_rows = []
    for seed in args.seeds[:1] if args.quick else args.seeds:
        key = f"pixels/{seed}"
        if key not in done:
            t = time.perf_counter()
            labels = KMeans(10, n_init=20 if not args.quick else 2, random_state=seed).fit_predict(X)
            done[key] = {**C.clustering_scores(y, labels), "wall_s": time.perf_counter() - t}
            done = record(done_file, done)
        pixel_rows.append(done[key])
        ae, pre_s = pretrained(X, seed, epochs, args.pretrain_optimizer, work)
        if pre_s is not None:
            done[f"pretrain/{seed}"] = {"wall_s": pre_s}
        for method in methods:
            key = f"{method}/{seed}"
            if key in done:
                continue
            labels, codes, wall, extra = run_method(method, ae, X, seed)
            done[key] = {**C.clustering_scores(y, labels), "wall_s": wall, **extra}
            np.savez(labels_file(work, method, seed), labels=labels, codes=codes)
            done = record(done_file, done)
            print(f"seed {seed} {method}: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float)
                                                        else f"{k} {v}" for k, v in done[key].items()),
                  flush=True)
    if args.quick:
        return

    def stats(prefix, metrics=("acc", "nmi", "ari", "wall_s")):
        runs = [v for k, v in done.items() if k.startswith(prefix + "/")]
        return {m: [float(np.mean([r[m] for r in runs])), float(np.std([r[m] for r in runs]))]
                for m in metrics}, len(runs)

    rows, payload = [], {"machine": machine(), "command": args.command, "runs": done,
                         "wall_s_this_call": time.perf_counter() - t0}
    published = PUBLISHED.get(args.data, {})
    for key, name in [("pixels", "k-means on pixels"), *[(m, NAMES[m]) for m in methods]]:
        s, n = stats(key)
        if not n:
            continue
        pub = published.get("k-means on pixels" if key == "pixels" else key, ("–", ""))
        rows.append(f"| {name} | {100 * s['acc'][0]:.1f} ± {100 * s['acc'][1]:.1f} | "
                    f"{100 * s['nmi'][0]:.1f} ± {100 * s['nmi'][1]:.1f} | "
                    f"{100 * s['ari'][0]:.1f} ± {100 * s['ari'][1]:.1f} | {s['wall_s'][0]:.0f} | "
                    f"{n} | {pub[0]} |")
        payload[key] = s
    pre, _ = stats("pretrain", ("wall_s",))
    fig_name = f"clustering_{args.data}.png"
    best = max(methods, key=lambda m: stats(m)[0]["acc"][0])
    shown = next(s for s in args.seeds if labels_file(work, best, s).exists())
    saved = np.load(labels_file(work, best, shown))
    figure(saved["codes"], saved["labels"], RESULTS / fig_name,
           f"{NAMES[best]} on {args.data} (seed {shown})")
    n_iter = {m: [done[k].get("iterations") for k in done if k.startswith(m + "/")]
              for m in ("dec", "idec") if m in methods}
    md = f"""# Clustering {args.data} with autoencoders

{__doc__.split(chr(10) + chr(10))[1]}

Data: {args.data} ({X.shape[0]:,} × {X.shape[1]}), {len(args.seeds)} seeds ({args.seeds});
pretraining {epochs} epochs of {args.pretrain_optimizer} (DEC-keras: 300 of SGD; see below),
{pre['wall_s'][0]:.0f} ± {pre['wall_s'][1]:.0f} s per seed. Metrics against the labels, in %:
accuracy under the best one-to-one cluster-to-class map (Hungarian), NMI, ARI; mean ± std
over seeds. Wall: seconds of the clustering stage after pretraining, on this machine
({machine()['cpu_cores']} CPU cores, {args.threads} torch threads, shared with other jobs).
DEC/IDEC steps to convergence per seed: {n_iter}.

| method | ACC | NMI | ARI | wall s | seeds | published ACC / NMI |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{SOURCES if published else "No published figures for this data set: it checks that the MNIST settings carry over."}

![codes]({fig_name})

Reproduce: `{args.command}` (set `AELAB_DATA_DIR` to the folder holding `mnist/`).
"""
    write(f"clustering_{args.data}", md, payload)


if __name__ == "__main__":
    main()
