"""`aelab evaluate`: reconstruction error overall and per feature, beside PCA."""

from __future__ import annotations

import json

from aelab.applications.evaluation import log_likelihood, reconstruction_report
from aelab.cli.options import Formatter, add_data_option, load_data
from aelab.data import binarize
from aelab.models.persistence import load_model


def add_parser(sub):
    p = sub.add_parser("evaluate", help="reconstruction error of a saved model, beside PCA",
                       formatter_class=Formatter)
    p.add_argument("model_dir", help="directory written by `aelab train`")
    add_data_option(p)
    p.add_argument("--k", type=int, default=1000,
                   help="importance samples for the NLL of likelihood models (vae); 0 skips it")
    p.add_argument("--binarize", action="store_true",
                   help="score a seeded fixed binarisation of the data (binarised MNIST)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    model = load_model(args.model_dir)
    ds = load_data(args)
    held = ds.held_out()
    X_eval, y_eval = held.X, (held.y if model.n_classes else None)
    if args.binarize:
        X_eval = binarize(X_eval, seed=0)
    fit = ds.X_train if held.name == "test" else None
    report = reconstruction_report(model, X_eval, fit, y_eval)
    if args.k and model.has_likelihood:
        report["nll"] = {"k": args.k, "binarized": args.binarize,
                         "nats": float(-log_likelihood(model, X_eval, k=args.k, y=y_eval).mean())}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{model.name} on {ds.name} ({held.name}, {report['n_examples']} examples)")
    print(f"  squared error per example: {report['sq_error_per_example']:.4f}")
    print(f"  PCA-{report['code_size']} (fitted on {report['pca']['fitted_on']}): "
          f"{report['pca']['sq_error_per_example']:.4f}")
    if "nll" in report:
        print(f"  negative log-likelihood (k={args.k}): {report['nll']['nats']:.2f} nats")
    names = ds.feature_names or [f"x{i}" for i in range(len(report["mse_per_feature"]))]
    worst = sorted(zip(report["mse_per_feature"], report["pca"]["mse_per_feature"], names),
                   reverse=True)[:10]
    print("  worst features (MSE model / PCA):")
    for mse, pca_mse, name in worst:
        print(f"    {name:>12s} {mse:.5f} / {pca_mse:.5f}")
    return 0
