"""Tables to model inputs: numeric columns scaled, categorical columns one-hot encoded.

The fitted encoding is plain data: its structure (:meth:`TabularEncoder.to_config`: names,
kinds, categories) is saved as JSON beside the model, its numeric statistics
(:meth:`TabularEncoder.statistics`) as safetensors. It is enforced on new data: a missing
or extra column, a NaN or an unseen category raises a ValueError that names the column and
the fix.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from aelab.core.optional import require
from aelab.core.scaling import SCALINGS, fit_scaling
from aelab.core.validation import check_choice

UNKNOWN_POLICIES = ("error", "ignore")


def is_frame(X) -> bool:
    """Whether ``X`` is a pandas DataFrame (checked without importing pandas)."""
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def has_categorical_columns(X) -> bool:
    """Whether ``X`` is a DataFrame with at least one non-numeric column."""
    return is_frame(X) and any(dt.kind not in "biuf" for dt in X.dtypes)


def _center_scale(x: np.ndarray, scaling: str) -> tuple[float, float]:
    """Centre and scale of one numeric column (see :mod:`aelab.core.scaling`)."""
    shift, scale = fit_scaling(scaling, [torch.tensor(x[:, None], dtype=torch.float64)])
    return float(shift[0]), float(scale[0])


class TabularEncoder:
    """One-hot categorical columns and scaled numeric columns, fitted on training data.

    Parameters
    ----------
    scaling : {"standard", "robust", "minmax", "none"}, default="standard"
        Numeric columns become ``(x - center) / scale``: mean and standard deviation,
        median and interquartile range / 1.349 (in standard deviations for normal data,
        insensitive to outliers), minimum and range, or unchanged — the scalings of
        :mod:`aelab.core.scaling`, which the models' ``preprocess`` uses too. A constant
        column gets scale 1 (it is 0 on the training data).
    handle_unknown : {"error", "ignore"}, default="error"
        A category not seen in fit: raise, or encode it as all zeros in its column's
        one-hot block.

    Notes
    -----
    Categorical columns are the non-numeric columns of a DataFrame (object, string,
    category); their values are compared as strings, sorted in the encoding. Boolean
    columns are numeric 0/1. Missing values (NaN, None) always raise: impute them first.
    Columns of a DataFrame are matched by name, in any order.

    Examples
    --------
    >>> import pandas as pd
    >>> from aelab.sklearn.tabular import TabularEncoder
    >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0], "color": ["red", "blue", "red"]})
    >>> enc = TabularEncoder().fit(frame)
    >>> enc.output_names
    ['size', 'color=blue', 'color=red']
    >>> enc.transform(frame)[:, 1:].tolist()
    [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """

    def __init__(self, scaling: str = "standard", handle_unknown: str = "error"):
        self.scaling = check_choice(scaling, SCALINGS, "scaling", "TabularEncoder")
        self.handle_unknown = check_choice(handle_unknown, UNKNOWN_POLICIES, "handle_unknown",
                                           "TabularEncoder")
        self.columns: list[dict] = []

    # ------------------------------------------------------------------ fitting
    def fit(self, X, feature_names=None) -> TabularEncoder:
        """Learn each column's kind, scale or categories from ``X`` (array or DataFrame).

        ``feature_names`` names the columns of an array (default ``x0, x1, ...``).
        """
        if is_frame(X):
            self.columns = [self._fit_column(str(name), X[name]) for name in X.columns]
            return self
        X = np.asarray(X, dtype=np.float64)
        names = feature_names if feature_names is not None else [f"x{j}" for j in range(X.shape[1])]
        self.columns = [self._fit_numeric(str(name), X[:, j]) for j, name in enumerate(names)]
        return self

    def _fit_column(self, name: str, series) -> dict:
        if series.dtype.kind in "biuf":
            return self._fit_numeric(name, series.to_numpy(dtype=np.float64))
        values = _category_strings(series, name)
        return {"name": name, "kind": "categorical", "categories": sorted(set(values.tolist()))}

    def _fit_numeric(self, name: str, x: np.ndarray) -> dict:
        _check_finite(x, name)
        with np.errstate(over="ignore", invalid="ignore"):
            center, scale = _center_scale(x, self.scaling)
        if not (np.isfinite(center) and np.isfinite(scale)):
            raise ValueError(
                f"Column {name!r} is too large to scale (values up to {np.abs(x).max():.3g}: its "
                f"{self.scaling!r} statistics overflow). Rescale it first (e.g. take a logarithm)."
            )
        return {"name": name, "kind": "numeric", "center": center, "scale": scale}

    # ------------------------------------------------------------------ fitted facts
    @property
    def input_names(self) -> list[str]:
        """The fitted columns, in order."""
        return [c["name"] for c in self.columns]

    @property
    def output_names(self) -> list[str]:
        """One name per encoded column: ``name`` for numerics, ``name=category`` for one-hot."""
        names = []
        for c in self.columns:
            if c["kind"] == "numeric":
                names.append(c["name"])
            else:
                names += [f"{c['name']}={cat}" for cat in c["categories"]]
        return names

    @property
    def groups(self) -> np.ndarray:
        """For each encoded column, the index of the input column it comes from, ``(n_out,)``."""
        sizes = [1 if c["kind"] == "numeric" else len(c["categories"]) for c in self.columns]
        return np.repeat(np.arange(len(self.columns)), sizes)

    @property
    def n_outputs(self) -> int:
        return len(self.groups)

    # ------------------------------------------------------------------ encoding
    def transform(self, X) -> np.ndarray:
        """Encode ``X`` as float32 ``(n, n_outputs)``, enforcing the fitted encoding."""
        blocks = []
        if is_frame(X):
            X = self._aligned(X)
            for c in self.columns:
                blocks.append(self._encode_column(c, X[c["name"]]))
        else:
            if any(c["kind"] == "categorical" for c in self.columns):
                raise TypeError(
                    f"This encoder was fitted on a DataFrame with categorical columns; pass a "
                    f"DataFrame with the columns {self.input_names}, not a "
                    f"{type(X).__name__}."
                )
            X = np.asarray(X, dtype=np.float64)
            for j, c in enumerate(self.columns):
                blocks.append(self._encode_numeric(c, X[:, j]))
        out = np.concatenate(blocks, axis=1)
        with np.errstate(over="ignore"):
            encoded = out.astype(np.float32)
        if not np.isfinite(encoded).all():
            bad = sorted({self.output_names[j] for j in np.flatnonzero(~np.isfinite(encoded).all(0))})
            raise ValueError(
                f"Column(s) {bad[:10]} reach {np.abs(out[np.isfinite(out)]).max():.3g} after "
                f"scaling ({self.scaling!r}), beyond the float32 range aelab computes in. Rescale "
                "them (e.g. take a logarithm), or use scaling='robust' or 'standard'."
            )
        return encoded

    def _aligned(self, frame):
        names = [str(c) for c in frame.columns]
        missing = [n for n in self.input_names if n not in names]
        extra = [n for n in names if n not in self.input_names]
        if missing or extra:
            raise ValueError(
                f"The columns of X do not match those seen in fit: missing {missing}, "
                f"unexpected {extra}. Pass a DataFrame with the columns {self.input_names}."
            )
        return frame.set_axis(names, axis=1)  # columns found by name, in any order

    def _encode_column(self, c: dict, series) -> np.ndarray:
        if c["kind"] == "numeric":
            if series.dtype.kind not in "biuf":
                raise TypeError(
                    f"Column {c['name']!r} was numeric in fit but has dtype {series.dtype} now; "
                    "convert it to numbers (e.g. pd.to_numeric)."
                )
            return self._encode_numeric(c, series.to_numpy(dtype=np.float64))
        values = _category_strings(series, c["name"])
        cats = np.asarray(c["categories"], dtype=object)
        onehot = (values[:, None] == cats[None, :]).astype(np.float32)
        unknown = onehot.sum(1) == 0
        if unknown.any() and self.handle_unknown == "error":
            seen = sorted(set(values[unknown].tolist()))
            raise ValueError(
                f"Column {c['name']!r} has categories not seen in fit: {seen[:10]} (known: "
                f"{c['categories'][:20]}). Map them to known categories, refit on data that "
                "includes them, or set handle_unknown='ignore' (encodes them as all zeros)."
            )
        return onehot

    @staticmethod
    def _encode_numeric(c: dict, x: np.ndarray) -> np.ndarray:
        _check_finite(x, c["name"])
        return ((x - c["center"]) / c["scale"])[:, None]

    def inverse_transform(self, Z: np.ndarray):
        """Back to the input columns: numerics unscaled, each one-hot block to its likeliest category.

        Returns a float array for an all-numeric encoding, else a DataFrame (object
        columns for categories).
        """
        Z = np.asarray(Z, dtype=np.float64)
        groups = self.groups
        columns = {}
        for j, c in enumerate(self.columns):
            block = Z[:, groups == j]
            if c["kind"] == "numeric":
                columns[c["name"]] = block[:, 0] * c["scale"] + c["center"]
            else:
                columns[c["name"]] = np.asarray(c["categories"], dtype=object)[block.argmax(1)]
        if all(c["kind"] == "numeric" for c in self.columns):
            return np.column_stack(list(columns.values()))
        pd = require("pandas", "tables", "A table with categorical columns")
        return pd.DataFrame(columns)

    # ------------------------------------------------------------------ persistence
    def to_config(self) -> dict:
        """The fitted encoding's structure as JSON-ready data: names, kinds, categories
        (the numeric statistics are :meth:`statistics`, saved as tensors)."""
        columns = [{k: v for k, v in c.items() if k not in ("center", "scale")}
                   for c in self.columns]
        return {"scaling": self.scaling, "handle_unknown": self.handle_unknown, "columns": columns}

    def statistics(self) -> dict[str, np.ndarray]:
        """The numeric columns' fitted centres and scales, float64, in column order."""
        numeric = [c for c in self.columns if c["kind"] == "numeric"]
        return {key: np.array([c[key] for c in numeric], dtype=np.float64)
                for key in ("center", "scale")}

    @classmethod
    def from_config(cls, cfg: dict, statistics: dict[str, np.ndarray] | None = None) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`to_config` and :meth:`statistics` (an
        encoding saved by aelab 0.1's estimator format 1 holds them in ``cfg`` itself)."""
        enc = cls(cfg["scaling"], cfg["handle_unknown"])
        enc.columns = [dict(c) for c in cfg["columns"]]
        for c in enc.columns:
            if c["kind"] not in ("numeric", "categorical"):
                raise ValueError(f"Unknown column kind {c['kind']!r} in a saved encoding.")
        numeric = [c for c in enc.columns if c["kind"] == "numeric"]
        if statistics is not None:
            if any(len(statistics[k]) != len(numeric) for k in ("center", "scale")):
                raise ValueError(f"The saved encoding has {len(numeric)} numeric columns but "
                                 f"statistics for {len(statistics['center'])}; it is damaged.")
            for c, center, scale in zip(numeric, statistics["center"], statistics["scale"]):
                c["center"], c["scale"] = float(center), float(scale)
        elif any("center" not in c or "scale" not in c for c in numeric):
            raise ValueError("The saved encoding lacks its numeric statistics; it is damaged.")
        return enc


def _check_finite(x: np.ndarray, name: str) -> None:
    if not np.isfinite(x).all():
        raise ValueError(
            f"Column {name!r} contains NaN or infinity. Impute or drop those values (NaN: e.g. "
            "AutoencoderImputer or sklearn.impute.SimpleImputer) before fitting or scoring."
        )


def _category_strings(series, name: str) -> np.ndarray:
    """A categorical column's values as an object array of strings; missing values raise."""
    if bool(series.isna().any()):
        raise ValueError(
            f"Column {name!r} contains missing values (NaN/None). Fill them with a category "
            f"of their own (e.g. df[{name!r}].fillna('missing')) or drop those rows."
        )
    values = series.to_numpy(dtype=object)
    return np.asarray([v if isinstance(v, str) else _as_text(v) for v in values], dtype=object)


def _as_text(v) -> str:
    if isinstance(v, numbers.Integral) or (isinstance(v, float) and float(v).is_integer()):
        return str(int(v))
    return str(v)
