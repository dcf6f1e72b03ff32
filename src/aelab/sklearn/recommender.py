"""AutoRec rating prediction as an estimator: ``fit(ratings)``, ``predict(users, items)``,
``recommend(user, n)`` (Sedhain et al., *AutoRec*, WWW 2015).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from aelab.applications.recommendation import (
    KINDS,
    Biases,
    IdMap,
    check_ratings,
    fit_autorec,
    fit_biases,
    reconstruct_matrix,
    top_n,
)
from aelab.core.io import atomic_write_files, file_entry, json_bytes, read_listed_tensors, tensors_to_bytes
from aelab.core.validation import check_bool, check_choice, check_number, check_widths
from aelab.models import create
from aelab.models.persistence import load_model
from aelab.sklearn._base import ESTIMATOR_FILE, estimator_document, read_saved

MODEL_DIR = "model"
FITTED_FILE = "ratings.safetensors"


class AutoRecRecommender(BaseEstimator):
    """Predict ratings with I-AutoRec or U-AutoRec; unseen users and items fall back to
    the bias baseline μ + b_u + b_i.

    Parameters
    ----------
    kind : {"item", "user"}, default="item"
        ``item``: one row per item, over the users (I-AutoRec, the paper's better
        variant); ``user``: one row per user, over the items (U-AutoRec).
    latent_dim : int, default=500
        Sigmoid hidden units.
    hidden : tuple of int, default=()
        Further hidden layers (none in AutoRec).
    weight_penalty : float, default=0.1
        λ of (λ/2)·Σ‖W‖², added to the mean over rows of each row's squared error.
        The defaults λ = 0.1 and lr = 1e-4 are those chosen on a validation split of
        MovieLens-100K from λ ∈ {0.03, 0.1, 0.3, 1} × lr ∈ {1e-4, 3e-4, 1e-3}
        (benchmarks/autorec_ml100k.py).
    epochs : int, default=200
        Maximum epochs (early stopping usually ends training sooner).
    batch_size : int, default=64
        Rows per step.
    lr : float, default=1e-4
        Adam's learning rate.
    validation_split : float, default=0.1
        Fraction of the ratings held out of the input as the early-stopping target.
    early_stopping : int or None, default=10
        Patience in epochs on the held-out squared error; the best weights are kept.
    refit : bool, default=True
        Once early stopping has chosen the number of epochs on the held-out ratings,
        train a fresh model (same seed) on all the ratings for that many epochs, so that
        the ratings held out for the choice also shape the model (on MovieLens-100K:
        validation RMSE 0.8843 instead of 0.8888). Doubles the fitting time; without
        validation or early stopping there is nothing to refit.
    rating_range : (float, float) or None, default=None
        Ratings outside it raise in ``fit``; predictions are clipped to it. None: the
        range of the training ratings.
    random_state : int or None, default=None
    device : str, default="cpu"

    Attributes
    ----------
    model_ : AutoRec
    biases_ : Biases
        The baseline μ + b_u + b_i, fitted on the training ratings.
    users_, items_ : IdMap
        The ids seen in fit.
    rating_range_ : tuple of float
    history_ : dict of str to list of float
        Per-epoch values of the run with held-out ratings (its ``val/`` curves chose
        the epochs), or of the only run.
    n_epochs_ : int
        Epochs the final model was trained for.

    Examples
    --------
    >>> import numpy as np
    >>> from aelab.sklearn import AutoRecRecommender
    >>> rng = np.random.default_rng(0)
    >>> table = {"user": rng.integers(0, 30, 400), "item": rng.integers(0, 20, 400),
    ...          "rating": rng.integers(1, 6, 400).astype(float)}
    >>> rec = AutoRecRecommender(latent_dim=16, epochs=5, random_state=0).fit(table)
    >>> p = rec.predict([0, 999], [3, 3])  # user 999 is unknown: the baseline answers
    >>> bool(((p >= 1) & (p <= 5)).all())
    True
    """

    def __init__(self, kind: str = "item", latent_dim: int = 500, hidden=(),
                 weight_penalty: float = 0.1, epochs: int = 200, batch_size: int = 64,
                 lr: float = 1e-4, validation_split: float = 0.1,
                 early_stopping: int | None = 10, refit: bool = True, rating_range=None,
                 random_state=None, device: str = "cpu"):
        self.kind = kind
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.weight_penalty = weight_penalty
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.refit = refit
        self.rating_range = rating_range
        self.random_state = random_state
        self.device = device

    # ------------------------------------------------------------------ fitting
    def fit(self, ratings, y=None):
        """Fit on a table with columns ``user``, ``item``, ``rating`` (DataFrame or dict).

        Returns
        -------
        self
        """
        owner = type(self).__name__
        check_choice(self.kind, KINDS, "kind", owner)
        rating_range = self._check_range()
        users, items, r = check_ratings(ratings, rating_range, owner)
        self.users_, self.items_ = IdMap(users, "user"), IdMap(items, "item")
        self.rating_range_ = rating_range or (float(r.min()), float(r.max()))
        u, _ = self.users_.lookup(users)
        i, _ = self.items_.lookup(items)
        self._u, self._i, self._r = u, i, r.astype(np.float32)
        self.biases_ = fit_biases(u, i, r, len(self.users_), len(self.items_))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        rows, cols, shape = self._layout(u, i)
        config = {"input_shape": shape[1], "weight_penalty": self.weight_penalty,
                  "latent_dim": check_number(self.latent_dim, "latent_dim", owner, kind=int, low=1),
                  "hidden": check_widths(self.hidden, "hidden", owner)}
        vs = check_number(self.validation_split, "validation_split", owner, low=0.0, high=1.0,
                          high_inclusive=False)
        refit = check_bool(self.refit, "refit", owner)
        options = {"batch_size": check_number(self.batch_size, "batch_size", owner, kind=int, low=1),
                   "lr": self.lr, "device": self.device}
        self.model_ = create("autorec", seed=seed, **config)
        result = fit_autorec(
            self.model_, rows, cols, self._r, shape, vs, seed,
            epochs=check_number(self.epochs, "epochs", owner, kind=int, low=1),
            early_stopping=self.early_stopping if vs > 0 else None, **options)
        self.history_, self.n_epochs_ = result.history, result.epochs_run
        if refit and result.best_epoch is not None:  # the held-out ratings chose the epochs
            self.n_epochs_ = result.best_epoch
            self.model_ = create("autorec", seed=seed, **config)
            fit_autorec(self.model_, rows, cols, self._r, shape, 0.0, seed, epochs=self.n_epochs_,
                        early_stopping=None, **options)
        self._cache = None
        return self

    def _check_range(self):
        if self.rating_range is None:
            return None
        rr = self.rating_range
        if (not isinstance(rr, (tuple, list)) or len(rr) != 2
                or not all(isinstance(v, (int, float)) for v in rr) or not rr[0] < rr[1]):
            raise ValueError(f"The 'rating_range' parameter of {type(self).__name__} must be None "
                             f"or (low, high) with low < high, e.g. (1, 5). Got {rr!r} instead.")
        return (float(rr[0]), float(rr[1]))

    def _layout(self, u, i):
        """Row and column of each rating, and the matrix shape, for this ``kind``."""
        if self.kind == "item":
            return i, u, (len(self.items_), len(self.users_))
        return u, i, (len(self.users_), len(self.items_))

    def _matrix(self) -> np.ndarray:
        """r̂ for every (row, column) of the training layout, computed once."""
        if getattr(self, "_cache", None) is None:
            rows, cols, shape = self._layout(self._u, self._i)
            self._cache = reconstruct_matrix(self.model_, rows, cols, self._r, shape)
        return self._cache

    # ------------------------------------------------------------------ predicting
    def predict(self, users, items) -> np.ndarray:
        """Predicted ratings of ``(users[k], items[k])``, clipped to the rating range.

        A user or item not seen in fit gets the baseline μ + b_u + b_i (0 for the unseen
        part), never an error.
        """
        check_is_fitted(self)
        users, items = np.atleast_1d(np.asarray(users)), np.atleast_1d(np.asarray(items))
        if users.shape != items.shape or users.ndim != 1:
            raise ValueError(f"users and items must be 1-D and of one length; got shapes "
                             f"{users.shape} and {items.shape}. Pass one user and one item per pair.")
        u, u_known = self.users_.lookup(users)
        i, i_known = self.items_.lookup(items)
        pred = self.biases_.predict(u, i, u_known, i_known)
        both = u_known & i_known
        rows, cols, _ = self._layout(u[both], i[both])
        pred[both] = self._matrix()[rows, cols]
        return np.clip(pred, *self.rating_range_)

    def recommend(self, user, n: int = 10) -> np.ndarray:
        """The ``n`` items with the highest predicted rating that ``user`` has not rated
        in fit, best first (an unseen user gets the baseline's best items)."""
        check_is_fitted(self)
        n = check_number(n, "n", f"{type(self).__name__}.recommend", kind=int, low=1)
        scores = self.predict(np.repeat(np.asarray([user], dtype=object if isinstance(user, str)
                                                   else None), len(self.items_)), self.items_.ids)
        u, known = self.users_.lookup([user])
        seen = self._i[self._u == u[0]] if known[0] else np.array([], dtype=np.int64)
        return self.items_.ids[top_n(scores, seen, n)]

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Save into directory ``path``: ``estimator.json``, the training ratings and
        baseline as safetensors, the model as ``model/``. No pickle."""
        check_is_fitted(self)
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValueError(f"Cannot save to {str(path)!r}: it exists and is not a directory.")
        tensors = tensors_to_bytes({
            "user": torch.from_numpy(self._u), "item": torch.from_numpy(self._i),
            "rating": torch.from_numpy(self._r),
            "user_bias": torch.from_numpy(self.biases_.user),
            "item_bias": torch.from_numpy(self.biases_.item)})
        self.model_.save(path / MODEL_DIR)
        params = self.get_params(deep=False)
        params["hidden"] = list(check_widths(self.hidden, "hidden", type(self).__name__))
        fitted = {"users": self.users_.ids.tolist(), "items": self.items_.ids.tolist(),
                  "mu": self.biases_.mu, "rating_range_": list(self.rating_range_),
                  "history_": self.history_, "n_epochs_": self.n_epochs_,
                  "ratings": file_entry(FITTED_FILE, tensors)}
        doc = estimator_document(self, params, fitted)
        atomic_write_files({path / FITTED_FILE: tensors, path / ESTIMATOR_FILE: json_bytes(doc)})

    @classmethod
    def load(cls, path) -> AutoRecRecommender:
        """Rebuild a recommender saved by :meth:`save`."""
        path = Path(path)
        doc = read_saved(path, cls)
        params = dict(doc["params"])
        params["hidden"] = tuple(params["hidden"])
        if params["rating_range"] is not None:
            params["rating_range"] = tuple(params["rating_range"])
        est, fitted = cls(**params), doc["fitted"]
        t = read_listed_tensors(path, fitted["ratings"], path / ESTIMATOR_FILE)
        est.users_, est.items_ = IdMap(fitted["users"], "user"), IdMap(fitted["items"], "item")
        est._u, est._i, est._r = (t[k].numpy() for k in ("user", "item", "rating"))
        est.biases_ = Biases(float(fitted["mu"]), t["user_bias"].numpy(), t["item_bias"].numpy())
        est.rating_range_ = tuple(fitted["rating_range_"])
        est.history_ = fitted["history_"]
        est.n_epochs_ = fitted.get("n_epochs_", len(est.history_.get("train/loss", [])))  # older saves
        est.model_ = load_model(path / MODEL_DIR)
        est._cache = None
        return est

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")
