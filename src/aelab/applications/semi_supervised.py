"""Training on partly labelled data: a model that reads the label -1 as "unlabelled" (the
semi-supervised VAE, ``ssvae``) fitted so that every batch sees labelled rows.

With 100 labels among 50,000 images, uniformly shuffled batches of 100 hold a labelled row
once in five batches and the classifier's term is nearly absent. Kingma et al. (2014) draw
every minibatch from both sets; here the labelled rows are repeated so that they make up a
chosen share of the rows the trainer shuffles, which keeps the one trainer and its batch
sources unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from aelab.core.validation import UNLABELLED, check_number
from aelab.training import TrainResult, train


def oversampled_rows(y, labelled_share: float) -> np.ndarray:
    """Row indices that list every row once and the labelled ones (``y >= 0``) again, so
    that labelled rows make up at least ``labelled_share`` of the result.

    Parameters
    ----------
    y : array-like of int, shape (n,)
        Class labels, ``-1`` for unlabelled rows.
    labelled_share : float in [0, 1)
        The share of labelled rows wanted; 0 lists every row once.

    Returns
    -------
    ndarray of int64
        Indices into the data: ``arange(n)`` followed by ``r - 1`` more copies of the
        labelled indices, r = ceil(share · n_unlabelled / ((1 - share) · n_labelled)).
    """
    share = check_number(labelled_share, "labelled_share", "oversampled_rows", low=0.0, high=1.0,
                         high_inclusive=False)
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer labels, -1 for unlabelled rows; got dtype {y.dtype}.")
    labelled = np.flatnonzero(y != UNLABELLED)
    n_unlabelled = len(y) - len(labelled)
    rows = [np.arange(len(y))]
    if len(labelled) and n_unlabelled and share > 0:
        copies = math.ceil(share * n_unlabelled / ((1 - share) * len(labelled)))
        rows += [labelled] * (copies - 1)
    return np.concatenate(rows).astype(np.int64)


def train_semi_supervised(model, X, y, *, labelled_share: float = 0.1, **train_options) -> TrainResult:
    """Fit ``model`` on ``X`` with labels ``y`` (-1 where unknown), labelled rows repeated.

    Parameters
    ----------
    model : Trainable
        A model that reads the label -1 as unlabelled (``aelab.create("ssvae", ...)``).
    X : array-like of shape (n, *input_shape)
    y : array-like of int, shape (n,)
        A class for each labelled row, -1 for the others.
    labelled_share : float, default=0.1
        Share of labelled rows in the shuffled training rows (see :func:`oversampled_rows`).
    **train_options
        Passed to :func:`aelab.train` (``epochs`` then counts passes over the oversampled
        rows).

    Returns
    -------
    TrainResult
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels; give one label (or -1) per row.")
    rows = oversampled_rows(y, labelled_share)
    return train(model, X[rows], y[rows], **train_options)
