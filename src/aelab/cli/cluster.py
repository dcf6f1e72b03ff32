"""`aelab cluster`: cluster a data set in an autoencoder's code space and save the clusterer.

    aelab cluster --data digits --k 10 --method idec --out runs/clusters

Writes the fitted clusterer (``aelab.sklearn.load`` reads it back), ``labels.csv`` (one
cluster per row, train then test for a named data set) and, when the data have labels,
``scores.json`` (accuracy under the best cluster-to-class map, NMI, ARI).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aelab.applications.clustering import CLUSTERING_METHODS, clustering_scores
from aelab.cli.options import Formatter, add_data_option, load_data
from aelab.core.io import atomic_write_bytes, directory_lock, write_json
from aelab.sklearn import AutoencoderClusterer

DEFAULTS = AutoencoderClusterer().get_params()


def add_parser(sub):
    p = sub.add_parser("cluster", help="cluster data with DEC, IDEC, N2D or k-means on codes",
                       formatter_class=Formatter)
    add_data_option(p)
    p.add_argument("--k", type=int, required=True, help="number of clusters")
    p.add_argument("--method", default=DEFAULTS["method"], choices=sorted(CLUSTERING_METHODS),
                   help="; ".join(f"{k}: {m.description}" for k, m in CLUSTERING_METHODS.items()))
    p.add_argument("--out", required=True, help="directory for the clusterer and labels.csv")
    p.add_argument("--latent-dim", type=int, default=DEFAULTS["latent_dim"], help="code size")
    p.add_argument("--hidden", default=",".join(map(str, DEFAULTS["hidden"])),
                   help="encoder hidden widths, comma-separated")
    p.add_argument("--epochs", type=int, default=DEFAULTS["pretrain_epochs"],
                   help="pretraining epochs of the autoencoder")
    p.add_argument("--scaling", default="none", choices=["none", "standard", "minmax", "robust"],
                   help="column scaling before the autoencoder (named data sets are in [0, 1])")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, k-means")
    p.set_defaults(func=run)


def run(args) -> int:
    ds = load_data(args)
    X = np.concatenate([x for x in (ds.X_train, ds.X_test) if x is not None])
    labels = [y for y in (ds.y_train, ds.y_test) if y is not None]
    y = np.concatenate(labels) if len(labels) == (1 if ds.X_test is None else 2) else None
    try:
        hidden = tuple(int(w) for w in args.hidden.split(",") if w.strip())
    except ValueError as err:
        raise ValueError(f"--hidden must be comma-separated integers, e.g. 500,500,2000; "
                         f"got {args.hidden!r}.") from err
    est = AutoencoderClusterer(method=args.method, n_clusters=args.k, latent_dim=args.latent_dim,
                               hidden=hidden, pretrain_epochs=args.epochs, scaling=args.scaling,
                               random_state=args.seed)
    out = Path(args.out)
    with directory_lock(out, "clustering"):
        est.fit(X.reshape(X.shape[0], -1))
        est.save(out)
        rows = "cluster\n" + "".join(f"{int(c)}\n" for c in est.labels_)
        atomic_write_bytes(out / "labels.csv", rows.encode())
        sizes = np.bincount(est.labels_, minlength=args.k)
        print(f"{args.method}: {args.k} clusters of sizes {sizes.tolist()}; wrote {out}")
        if y is not None:
            scores = clustering_scores(y, est.labels_)
            write_json(out / "scores.json", scores)
            print("against the data's labels: " +
                  ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    return 0
