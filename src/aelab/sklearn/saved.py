"""Saved estimators: :func:`load` reads back any of them, and :class:`PartitionScorer`
applies one to data partition by partition in worker processes (Dask's
``map_partitions``), each process loading it once.

Batch scoring on a cluster, with a detector saved by ``det.save("detector")`` (or
``aelab detect fit --out detector``) on storage every worker reads:

>>> import dask.dataframe as dd                                       # doctest: +SKIP
>>> from dask.distributed import Client                               # doctest: +SKIP
>>> from aelab.sklearn import PartitionScorer                         # doctest: +SKIP
>>> client = Client("scheduler:8786")                                 # doctest: +SKIP
>>> rows = dd.read_parquet("s3://bucket/rows/")                       # doctest: +SKIP
>>> score = PartitionScorer("detector", method="score_samples")        # doctest: +SKIP
>>> scores = rows.map_partitions(score, meta=score.meta).compute()    # doctest: +SKIP

Dask pickles the function object, which holds only the directory and the method's name:
code, not a user's file. Each worker reads the estimator from JSON + safetensors, never
from a pickle, and keeps it for the partitions that follow.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from aelab.core.optional import require
from aelab.sklearn._base import ESTIMATOR_FILE, read_estimator_file
from aelab.sklearn.clusterer import AutoencoderClusterer
from aelab.sklearn.detector import AutoencoderOutlierDetector
from aelab.sklearn.hasher import SemanticHasher
from aelab.sklearn.imputer import AutoencoderImputer
from aelab.sklearn.recommender import AutoRecRecommender
from aelab.sklearn.transformer import AutoencoderTransformer

ESTIMATORS = {cls.__name__: cls for cls in (
    AutoencoderTransformer, AutoencoderOutlierDetector, AutoencoderClusterer, AutoencoderImputer,
    AutoRecRecommender, SemanticHasher)}


def load(path):
    """Load an estimator saved with ``save(path)``, whichever class it is."""
    name = read_estimator_file(path)["estimator"]
    if name not in ESTIMATORS:
        raise ValueError(f"{str(path)!r} holds an unknown estimator {name!r}; known: {sorted(ESTIMATORS)}.")
    return ESTIMATORS[name].load(path)


# The methods that map each row to an output (not fit, nor score): what partitions can run.
ROW_METHODS = ("score_samples", "decision_function", "predict", "explain", "transform")


@lru_cache(maxsize=8)
def _load_once(path: str, stamp: tuple[int, int]):
    """The estimator saved in ``path``, loaded once per process for each ``stamp`` (the
    modification time and size of its ``estimator.json``: a new save is loaded again)."""
    return load(path)


def _stamp(path: str) -> tuple[int, int]:
    try:
        info = os.stat(Path(path) / ESTIMATOR_FILE)
    except OSError:
        return (0, 0)  # load() then says what is missing
    return (info.st_mtime_ns, info.st_size)


class PartitionScorer:
    """A picklable function that applies a saved estimator's method to one partition.

    Parameters
    ----------
    path : str or path
        A directory written by an estimator's ``save`` (or ``aelab detect fit --out``).
        Every worker must be able to read it under this path (made absolute here).
    method : str, default="score_samples"
        The estimator's method to call on each partition, one of :data:`ROW_METHODS` that
        it has: ``score_samples``, ``decision_function``, ``predict`` or ``explain`` for a
        detector, ``transform`` for a transformer, ``predict`` for a clusterer. Checked
        here, on the estimator loaded in this process.

    Calling it on a pandas DataFrame (a partition) returns a Series for one value per
    row (named after the method) or a DataFrame for several, on the partition's index;
    on a NumPy block, the array. :attr:`meta` is the empty result that Dask's
    ``map_partitions(..., meta=...)`` asks for.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from aelab.sklearn import AutoencoderOutlierDetector, PartitionScorer
    >>> X = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=list("abc"))
    >>> AutoencoderOutlierDetector(n_members=1, refits=0, epochs=2, random_state=0).fit(X).save("det")
    >>> score = PartitionScorer("det")
    >>> part = score(X.iloc[:5])
    >>> part.name, part.shape
    ('score_samples', (5,))
    """

    def __init__(self, path, method: str = "score_samples"):
        self.path = os.path.abspath(path)
        self.method = method
        estimator = self.estimator()
        offered = [m for m in ROW_METHODS if callable(getattr(estimator, m, None))]
        if method not in offered:
            raise ValueError(f"The 'method' parameter of PartitionScorer must name a method of the "
                             f"{type(estimator).__name__} saved in {self.path!r} that gives one "
                             f"output per row: one of {offered}. Got {method!r} instead.")

    def estimator(self):
        """The saved estimator, loaded once in this process."""
        return _load_once(self.path, _stamp(self.path))

    def __call__(self, partition):
        out = np.asarray(getattr(self.estimator(), self.method)(partition))
        if not hasattr(partition, "index"):  # a NumPy block
            return out
        pd = require("pandas", "tables", "PartitionScorer's pandas output")
        meta = self.meta
        if isinstance(meta, pd.Series):
            return pd.Series(out.astype(meta.dtype), index=partition.index, name=meta.name)
        return pd.DataFrame(out.astype(np.float64), index=partition.index, columns=meta.columns)

    @property
    def meta(self):
        """An empty pandas Series (one value per row) or DataFrame (several) with the names
        and dtypes of what a call returns."""
        pd = require("pandas", "tables", "PartitionScorer's pandas output")
        estimator = self.estimator()
        columns = self._columns(estimator)
        if columns is None:
            dtype = "int64" if self.method == "predict" else "float64"
            return pd.Series([], dtype=dtype, name=self.method)
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in columns})

    def _columns(self, estimator) -> list[str] | None:
        """The output's column names, or None for one value per row."""
        if self.method == "transform" and hasattr(estimator, "get_feature_names_out"):
            return [str(c) for c in estimator.get_feature_names_out()]
        if self.method == "explain":
            names = getattr(estimator, "feature_names_in_", None)
            return ([str(c) for c in names] if names is not None
                    else [f"x{j}" for j in range(estimator.n_features_in_)])
        return None

    def __repr__(self) -> str:
        return f"PartitionScorer({self.path!r}, method={self.method!r})"
