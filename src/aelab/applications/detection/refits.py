"""The detector's fit: an ensemble, refitted on the rows that look normal (the
concentration step of Rousseeuw & Van Driessen, *Computing LTS regression for large data
sets*, 2006).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aelab.applications.detection.defaults import auto_neighbors, auto_settings, spread_code_sizes
from aelab.applications.detection.ensemble import Ensemble, fit_ensemble
from aelab.applications.detection.scoring import trim_threshold


def fit_detector(
    X: np.ndarray,
    *,
    contamination="auto",
    refits: int = 1,
    n_members: int = 1,
    code_sizes: Sequence[int] | None = None,
    spread_codes: bool = False,
    hidden: Sequence[int] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    seeds: Sequence[int] = (0,),
    neighbors: int | None = 0,
    train_options: dict | None = None,
    **ensemble_options,
) -> Ensemble:
    """Fit an ensemble, then refit it ``refits`` times on the rows that look normal.

    Each refit leaves out the training rows scoring above :func:`trim_threshold`, as
    the concentration step of least trimmed squares does (Rousseeuw & Van Driessen,
    *Computing LTS regression for large data sets*, 2006): outliers in the training
    data no longer shape the autoencoders nor their input scaling. The fits before the
    last one only choose rows, so they use one member; the last uses ``n_members``.
    Refitting stops early if fewer than two rows would be left.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    contamination : "auto" or float
        Fraction of rows left out at each refit (``"auto"``: Tukey's fence).
    refits : int, default=1
    n_members : int, default=1
        Members of the final ensemble.
    code_sizes, hidden, epochs, batch_size : optional
        None: :func:`auto_settings` for the rows each fit sees.
    spread_codes : bool, default=False
        With ``code_sizes=None``: the members cycle over :func:`spread_code_sizes` of
        the automatic code size instead of using it alone.
    seeds : sequence of int
        ``seeds[i]`` seeds member ``i`` of every fit (needs ``n_members`` of them).
    neighbors : int or None, default=0
        ``k`` of the code-space neighbour term of the final ensemble (see
        :class:`Ensemble`; None: :func:`auto_neighbors` of its code sizes); the refits
        choose rows by reconstruction error alone, and the reference codes are those of
        the rows kept.
    train_options : dict, optional
        Further keyword arguments of :func:`aelab.train` (lr, validation_split, ...).
    **ensemble_options
        ``model``, ``model_params``, ``scorer``, ``normalization``, ``groups``,
        ``feature_floor``, ``bootstrap`` of :func:`fit_ensemble`.

    Returns
    -------
    Ensemble
    """
    val = (train_options or {}).get("validation_split", 0.0)

    def fit_on(rows: np.ndarray, members: int, k: int | None = 0) -> Ensemble:
        auto = auto_settings(int(len(rows) * (1.0 - val)), X.shape[1])
        options = {**(train_options or {}), "epochs": epochs or auto.epochs,
                   "batch_size": batch_size or auto.batch_size}
        sizes = code_sizes or (spread_code_sizes(auto.code_size, X.shape[1]) if spread_codes
                               else (auto.code_size,))
        return fit_ensemble(rows, code_sizes=sizes,
                            hidden=auto.hidden if hidden is None else hidden,
                            seeds=seeds[:members],
                            neighbors=auto_neighbors(sizes) if k is None else k,
                            train_options=options, **ensemble_options)

    rows = X
    for _ in range(refits):
        scores = fit_on(rows, 1).scores(X)
        kept = X[scores <= trim_threshold(scores, contamination)]
        if len(kept) < 2:
            break
        rows = kept
    return fit_on(rows, n_members, neighbors)
