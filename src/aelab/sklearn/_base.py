"""What both aelab estimators share: input encoding, parameter checks, training options
and the safetensors + JSON save format.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from aelab.core.io import (
    atomic_write_files,
    file_entry,
    json_bytes,
    read_format_file,
    read_listed_tensors,
    tensors_to_bytes,
)
from aelab.core.validation import check_choice, check_number, check_unknown_options
from aelab.core.version import __version__
from aelab.data.streaming import as_chunked, map_chunks
from aelab.models import MODELS, get_model_class, list_models
from aelab.nn.layers import ACTIVATIONS
from aelab.sklearn.tabular import UNKNOWN_POLICIES, TabularEncoder, has_categorical_columns
from aelab.training.data import DEVICES

FORMAT = "aelab-sklearn"
# 2: every fitted array in safetensors (format 1 kept the detector's score scales and the
# encoding's statistics in JSON).
FORMAT_VERSION = 2
ESTIMATOR_FILE = "estimator.json"
ENCODING_FILE = "encoding.safetensors"
# The keywords the estimators set themselves; model_params may not repeat them.
_OWN_MODEL_KEYS = {"input_shape", "latent_dim", "hidden", "activation", "preprocess"}


class AutoencoderEstimatorMixin(BaseEstimator):
    """Shared machinery; the public estimators add ``fit`` and their own outputs."""

    # The oldest estimator format this class reads back (raise it when its saved layout changes).
    _oldest_format = 1
    # Parameters added after files were saved without them: the value that reproduces how
    # those files were fitted (when it differs from the new default).
    _params_added: dict = {}

    # ------------------------------------------------------------------ parameter checks
    def _check_common_params(self) -> dict:
        """Validate the parameters both estimators have; return the model options."""
        owner = type(self).__name__
        check_choice(self.model, MODELS, "model", owner)
        if get_model_class(self.model).trained_with_labels:
            raise ValueError(
                f"model={self.model!r} is trained with class labels (-1 where unknown), which "
                f"{owner} does not take: train it with aelab.train_semi_supervised(model, X, y), "
                f"or pick one of {list_models(trained_with_labels=False)}."
            )
        if self.model_params is not None and not isinstance(self.model_params, dict):
            raise TypeError(
                f"The 'model_params' parameter of {owner} must be a dict of the model's "
                f"options or None. Got {self.model_params!r} instead."
            )
        params = dict(self.model_params or {})
        clash = sorted(_OWN_MODEL_KEYS & set(params))
        if clash:
            raise ValueError(
                f"model_params of {owner} must not set {clash}: use the estimator's own "
                "parameters (latent_dim, hidden, activation, scaling) instead."
            )
        check_unknown_options(params, get_model_class(self.model).config_keys() - _OWN_MODEL_KEYS,
                              f"model_params of {owner} (model {self.model!r})")
        check_choice(self.activation, ACTIVATIONS, "activation", owner)
        check_choice(self.handle_unknown, UNKNOWN_POLICIES, "handle_unknown", owner)
        check_number(self.lr, "lr", owner, low=0.0, low_inclusive=False)
        check_number(self.weight_decay, "weight_decay", owner, low=0.0)
        check_number(self.validation_split, "validation_split", owner, low=0.0, high=1.0,
                     high_inclusive=False)
        check_number(self.early_stopping, "early_stopping", owner, kind=int, low=1, allow_none=True)
        if self.early_stopping is not None and self.validation_split == 0:
            raise ValueError(
                f"early_stopping={self.early_stopping} of {owner} needs validation data: set "
                "validation_split > 0 (e.g. 0.1) or early_stopping=None."
            )
        if not (isinstance(self.device, str) and self.device.split(":")[0] in DEVICES):
            raise ValueError(f"The 'device' parameter of {owner} must be one of {list(DEVICES)} "
                             f"or 'cuda:N'. Got {self.device!r} instead.")
        return params

    def _check_auto_int(self, value, param: str, low: int = 1):
        """An int >= low, or "auto" (returned as None)."""
        if isinstance(value, str) and value == "auto":
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"The {param!r} parameter of {type(self).__name__} must be an int >= "
                            f"{low} or 'auto'. Got {value!r} instead.")
        return check_number(value, param, type(self).__name__, kind=int, low=low)

    def _seeds(self, n: int) -> list[int]:
        """``n`` training seeds drawn from ``random_state``."""
        rng = check_random_state(self.random_state)
        return [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=n)]

    def _train_options(self, epochs: int, batch_size: int) -> dict:
        return {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "validation_split": self.validation_split,
            "early_stopping": self.early_stopping if self.validation_split > 0 else None,
            "device": self.device,
        }

    # ------------------------------------------------------------------ input encoding
    def _fit_encoding(self, X, scaling: str) -> np.ndarray:
        """Fit the tabular encoding on ``X`` and return the encoded training data."""
        encoder = TabularEncoder(scaling, self.handle_unknown)
        if has_categorical_columns(X):
            if len(X) < 2:
                raise ValueError(f"n_samples={len(X)} while a minimum of 2 is required by "
                                 f"{type(self).__name__}.")
            encoder.fit(X)
            self.feature_names_in_ = np.asarray(encoder.input_names, dtype=object)
            self.n_features_in_ = len(encoder.input_names)
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
            names = getattr(self, "feature_names_in_", None)
            encoder.fit(X, feature_names=None if names is None else list(names))
        self.encoder_ = encoder
        return encoder.transform(X)

    def _encode(self, X) -> np.ndarray:
        """Encode new data with the fitted encoding (columns, categories and scales enforced)."""
        check_is_fitted(self)
        if any(c["kind"] == "categorical" for c in self.encoder_.columns):
            return self.encoder_.transform(X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self.encoder_.transform(X)

    def _by_chunk(self, method, X) -> np.ndarray | None:
        """``method(chunk)`` over the chunks of ``X``, concatenated, if ``X`` is a chunked array
        or an ``np.memmap`` (data larger than memory, read a chunk at a time, the next one
        while this one is computed); None for data held in memory."""
        chunks = as_chunked(X)
        if chunks is None:
            return None
        check_is_fitted(self)
        return map_chunks(method, chunks)

    def _input_groups(self) -> np.ndarray:
        """(n_encoded, n_features_in_) 0/1 matrix summing encoded columns into input columns."""
        groups = self.encoder_.groups
        return (groups[:, None] == np.arange(self.n_features_in_)[None, :]).astype(np.float64)

    # ------------------------------------------------------------------ persistence
    def _fitted_config(self) -> dict:
        """Fitted state beyond the models (JSON-ready); subclasses extend it."""
        names = getattr(self, "feature_names_in_", None)
        return {"encoder": self.encoder_.to_config(), "n_features_in_": int(self.n_features_in_),
                "feature_names_in_": None if names is None else [str(n) for n in names]}

    def _restore_fitted(self, cfg: dict, path: Path) -> None:
        statistics = None
        if "encoding" in cfg:  # estimator format 2; format 1 kept the statistics in the JSON
            tensors = read_listed_tensors(path, cfg["encoding"], path / ESTIMATOR_FILE)
            statistics = {k: v.numpy() for k, v in tensors.items()}
        self.encoder_ = TabularEncoder.from_config(cfg["encoder"], statistics)
        self.n_features_in_ = int(cfg["n_features_in_"])
        if cfg["feature_names_in_"] is not None:
            self.feature_names_in_ = np.asarray(cfg["feature_names_in_"], dtype=object)

    def _save_models(self, path: Path) -> dict:
        """Save the fitted models under ``path``; return what the JSON must record of them."""
        raise NotImplementedError

    def save(self, path) -> None:
        """Save the fitted estimator into directory ``path``: JSON and safetensors, no pickle.

        ``path/estimator.json`` holds the parameters and the fitted encoding's structure,
        ``path/encoding.safetensors`` its numeric statistics; each autoencoder is a
        ``config.json`` + ``model.safetensors`` directory beside them.
        Load with :meth:`load` or :func:`aelab.sklearn.load`.
        """
        check_is_fitted(self)
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValueError(f"Cannot save to {str(path)!r}: it exists and is not a directory.")
        random_state = self.random_state
        params = self.get_params(deep=False)
        if not (random_state is None or isinstance(random_state, numbers.Integral)):
            params["random_state"] = None  # a RandomState object is not data; the fit is saved
        statistics = tensors_to_bytes({k: torch.from_numpy(v)
                                       for k, v in self.encoder_.statistics().items()})
        fitted = {**self._fitted_config(), **self._save_models(path),
                  "encoding": file_entry(ENCODING_FILE, statistics)}
        doc = estimator_document(self, _jsonable(params), fitted)
        atomic_write_files({path / ENCODING_FILE: statistics,
                            path / ESTIMATOR_FILE: json_bytes(doc)})

    @classmethod
    def load(cls, path):
        """Rebuild an estimator saved by :meth:`save` (any aelab estimator class)."""
        doc = read_saved(path, cls)
        if doc.get("format_version", 0) < cls._oldest_format:
            raise ValueError(
                f"{str(path)!r} holds a {cls.__name__} saved in estimator format "
                f"{doc.get('format_version')} by aelab {doc.get('aelab_version')}; this aelab reads "
                f"format {cls._oldest_format} or newer. Fit it again and save it."
            )
        params = {**cls._params_added, **doc["params"]}
        if isinstance(params.get("hidden"), list):
            params["hidden"] = tuple(params["hidden"])
        est = cls(**params)
        est._restore_fitted(doc["fitted"], Path(path))
        return est


def estimator_document(estimator, params: dict, fitted: dict) -> dict:
    """The ``estimator.json`` document of a fitted estimator: format, version, class,
    constructor parameters and fitted state (JSON-ready)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "aelab_version": __version__,
            "estimator": type(estimator).__name__, "params": params, "fitted": fitted}


def read_saved(path, cls) -> dict:
    """``estimator.json`` of a directory that must hold a saved ``cls``."""
    doc = read_estimator_file(path)
    if doc["estimator"] != cls.__name__:
        raise ValueError(f"{str(path)!r} holds a saved {doc['estimator']}, not a {cls.__name__}; "
                         "load it with aelab.sklearn.load(path).")
    return doc


def read_estimator_file(path) -> dict:
    """Read and check ``estimator.json`` in a directory written by ``save``."""
    return read_format_file(Path(path) / ESTIMATOR_FILE, FORMAT, FORMAT_VERSION, "aelab estimator",
                            "Pass the directory given to estimator.save() or `aelab detect fit --out`.")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
