"""Clustering with a pretrained autoencoder as a scikit-learn clusterer: k-means on the
codes, DEC, IDEC or N2D (see :mod:`aelab.applications.clustering`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.base import ClusterMixin, TransformerMixin

from aelab.applications.clustering import CLUSTERING_METHODS, check_n_clusters, cluster
from aelab.core.io import atomic_write_files, file_entry, read_listed_tensors, tensors_to_bytes
from aelab.core.scaling import SCALINGS
from aelab.core.validation import check_choice, check_number, check_widths
from aelab.models import create
from aelab.models.persistence import load_model
from aelab.sklearn._base import AutoencoderEstimatorMixin
from aelab.training import train

MODEL_DIR = "model"
CLUSTERING_FILE = "clustering.safetensors"


class AutoencoderClusterer(ClusterMixin, TransformerMixin, AutoencoderEstimatorMixin):
    """Cluster rows in the code space of an autoencoder trained on them.

    The autoencoder is pretrained on reconstruction, then ``method`` clusters:
    ``"kmeans"`` (k-means on the codes), ``"dec"`` (Xie et al. 2016: k-means start, then
    KL(P‖Q) self-training of the encoder and centroids), ``"idec"`` (Guo et al. 2017: DEC
    keeping the reconstruction loss, γ = ``gamma``) or ``"n2d"`` (McConville et al. 2020:
    UMAP of the codes into ``n_clusters`` dimensions, then a Gaussian mixture; needs
    ``pip install 'aelab[cluster]'``).

    Parameters
    ----------
    method : {"idec", "dec", "kmeans", "n2d"}, default="idec"
    n_clusters : int, default=8
    model : str, default="ae"
        The pretrained autoencoder: ``"ae"``, ``"denoising"`` (DEC's paper pretrains a
        denoising one) or ``"contractive"``.
    model_params : dict, optional
        Further options of that model, e.g. ``{"corruption": "masking", "noise": 0.2}``.
    latent_dim : int, default=10
        Code size (DEC's d-500-500-2000-10 network).
    hidden : tuple of int, default=(500, 500, 2000)
    activation : str, default="relu"
    pretrain_epochs : int, default=200
        Epochs of reconstruction training (DEC's Keras re-implementation uses 200).
    batch_size : int, default=256
    lr : float, default=1e-3
        Adam's learning rate for pretraining.
    weight_decay : float, default=0.0
    validation_split : float, default=0.0
        Fraction held out for early stopping of the pretraining.
    early_stopping : int or None, default=None
    gamma : float, default=0.1
        IDEC's weight of the clustering loss against the per-feature mean squared error.
    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel.
    update_interval : int, default=140
        DEC/IDEC: steps between refreshes of the target P.
    tol : float, default=0.001
        DEC/IDEC: stop when fewer than this fraction of assignments change at a refresh.
    max_iter : int, default=20000
        DEC/IDEC: at most this many steps of self-training.
    scaling : {"standard", "robust", "minmax", "none"}, default="standard"
        Scaling of numeric columns; ``"none"`` for pixels already in [0, 1].
    handle_unknown : {"error", "ignore"}, default="error"
    random_state : int, RandomState instance or None, default=None
    device : str, default="cpu"

    Attributes
    ----------
    labels_ : ndarray of int, (n_samples,)
    cluster_centers_ : ndarray, (n_clusters, latent_dim)
        Cluster centres in code space (for N2D, the mean code of each cluster).
    model_ : Autoencoder
        The autoencoder (for DEC/IDEC, the ``dec`` model holding the centroids).
    n_iter_ : int
        Pretraining epochs run.
    self_training_steps_ : int
        DEC/IDEC self-training steps (batches; 0 for the other methods).
    history_ : dict
        Pretraining history.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from aelab.sklearn import AutoencoderClusterer
    >>> X, y = load_digits(return_X_y=True)
    >>> est = AutoencoderClusterer(method="kmeans", n_clusters=10, hidden=(64,),
    ...                            pretrain_epochs=5, random_state=0).fit(X)
    >>> est.labels_.shape, est.predict_proba(X[:3]).shape
    ((1797,), (3, 10))
    """

    def __init__(
        self,
        method: str = "idec",
        n_clusters: int = 8,
        model: str = "ae",
        model_params: dict | None = None,
        latent_dim: int = 10,
        hidden=(500, 500, 2000),
        activation: str = "relu",
        pretrain_epochs: int = 200,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        validation_split: float = 0.0,
        early_stopping: int | None = None,
        gamma: float = 0.1,
        alpha: float = 1.0,
        update_interval: int = 140,
        tol: float = 1e-3,
        max_iter: int = 20000,
        scaling: str = "standard",
        handle_unknown: str = "error",
        random_state=None,
        device: str = "cpu",
    ):
        self.method = method
        self.n_clusters = n_clusters
        self.model = model
        self.model_params = model_params
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.activation = activation
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.gamma = gamma
        self.alpha = alpha
        self.update_interval = update_interval
        self.tol = tol
        self.max_iter = max_iter
        self.scaling = scaling
        self.handle_unknown = handle_unknown
        self.random_state = random_state
        self.device = device

    def fit(self, X, y=None):
        """Pretrain the autoencoder on ``X``, then cluster (``y`` is ignored).

        Returns
        -------
        self
        """
        owner = type(self).__name__
        model_params = self._check_common_params()
        check_choice(self.method, CLUSTERING_METHODS, "method", owner)
        latent_dim = check_number(self.latent_dim, "latent_dim", owner, kind=int, low=1)
        epochs = check_number(self.pretrain_epochs, "pretrain_epochs", owner, kind=int, low=1)
        batch_size = check_number(self.batch_size, "batch_size", owner, kind=int, low=1)
        hidden = check_widths(self.hidden, "hidden", owner)
        check_number(self.alpha, "alpha", owner, low=0.0, low_inclusive=False)
        check_choice(self.scaling, SCALINGS, "scaling", owner)
        Z = self._fit_encoding(X, self.scaling)
        k = check_n_clusters(self.n_clusters, Z.shape[0], owner)
        seed = self._seeds(1)[0]
        ae = create(self.model, seed=seed, input_shape=Z.shape[1], latent_dim=latent_dim,
                    hidden=hidden, activation=self.activation, preprocess="none", **model_params)
        self.history_ = train(ae, Z, seed=seed, **self._train_options(epochs, batch_size)).history
        self.n_iter_ = len(self.history_["train/loss"])
        fit = cluster(self.method, ae, Z, k, seed=seed, gamma=self.gamma, alpha=self.alpha,
                      update_interval=self.update_interval, tol=self.tol,
                      max_iter=self.max_iter, batch_size=batch_size, device=self.device)
        self.model_, self.clustering_, self.labels_ = fit.model, fit.code_clustering, fit.labels
        self.self_training_steps_ = 0 if fit.self_training is None else fit.self_training.iterations
        self.cluster_centers_ = fit.cluster_centers()
        self._n_features_out = latent_dim
        return self

    def transform(self, X) -> np.ndarray:
        """The code of each row, float64 ``(n_samples, latent_dim)``."""
        return self.model_.encode(self._encode(X)).astype(np.float64)

    def predict_proba(self, X) -> np.ndarray:
        """Soft assignment of each row to the clusters, ``(n_samples, n_clusters)``.

        DEC's Student's t Q for ``dec``/``idec``/``kmeans``; the mixture's posterior for ``n2d``.
        """
        Z = self._encode(X)
        if self.clustering_ is None:
            return self.model_.soft_assign(Z).astype(np.float64)
        return self.clustering_.predict_proba(self.model_.encode(Z)).astype(np.float64)

    def predict(self, X) -> np.ndarray:
        """The most likely cluster of each row, ``(n_samples,)``."""
        return self.predict_proba(X).argmax(1)

    # ------------------------------------------------------------------ persistence
    def _fitted_config(self) -> dict:
        cfg = super()._fitted_config()
        cfg.update(history_=self.history_, n_iter_=int(self.n_iter_),
                   self_training_steps_=int(self.self_training_steps_),
                   labels_=[int(v) for v in self.labels_])
        return cfg

    def _save_models(self, path: Path) -> dict:
        self.model_.save(path / MODEL_DIR)
        arrays = {} if self.clustering_ is None else self.clustering_.arrays()
        arrays["cluster_centers"] = self.cluster_centers_
        raw = tensors_to_bytes({k: torch.from_numpy(np.ascontiguousarray(v))
                                for k, v in arrays.items()})
        atomic_write_files({path / CLUSTERING_FILE: raw})
        return {"clustering": file_entry(CLUSTERING_FILE, raw)}

    def _restore_fitted(self, cfg: dict, path: Path) -> None:
        super()._restore_fitted(cfg, path)
        self.model_ = load_model(path / MODEL_DIR)
        arrays = {k: v.numpy() for k, v in
                  read_listed_tensors(path, cfg["clustering"], path / "estimator.json").items()}
        self.cluster_centers_ = arrays.pop("cluster_centers")
        method = CLUSTERING_METHODS[self.method]
        self.clustering_ = (None if method.code_clustering is None else
                            method.code_clustering(self.n_clusters,
                                                   seed=None).set_arrays(arrays))
        self.history_ = cfg["history_"]
        self.n_iter_ = cfg["n_iter_"]
        self.self_training_steps_ = cfg["self_training_steps_"]
        self.labels_ = np.asarray(cfg["labels_"], dtype=np.int64)
        self._n_features_out = self.model_.latent_dim

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")
