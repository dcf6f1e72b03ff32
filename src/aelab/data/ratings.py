"""Ratings tables from files: MovieLens-100K (Harper & Konstan, *The MovieLens Datasets*,
ACM TiiS 2015) as GroupLens' ``u.data`` or the ``ml-100k.inter`` file that
``../shared/data/get-ml-100k.sh`` writes. The data are never bundled: pass the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATING_FIELDS = ("user", "item", "rating", "timestamp")


def load_movielens(path) -> dict[str, np.ndarray]:
    """Read a MovieLens-100K ratings file into columns.

    Parameters
    ----------
    path : str or path-like
        ``u.data`` (tab-separated user, item, rating, timestamp; no header), the
        ``ml-100k.inter`` file (the same with a header line ``user_id:token ...``), or a
        directory holding either.

    Returns
    -------
    dict of str to ndarray
        ``user`` and ``item`` (int64 ids), ``rating`` (float64), ``timestamp`` (int64):
        a table that ``AutoRecRecommender.fit`` and ``pandas.DataFrame`` accept.
    """
    path = Path(path)
    if path.is_dir():
        found = [path / n for n in ("ml-100k.inter", "u.data") if (path / n).is_file()]
        if not found:
            raise FileNotFoundError(
                f"No MovieLens ratings file (ml-100k.inter or u.data) in {str(path)!r}. Fetch it "
                "with `bash ../shared/data/get-ml-100k.sh DIR` and pass DIR.")
        path = found[0]
    if not path.is_file():
        raise FileNotFoundError(
            f"MovieLens ratings file {str(path)!r} does not exist. Fetch it with "
            "`bash ../shared/data/get-ml-100k.sh DIR` and pass DIR/ml-100k.inter (or GroupLens' "
            "u.data).")
    with path.open() as f:
        first = f.readline()
    skip = 0 if first.split("\t")[0].strip().isdigit() else 1  # .inter files have a header
    try:
        table = np.loadtxt(path, delimiter="\t", skiprows=skip, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{str(path)!r} is not a MovieLens ratings file (tab-separated user, "
                         f"item, rating, timestamp): {err}") from err
    if table.shape[1] != 4 or len(table) == 0:
        raise ValueError(f"{str(path)!r} has {table.shape[1]} columns and {len(table)} rows; a "
                         "MovieLens ratings file has 4 tab-separated columns (user, item, rating, "
                         "timestamp) and at least one row.")
    return {"user": table[:, 0].astype(np.int64), "item": table[:, 1].astype(np.int64),
            "rating": table[:, 2], "timestamp": table[:, 3].astype(np.int64)}
