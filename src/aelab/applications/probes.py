"""Probes: how linearly separable (or how well clustered) a model's frozen codes are.

A linear probe is a logistic regression trained on the codes of a frozen encoder,
a k-NN probe a nearest-neighbour vote among them — the usual measures of
representation quality (e.g. Vincent et al., JMLR 11 (2010) §7; Alain & Bengio,
*Understanding intermediate layers using linear classifier probes*, 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aelab.core.validation import as_float_array, check_number


@dataclass
class ProbeResult:
    """What a probe returns.

    Attributes
    ----------
    accuracy : float
        Accuracy on the test codes, in [0, 1].
    train_accuracy : float
        Accuracy on the training codes, in [0, 1].
    probe : sklearn estimator
        The fitted probe; it takes codes (``model.encode(X)``), not inputs.
    n_features : int
        Width of the codes probed.
    """

    accuracy: float
    train_accuracy: float
    probe: object
    n_features: int


def linear_probe(model, X_train, y_train, X_test, y_test, *, C: float = 1.0,
                 max_iter: int = 1000, seed: int = 0) -> ProbeResult:
    """Multinomial logistic regression on the frozen codes of ``model``.

    Codes are standardised (fitted on the training codes) before the regression.

    Parameters
    ----------
    model : trained model with ``encode``, or None
        Any aelab autoencoder; ``None`` probes the raw inputs (the pixel baseline).
    X_train, y_train : array-like
        Examples and integer labels the probe is fitted on.
    X_test, y_test : array-like
        Examples and labels it is scored on.
    C : float, default=1.0
        Inverse L2 regularisation strength of the logistic regression.
    max_iter : int, default=1000
    seed : int, default=0

    Returns
    -------
    ProbeResult

    Examples
    --------
    >>> import aelab
    >>> from aelab.applications.probes import linear_probe
    >>> ds = aelab.data.load("digits")
    >>> linear_probe(None, ds.X_train, ds.y_train, ds.X_test, ds.y_test).accuracy > 0.9
    True
    """
    C = check_number(C, "C", "linear_probe", low=0.0, low_inclusive=False)
    max_iter = check_number(max_iter, "max_iter", "linear_probe", kind=int, low=1)
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter,
                                                               random_state=seed))
    return _fit_probe(probe, model, X_train, y_train, X_test, y_test)


def knn_probe(model, X_train, y_train, X_test, y_test, *, k: int = 5) -> ProbeResult:
    """k-nearest-neighbour vote (Euclidean) among the frozen training codes of ``model``.

    Parameters
    ----------
    model : trained model with ``encode``, or None
        ``None`` probes the raw inputs.
    X_train, y_train, X_test, y_test : array-like
        As in :func:`linear_probe`.
    k : int, default=5
        Number of neighbours.

    Returns
    -------
    ProbeResult
    """
    k = check_number(k, "k", "knn_probe", kind=int, low=1)
    return _fit_probe(KNeighborsClassifier(n_neighbors=k), model, X_train, y_train, X_test, y_test)


def _fit_probe(probe, model, X_train, y_train, X_test, y_test) -> ProbeResult:
    h_train, h_test = _codes(model, X_train, "X_train"), _codes(model, X_test, "X_test")
    y_train, y_test = _labels(y_train, len(h_train), "train"), _labels(y_test, len(h_test), "test")
    probe.fit(h_train, y_train)
    return ProbeResult(
        accuracy=float(np.mean(probe.predict(h_test) == y_test)),
        train_accuracy=float(np.mean(probe.predict(h_train) == y_train)),
        probe=probe,
        n_features=int(h_train.shape[1]),
    )


def _codes(model, X, name: str) -> np.ndarray:
    if model is None:
        x = as_float_array(X, name=name)
        return np.asarray(x).reshape(len(x), -1)
    if not hasattr(model, "encode"):
        raise TypeError(f"A probe needs a model with an encode() method or None; got "
                        f"{type(model).__name__}.")
    h = model.encode(X)
    return np.asarray(h).reshape(len(h), -1)


def _labels(y, n: int, split: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y_{split} must be 1-D with one label per example ({n}); got shape "
                         f"{y.shape}.")
    return y
