"""Any registered autoencoder as a scikit-learn transformer: ``transform`` gives codes,
``inverse_transform`` reconstructions (Goodfellow et al., *Deep Learning*, ch. 14).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from aelab.applications.detection import feature_scores
from aelab.core.scaling import SCALINGS
from aelab.core.validation import check_choice, check_number, check_widths
from aelab.models import create
from aelab.models.persistence import load_model
from aelab.sklearn._base import AutoencoderEstimatorMixin
from aelab.training import train

MODEL_DIR = "model"


class AutoencoderTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                             AutoencoderEstimatorMixin):
    """Learn a code with an autoencoder; ``transform`` maps rows to codes.

    Parameters
    ----------
    model : str, default="ae"
        Any registered model (see :func:`aelab.list_models`).
    model_params : dict, optional
        Further options of that model, e.g. ``{"penalty": "l1"}`` for ``"sparse"``.
        ``latent_dim``, ``hidden`` and ``preprocess`` are this estimator's parameters.
    latent_dim : int, default=8
        Code size: the number of output features of ``transform``.
    hidden : tuple of int, default=(64,)
        Encoder hidden widths (the decoder mirrors them).
    activation : str, default="relu"
        Hidden nonlinearity (a name in ``aelab.nn.ACTIVATIONS``).
    epochs : int, default=100
        Maximum epochs (early stopping usually ends training sooner).
    batch_size : int, default=128
    lr : float, default=1e-3
    weight_decay : float, default=0.0
    validation_split : float, default=0.1
        Fraction of the rows held out for early stopping.
    early_stopping : int or None, default=10
        Patience in epochs on the held-out loss; the best weights are kept.
    scaling : {"standard", "robust", "minmax", "none"}, default="standard"
        Scaling of numeric columns before the autoencoder. Use ``"none"`` for data
        already in [0, 1] with ``model_params={"likelihood": "bernoulli"}``.
    handle_unknown : {"error", "ignore"}, default="error"
        An unseen category of a DataFrame column: raise, or encode it as all zeros.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, shuffling and the validation split.
    device : str, default="cpu"

    Attributes
    ----------
    model_ : Autoencoder
        The trained autoencoder (its input is the encoded, scaled table).
    encoder_ : TabularEncoder
        The fitted input encoding.
    history_ : dict of str to list of float
        Per-epoch training and validation losses.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from aelab.sklearn import AutoencoderTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> pipe = make_pipeline(AutoencoderTransformer(latent_dim=16, epochs=5, random_state=0),
    ...                      LogisticRegression(max_iter=1000))
    >>> pipe.fit(X, y).score(X, y) > 0.8
    True
    """

    def __init__(
        self,
        model: str = "ae",
        model_params: dict | None = None,
        latent_dim: int = 8,
        hidden=(64,),
        activation: str = "relu",
        epochs: int = 100,
        batch_size: int = 128,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        validation_split: float = 0.1,
        early_stopping: int | None = 10,
        scaling: str = "standard",
        handle_unknown: str = "error",
        random_state=None,
        device: str = "cpu",
    ):
        self.model = model
        self.model_params = model_params
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.scaling = scaling
        self.handle_unknown = handle_unknown
        self.random_state = random_state
        self.device = device

    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` (``y`` is ignored).

        Returns
        -------
        self
        """
        owner = type(self).__name__
        model_params = self._check_common_params()
        latent_dim = check_number(self.latent_dim, "latent_dim", owner, kind=int, low=1)
        epochs = check_number(self.epochs, "epochs", owner, kind=int, low=1)
        batch_size = check_number(self.batch_size, "batch_size", owner, kind=int, low=1)
        hidden = check_widths(self.hidden, "hidden", owner)
        check_choice(self.scaling, SCALINGS, "scaling", owner)
        Z = self._fit_encoding(X, self.scaling)
        seed = self._seeds(1)[0]
        self.model_ = create(self.model, seed=seed, input_shape=Z.shape[1], latent_dim=latent_dim,
                             hidden=hidden, activation=self.activation, preprocess="none",
                             **model_params)
        result = train(self.model_, Z, seed=seed, **self._train_options(epochs, batch_size))
        self.history_ = result.history
        self._n_features_out = latent_dim
        return self

    def transform(self, X) -> np.ndarray:
        """The code of each row, float64 ``(n_samples, latent_dim)``. A chunked array
        (:func:`aelab.data.open_chunked`) or an ``np.memmap`` is encoded chunk by chunk."""
        streamed = self._by_chunk(self.transform, X)
        if streamed is not None:
            return streamed
        return self.model_.encode(self._encode(X)).astype(np.float64)

    def inverse_transform(self, X) -> np.ndarray:
        """Reconstruct input rows from codes ``X`` of shape ``(n_samples, latent_dim)``.

        Returns float64 ``(n_samples, n_features_in_)`` in the input's units; for a
        model fitted on a DataFrame with categorical columns, a DataFrame whose
        categorical columns hold each one-hot block's likeliest category.
        """
        check_is_fitted(self)
        codes = np.asarray(X, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self._n_features_out:
            raise ValueError(
                f"inverse_transform expects codes of shape (n_samples, {self._n_features_out}); "
                f"got shape {codes.shape}. Pass the output of transform()."
            )
        return self.encoder_.inverse_transform(self.model_.decode(codes))

    def score(self, X, y=None) -> float:
        """Negative mean squared reconstruction error per row (higher is better).

        The error is summed over the encoded features in the scaled space the model
        sees, so that ``GridSearchCV`` can select models without labels.
        """
        return -float(feature_scores(self.model_, self._encode(X)).sum(1).mean())

    # ------------------------------------------------------------------ persistence
    def _fitted_config(self) -> dict:
        cfg = super()._fitted_config()
        cfg["history_"] = self.history_
        return cfg

    def _restore_fitted(self, cfg: dict, path: Path) -> None:
        super()._restore_fitted(cfg, path)
        self.model_ = load_model(path / MODEL_DIR)
        self.history_ = cfg["history_"]
        self._n_features_out = self.model_.latent_dim

    def _save_models(self, path: Path) -> dict:
        self.model_.save(path / MODEL_DIR)
        return {}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")
