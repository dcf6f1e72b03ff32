"""Fill missing values with a denoising autoencoder trained on the observed entries only.

MIDA (Gondara & Wang, PAKDD 2018): a denoising autoencoder whose corruption hides observed
entries, so that it learns to infer an entry from the others. Here, as in masked-autoencoder
imputers (ReMasker, Du et al., ICLR 2024), the encoder reads the mask of the entries it sees
beside their values and the loss scores only the hidden entries (the masked loss of AutoRec,
Sedhain et al. 2015, never an initial mean imputation); a few independently seeded networks
are averaged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data
from torch.utils.data import DataLoader, TensorDataset

from aelab.core.scaling import SCALINGS
from aelab.core.validation import check_bool, check_choice, check_number, check_widths
from aelab.models import create
from aelab.models.persistence import load_model
from aelab.nn.layers import ACTIVATIONS
from aelab.sklearn._base import AutoencoderEstimatorMixin
from aelab.sklearn.tabular import UNKNOWN_POLICIES, TabularEncoder, has_categorical_columns, is_frame
from aelab.training import train

MODEL_DIR = "model"  # member k > 0: model_<k>


class AutoencoderImputer(TransformerMixin, AutoencoderEstimatorMixin):
    """Impute missing values (NaN) with a masked denoising autoencoder.

    Each member autoencoder (registered model ``"autorec"`` with ``read_mask=True``) reads a
    row with its missing entries at 0 (the column mean after standard scaling) and, beside
    it, the 0/1 mask of the entries it sees. While training, each observed entry is hidden
    with probability ``mask_noise`` and the loss is the squared error on the hidden entries
    alone: the network learns to infer an entry from the others, which is what imputing
    asks. ``transform`` keeps every observed value and fills the rest with the members'
    mean prediction.

    Parameters
    ----------
    latent_dim : int, default=128
        Width of the code.
    hidden : tuple of int, default=(128,)
        Hidden widths of the encoder (the decoder mirrors them).
    activation : str, default="relu"
        Nonlinearity of the hidden layers and of the code.
    mask_noise : float in (0, 1), default=0.25
        Probability that an observed entry is hidden from the encoder in a training step.
    weight_penalty : float, default=0.0
        λ of (λ/2)·Σ‖W‖².
    n_members : int, default=3
        Networks trained from different seeds (each with its own validation entries);
        their imputations are averaged.
    n_rounds : int, default=1
        Imputation passes: after the first, the imputed values are fed back as inputs
        (then read as seen) and imputed again; observed values stay fixed.
    epochs : int, default=500
    batch_size : int, default=64
    lr : float, default=1e-3
    weight_decay : float, default=0.0
        Adam's weight decay, on every parameter.
    validation_split : float, default=0.1
        Fraction of the observed entries held out of training (drawn anew for each
        member); the error of imputing them is the early-stopping loss.
    early_stopping : int or None, default=30
    scaling : {"standard", "robust", "minmax", "none"}, default="standard"
        Scaling of numeric columns (fitted on the observed values).
    add_indicator : bool, default=False
        Append a 0/1 column per feature that had missing values in ``fit``, as
        scikit-learn's imputers do.
    handle_unknown : {"error", "ignore"}, default="error"
        An unseen category of a DataFrame column.
    random_state : int, RandomState instance or None, default=None
    device : str, default="cpu"

    Attributes
    ----------
    models_ : list of AutoRec
        The members.
    history_ : list of dict
        Each member's training history (per-epoch losses, as :func:`aelab.train` returns).
    encoder_ : TabularEncoder
    fill_values_ : list
        Per input column, what stands in for a missing value while encoding (the mean,
        or the most frequent category); the model's output replaces it.
    indicator_features_ : ndarray of int
        The columns that had missing values in ``fit``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from aelab.sklearn import AutoencoderImputer
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> X[::7, 1] = np.nan
    >>> filled = AutoencoderImputer(epochs=5, random_state=0).fit_transform(X)
    >>> bool(np.isfinite(filled).all()), bool((filled[1] == X[1]).all())
    (True, True)
    """

    _params_added = {"n_members": 1}  # files saved before it hold one network

    def __init__(self, latent_dim: int = 128, hidden=(128,), activation: str = "relu",
                 mask_noise: float = 0.25, weight_penalty: float = 0.0, n_members: int = 3,
                 n_rounds: int = 1, epochs: int = 500, batch_size: int = 64, lr: float = 1e-3,
                 weight_decay: float = 0.0, validation_split: float = 0.1,
                 early_stopping: int | None = 30, scaling: str = "standard",
                 add_indicator: bool = False, handle_unknown: str = "error",
                 random_state=None, device: str = "cpu"):
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.activation = activation
        self.mask_noise = mask_noise
        self.weight_penalty = weight_penalty
        self.n_members = n_members
        self.n_rounds = n_rounds
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.scaling = scaling
        self.add_indicator = add_indicator
        self.handle_unknown = handle_unknown
        self.random_state = random_state
        self.device = device

    # ------------------------------------------------------------------ encoding with gaps
    def _missing_and_filled(self, X, fit: bool):
        """``(X, missing, filled)``: the validated input, its (n, n_features_in_) NaN mask and
        a copy whose gaps hold the fill values (ready for the tabular encoding)."""
        if has_categorical_columns(X) or (not fit and getattr(self, "_frame_fit", False)):
            if fit:
                self._frame_fit = True
            elif not is_frame(X):
                raise TypeError(f"This {type(self).__name__} was fitted on a DataFrame with string "
                                "columns; pass a DataFrame with the same columns, not "
                                f"{type(X).__name__}.")
            else:  # the fitted column order, by name (a missing or extra column raises)
                X = self.encoder_._aligned(X)[self.encoder_.input_names]
            missing = X.isna().to_numpy()
            if fit:
                self.fill_values_ = [
                    (X[c].mean() if X[c].dtype.kind in "biuf" else X[c].mode(dropna=True).iloc[0])
                    if not missing[:, j].all() else None for j, c in enumerate(X.columns)]
            filled = X.copy()
            names = list(getattr(self, "feature_names_in_", X.columns))
            for name, value in zip(names, self.fill_values_):
                if name in filled.columns and value is not None:
                    filled[name] = filled[name].fillna(value)
        else:
            if fit:
                self._frame_fit = False
            X = validate_data(self, X, dtype=[np.float64, np.float32],
                              ensure_all_finite="allow-nan", ensure_min_samples=2 if fit else 1,
                              reset=fit)
            missing = np.isnan(X)
            if fit:
                self.fill_values_ = [float(m) for m in _column_means(X, missing)]
            filled = np.where(missing, np.asarray(self.fill_values_, dtype=X.dtype), X)
        if fit:
            empty = np.flatnonzero(missing.all(0))
            if len(empty):
                names = list(X.columns) if is_frame(X) else [f"x{j}" for j in range(X.shape[1])]
                raise ValueError(
                    f"Column(s) {[str(names[j]) for j in empty][:10]} have no observed value in fit, "
                    f"so {type(self).__name__} cannot learn them. Drop those columns (or fit on "
                    "rows where they are observed).")
        return X, missing, filled

    def _encoded(self, missing: np.ndarray, filled) -> tuple[np.ndarray, np.ndarray]:
        """The encoded table with NaN at every encoded column of a missing input, and that mask."""
        Z = self.encoder_.transform(filled)
        gaps = missing[:, self.encoder_.groups]
        return np.where(gaps, np.float32(np.nan), Z), gaps

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Train the autoencoder on the observed entries of ``X`` (``y`` is ignored).

        Returns
        -------
        self
        """
        owner = type(self).__name__
        check_choice(self.activation, ACTIVATIONS, "activation", owner)
        check_choice(self.scaling, SCALINGS, "scaling", owner)
        check_choice(self.handle_unknown, UNKNOWN_POLICIES, "handle_unknown", owner)
        check_bool(self.add_indicator, "add_indicator", owner)
        check_number(self.n_rounds, "n_rounds", owner, kind=int, low=1)
        n_members = check_number(self.n_members, "n_members", owner, kind=int, low=1)
        mask_noise = check_number(self.mask_noise, "mask_noise", owner, low=0.0, high=1.0,
                                  low_inclusive=False, high_inclusive=False)
        validation_split = check_number(self.validation_split, "validation_split", owner,
                                        low=0.0, high=1.0, high_inclusive=False)
        batch_size = check_number(self.batch_size, "batch_size", owner, kind=int, low=1)
        X, missing, filled = self._missing_and_filled(X, fit=True)
        if self._frame_fit:
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            self.n_features_in_ = len(self.feature_names_in_)
        names = getattr(self, "feature_names_in_", None)
        self.encoder_ = TabularEncoder(self.scaling, self.handle_unknown).fit(
            filled, feature_names=None if names is None else list(names))
        Z = torch.from_numpy(self._encoded(missing, filled)[0])
        settings = {
            "input_shape": Z.shape[1],
            "latent_dim": check_number(self.latent_dim, "latent_dim", owner, kind=int, low=1),
            "hidden": check_widths(self.hidden, "hidden", owner), "activation": self.activation,
            "code_activation": self.activation, "weight_penalty": self.weight_penalty,
            "mask_noise": mask_noise, "visible_weight": 0.0, "read_mask": True}
        options = {k: v for k, v in self._train_options(self.epochs, batch_size).items()
                   if k not in ("validation_split", "batch_size")}
        self.models_, self.history_ = [], []
        for seed in self._seeds(n_members):
            model = create("autorec", seed=seed, **settings)
            data, validation = _loaders(Z, validation_split, batch_size, seed)
            options["early_stopping"] = self.early_stopping if validation is not None else None
            result = train(model, data, validation_data=validation, seed=seed, **options)
            self.models_.append(model)
            self.history_.append(result.history)
        self.indicator_features_ = np.flatnonzero(missing.any(0))
        return self

    # ------------------------------------------------------------------ imputing
    def transform(self, X):
        """``X`` with every NaN filled; observed values are returned unchanged.

        Returns a float64 array, or for a model fitted on a DataFrame with categorical
        columns a DataFrame; with ``add_indicator`` the indicator columns follow.
        """
        check_is_fitted(self)
        X, missing, filled = self._missing_and_filled(X, fit=False)
        Z, gaps = self._encoded(missing, filled)
        z_obs = np.nan_to_num(Z)
        z_in = Z
        for _ in range(self.n_rounds):
            z_hat = np.mean([model.reconstruct(z_in) for model in self.models_], axis=0)
            z_in = np.where(gaps, z_hat, z_obs)
        imputed = self.encoder_.inverse_transform(z_in)
        indicator = missing[:, self.indicator_features_].astype(np.float64)
        if is_frame(imputed):
            out = filled.copy()
            for j, name in enumerate(self.encoder_.input_names):
                rows = missing[:, j]
                if rows.any():
                    out.loc[rows, name] = imputed[name].to_numpy()[rows]
            if self.add_indicator:
                for j in self.indicator_features_:
                    out[f"missingindicator_{self.encoder_.input_names[j]}"] = indicator[:, list(
                        self.indicator_features_).index(j)]
            return out
        out = np.where(missing, imputed, np.asarray(X, dtype=np.float64))
        return np.hstack([out, indicator]) if self.add_indicator else out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Input column names, then ``missingindicator_<name>`` with ``add_indicator``."""
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{j}" for j in range(self.n_features_in_)]
        names = [str(n) for n in names]
        extra = ([f"missingindicator_{names[j]}" for j in self.indicator_features_]
                 if self.add_indicator else [])
        return np.asarray(names + extra, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # ------------------------------------------------------------------ persistence
    def _fitted_config(self) -> dict:
        cfg = super()._fitted_config()
        cfg.update({"history_": self.history_, "fill_values_": self.fill_values_,
                    "indicator_features_": self.indicator_features_.tolist(),
                    "frame_fit": self._frame_fit})
        return cfg

    def _restore_fitted(self, cfg: dict, path: Path) -> None:
        super()._restore_fitted(cfg, path)
        self.models_ = [load_model(path / name) for name in cfg.get("models", [MODEL_DIR])]
        self.history_ = cfg["history_"]
        if "models" not in cfg:  # saved by a version with one network and one history
            self.history_ = [self.history_]
        self.fill_values_ = cfg["fill_values_"]
        self.indicator_features_ = np.asarray(cfg["indicator_features_"], dtype=np.int64)
        self._frame_fit = cfg["frame_fit"]

    def _save_models(self, path: Path) -> dict:
        names = [MODEL_DIR if k == 0 else f"{MODEL_DIR}_{k}" for k in range(len(self.models_))]
        for name, model in zip(names, self.models_):
            model.save(path / name)
        return {"models": names}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "models_")


def _column_means(X: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Mean of each column's observed values (0 for a column with none)."""
    counts = (~missing).sum(0)
    return np.where(missing, 0.0, X).sum(0) / np.maximum(counts, 1)


def _loaders(Z: torch.Tensor, validation_split: float, batch_size: int, seed: int):
    """Every row, with a ``validation_split`` share of its observed entries held out (NaN),
    and the rows holding such entries with those entries as their validation targets
    (DataLoaders; the targets hold NaN where not scored). Entries, not rows, are held out,
    so that a small table still trains on all its rows."""
    gen = torch.Generator().manual_seed(seed)
    held = (torch.rand(Z.shape, generator=gen) < validation_split) & ~torch.isnan(Z)
    x_in = Z.masked_fill(held, float("nan"))
    data = DataLoader(TensorDataset(x_in), batch_size=batch_size, shuffle=True)
    rows = held.any(1)
    if not rows.any():
        return data, None
    target = Z.masked_fill(~held, float("nan"))
    return data, DataLoader(TensorDataset(x_in[rows], target[rows]), batch_size=4 * batch_size)
