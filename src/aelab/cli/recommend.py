"""`aelab recommend`: fit AutoRec on a ratings file, then predict ratings or list top items.

    aelab recommend fit --ratings ml-100k.inter --out DIR
    aelab recommend predict DIR --user 196 --item 242 --item 302
    aelab recommend top DIR --user 196 -n 10

Ratings files: MovieLens ``u.data`` / ``ml-100k.inter`` (tab-separated user, item, rating,
timestamp), read by :func:`aelab.data.load_movielens`, or any CSV / Parquet table with
columns ``user``, ``item``, ``rating`` (ids may be integers or strings; needs
``pip install 'aelab[tables]'``).
"""

from __future__ import annotations

import time
from pathlib import Path

from aelab.cli.options import Formatter
from aelab.core.io import directory_lock
from aelab.core.optional import require
from aelab.data.ratings import load_movielens
from aelab.sklearn import AutoRecRecommender

DEFAULTS = AutoRecRecommender().get_params()


def add_parser(sub):
    p = sub.add_parser("recommend", help="rating prediction with AutoRec (fit, predict, top)",
                       formatter_class=Formatter)
    steps = p.add_subparsers(dest="step", required=True, metavar="STEP")

    fit = steps.add_parser("fit", help="fit AutoRec on a ratings file and save it",
                           formatter_class=Formatter)
    fit.add_argument("--ratings", required=True,
                     help="MovieLens u.data or ml-100k.inter file, or a .csv/.parquet table with "
                          "columns user, item, rating")
    fit.add_argument("--out", required=True, help="directory for the fitted recommender")
    fit.add_argument("--kind", default=DEFAULTS["kind"], choices=["item", "user"],
                     help="item: I-AutoRec (a row per item); user: U-AutoRec")
    fit.add_argument("--latent-dim", type=int, default=DEFAULTS["latent_dim"], help="hidden units")
    fit.add_argument("--weight-penalty", type=float, default=DEFAULTS["weight_penalty"],
                     help="λ of (λ/2)·Σ‖W‖²")
    fit.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="Adam learning rate")
    fit.add_argument("--epochs", type=int, default=DEFAULTS["epochs"], help="maximum epochs")
    fit.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, splits")
    fit.set_defaults(func=run_fit)

    for name, text in (("predict", "predicted ratings of (user, item) pairs"),
                       ("top", "the top-n unseen items of a user")):
        q = steps.add_parser(name, help=text, formatter_class=Formatter)
        q.add_argument("recommender_dir", help="directory written by `aelab recommend fit`")
        q.add_argument("--user", required=True, help="user id")
        if name == "predict":
            q.add_argument("--item", required=True, action="append",
                           help="item id (repeat for several)")
        else:
            q.add_argument("-n", type=int, default=10, help="how many items")
        q.set_defaults(func=run_predict if name == "predict" else run_top)


def read_ratings(path: str):
    """A ratings table from a MovieLens file, or from a CSV/Parquet table (pandas)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        return load_movielens(path)
    pd = require("pandas", "tables", "Reading a CSV or Parquet ratings table")
    frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    return {c: frame[c].to_numpy() for c in frame.columns}


def as_ids(values, id_map):
    """Command-line ids (text) as the kind of id the recommender was fitted on."""
    if id_map.kind == "str":
        return list(values)
    try:
        return [int(v) for v in values]
    except ValueError as err:
        raise ValueError(f"The recommender was fitted on integer {id_map.what} ids; got "
                         f"{list(values)!r}.") from err


def run_fit(args) -> int:
    table = read_ratings(args.ratings)
    t0 = time.perf_counter()
    with directory_lock(args.out, "recommend fit"):
        rec = AutoRecRecommender(kind=args.kind, latent_dim=args.latent_dim,
                                 weight_penalty=args.weight_penalty, lr=args.lr,
                                 epochs=args.epochs, random_state=args.seed).fit(table)
        rec.save(args.out)
    print(f"fitted {args.kind}-AutoRec on {len(table['rating']):,} ratings "
          f"({len(rec.users_):,} users, {len(rec.items_):,} items) in "
          f"{time.perf_counter() - t0:.0f} s; saved to {args.out}")
    return 0


def run_predict(args) -> int:
    rec = AutoRecRecommender.load(args.recommender_dir)
    user, items = as_ids([args.user], rec.users_)[0], as_ids(args.item, rec.items_)
    for item, r in zip(items, rec.predict([user] * len(items), items)):
        print(f"{user}\t{item}\t{r:.3f}")
    return 0


def run_top(args) -> int:
    rec = AutoRecRecommender.load(args.recommender_dir)
    user = as_ids([args.user], rec.users_)[0]
    items = rec.recommend(user, args.n)
    for item, r in zip(items, rec.predict([user] * len(items), items)):
        print(f"{item}\t{r:.3f}")
    return 0
