"""Rating prediction with AutoRec (Sedhain et al., WWW 2015): a ratings table becomes a
partially observed matrix, one row per item (I-AutoRec) or per user (U-AutoRec); the
model reconstructs each row from its observed entries.

What surrounds the model lives here: checking a ratings table, the id maps, the bias
baseline r̂ = μ + b_u + b_i (Koren, *Factor in the Neighbors*, TKDD 2010, §2.1) that
users and items unseen in training fall back to, clipping to the rating range, and the
top-n unseen items of a user.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from aelab.models.autorec import AutoRec
from aelab.training import TrainResult, train

KINDS = ("item", "user")  # I-AutoRec: a row per item (over users); U-AutoRec: a row per user
COLUMNS = ("user", "item", "rating")


# --------------------------------------------------------------------------- tables and ids
def check_ratings(table, rating_range=None, owner: str = "AutoRec") -> tuple[np.ndarray, ...]:
    """Validate a ratings table; return ``(users, items, ratings)`` as arrays.

    ``table`` is a DataFrame with columns ``user``, ``item``, ``rating`` (others are
    ignored) or a mapping of those names to sequences. Ratings must be finite and, if
    ``rating_range`` is given, inside it.
    """
    if not hasattr(table, "__getitem__") or isinstance(table, (str, bytes, np.ndarray)):
        raise TypeError(f"{owner} needs a ratings table: a DataFrame (or dict) with columns "
                        f"{list(COLUMNS)}; got {type(table).__name__}.")
    names = [str(c) for c in table.keys()] if hasattr(table, "keys") else []
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ValueError(f"The ratings table given to {owner} lacks the column(s) {missing}; it has "
                         f"{names}. Rename its columns to {list(COLUMNS)}, e.g. "
                         "df.rename(columns={'userId': 'user', 'movieId': 'item'}).")
    users, items = (np.asarray(table[c]) for c in COLUMNS[:2])
    ratings = np.asarray(table["rating"])
    if len(ratings) == 0:
        raise ValueError(f"The ratings table given to {owner} is empty: it needs at least one "
                         "(user, item, rating) row.")
    if ratings.dtype.kind not in "biuf":
        raise TypeError(f"The 'rating' column must hold numbers; got dtype {ratings.dtype}. "
                        "Convert it, e.g. df['rating'] = pd.to_numeric(df['rating']).")
    ratings = ratings.astype(np.float64)
    if not np.isfinite(ratings).all():
        raise ValueError(f"The 'rating' column holds {int((~np.isfinite(ratings)).sum())} NaN or "
                         "infinite values; drop those rows before fitting.")
    for name, ids in (("user", users), ("item", items)):
        _id_kind(ids, name)  # one kind of id per column
    if rating_range is not None:
        lo, hi = rating_range
        bad = (ratings < lo) | (ratings > hi)
        if bad.any():
            raise ValueError(
                f"{int(bad.sum())} rating(s) lie outside rating_range=({lo}, {hi}), e.g. "
                f"{ratings[bad][0]:g}. Fix those rows, or widen rating_range (None: the range "
                "of the training ratings).")
    return users, items, ratings


def _id_kind(ids: np.ndarray, what: str) -> str:
    """'int' or 'str': the kind of a column of ids (mixed or other kinds raise)."""
    if ids.dtype.kind in "iu":
        return "int"
    if ids.dtype.kind in "US":
        return "str"
    if ids.dtype.kind == "O" and len(ids):
        kinds = {"int" if isinstance(v, numbers.Integral) and not isinstance(v, bool) else
                 "str" if isinstance(v, str) else type(v).__name__ for v in ids}
        if len(kinds) == 1 and kinds <= {"int", "str"}:
            return kinds.pop()
        raise TypeError(f"The {what} ids must all be integers or all strings; found {sorted(kinds)}. "
                        f"Convert them, e.g. df[{what!r}] = df[{what!r}].astype(str).")
    raise TypeError(f"The {what} ids must be integers or strings; got dtype {ids.dtype}. "
                    f"Convert them, e.g. df[{what!r}] = df[{what!r}].astype(int).")


class IdMap:
    """The ids seen in training and their row/column indices (sorted ids, index = position)."""

    def __init__(self, ids, what: str):
        ids = np.asarray(ids)
        self.kind = _id_kind(ids, what)
        self.what = what
        self.ids = np.unique(ids.astype(object if self.kind == "str" else np.int64))
        self._index = {v: i for i, v in enumerate(self.ids.tolist())}

    def __len__(self) -> int:
        return len(self.ids)

    def lookup(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """``(index, known)``: the index of each id (0 where unknown) and whether it was seen."""
        ids = np.atleast_1d(np.asarray(ids, dtype=object if self.kind == "str" else None))
        if len(ids) and _id_kind(ids, self.what) != self.kind:
            example = ids[0].item() if isinstance(ids[0], np.generic) else ids[0]
            raise TypeError(
                f"The {self.what} ids were {'integers' if self.kind == 'int' else 'strings'} in fit; "
                f"got {type(example).__name__} {example!r}. Pass {self.what} ids of the same type "
                f"(e.g. {'int(x)' if self.kind == 'int' else 'str(x)'}).")
        index = np.array([self._index.get(v, -1) for v in ids.tolist()], dtype=np.int64)
        known = index >= 0
        return np.where(known, index, 0), known


# --------------------------------------------------------------------------- the bias baseline
@dataclass
class Biases:
    """r̂ = μ + b_u + b_i; an unseen user or item contributes 0."""

    mu: float
    user: np.ndarray  # (n_users,)
    item: np.ndarray  # (n_items,)

    def predict(self, u, i, u_known, i_known) -> np.ndarray:
        return self.mu + np.where(u_known, self.user[u], 0.0) + np.where(i_known, self.item[i], 0.0)


def fit_biases(u: np.ndarray, i: np.ndarray, r: np.ndarray, n_users: int, n_items: int,
               reg_user: float = 15.0, reg_item: float = 10.0, n_iter: int = 10) -> Biases:
    """Regularised least squares for μ + b_u + b_i by alternating exact updates.

    Koren (2010) §2.1; the defaults are scikit-surprise's ``BaselineOnly`` ALS (reg_u 15,
    reg_i 10, 10 sweeps): b_i = Σ(r − μ − b_u) / (reg_i + n_i), then b_u likewise.
    """
    mu = float(r.mean())
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    n_u = np.bincount(u, minlength=n_users)
    n_i = np.bincount(i, minlength=n_items)
    for _ in range(n_iter):
        bi = np.bincount(i, r - mu - bu[u], minlength=n_items) / (reg_item + n_i)
        bu = np.bincount(u, r - mu - bi[i], minlength=n_users) / (reg_user + n_u)
    return Biases(mu, bu, bi)


# --------------------------------------------------------------------------- AutoRec
def rating_matrix(rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
                  shape: tuple[int, int]) -> np.ndarray:
    """A float32 matrix holding ``values`` at ``(rows, cols)`` and NaN elsewhere."""
    m = np.full(shape, np.nan, dtype=np.float32)
    m[rows, cols] = values
    return m


def fit_autorec(model: AutoRec, rows: np.ndarray, cols: np.ndarray, ratings: np.ndarray,
                shape: tuple[int, int], validation_split: float, seed: int,
                **train_options) -> TrainResult:
    """Train ``model`` on the rows of the rating matrix.

    With ``validation_split`` > 0, that fraction of the ratings (seeded) is held out of
    the input matrix and becomes the validation target of the same rows: the trainer's
    validation loss is then the squared error on unseen ratings, which early stopping
    watches. Returns the trainer's result.
    """
    n = len(ratings)
    held = np.zeros(n, dtype=bool)
    if validation_split > 0:
        perm = np.random.default_rng(seed).permutation(n)
        held[perm[: max(1, int(round(validation_split * n)))]] = True
    x = torch.from_numpy(rating_matrix(rows[~held], cols[~held], ratings[~held], shape))
    batch_size = train_options.pop("batch_size", 128)
    # DataLoaders, because the validation targets hold NaN (unobserved), which the trainer's
    # label checks of array data refuse; the training loader shuffles with the seeded RNG.
    data = DataLoader(TensorDataset(x), batch_size=batch_size, shuffle=True)
    validation = None
    if held.any():
        y = torch.from_numpy(rating_matrix(rows[held], cols[held], ratings[held], shape))
        validation = DataLoader(TensorDataset(x, y), batch_size=4 * batch_size)
    return train(model, data, validation_data=validation, seed=seed, **train_options)


def reconstruct_matrix(model: AutoRec, rows, cols, ratings, shape) -> np.ndarray:
    """The model's r̂ for every cell, from the observed matrix, shape ``shape``."""
    return model.reconstruct(rating_matrix(rows, cols, ratings, shape))


def top_n(scores: np.ndarray, exclude: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest ``scores`` not in ``exclude`` (best first, ties by index)."""
    s = np.asarray(scores, dtype=np.float64).copy()
    s[exclude] = -np.inf
    n = min(n, int(np.isfinite(s).sum()))
    order = np.lexsort((np.arange(len(s)), -s))
    return order[:n]
