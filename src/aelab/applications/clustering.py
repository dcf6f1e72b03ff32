"""Clustering with autoencoders: k-means on the codes, DEC, IDEC and N2D.

* **AE + k-means**: k-means (best of ``n_init`` starts) on the codes of a pretrained
  autoencoder — the baseline every deep-clustering paper reports.
* **DEC / IDEC** (Xie et al. 2016; Guo et al. 2017): start from those k-means centroids,
  then minimise KL(P‖Q) (with the reconstruction loss for IDEC) with the one trainer,
  refreshing the target P over the whole data set every ``update_interval`` steps and
  stopping once fewer than ``tol`` of the assignments change between refreshes
  (:func:`fit_dec`, the model :class:`aelab.models.dec.DeepEmbeddedClustering`).
* **N2D** (McConville et al., *N2D: (Not Too) Deep Clustering via Clustering the Local
  Manifold of an Autoencoded Embedding*, ICPR 2020): UMAP of the codes into k dimensions,
  then a Gaussian mixture (:class:`ManifoldClustering`; needs ``pip install aelab[cluster]``).

Scores against labels: :func:`clustering_scores` (accuracy under the best cluster-to-class
map, NMI, ARI).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from aelab.core.clustering import cluster_accuracy, student_t_assignment, target_distribution
from aelab.core.optional import require
from aelab.core.validation import check_number
from aelab.models import create
from aelab.models.base import Autoencoder
from aelab.training import train


def clustering_scores(y_true, y_pred) -> dict[str, float]:
    """``{"acc", "nmi", "ari"}`` of a clustering against class labels (higher is better)."""
    return {"acc": cluster_accuracy(y_true, y_pred),
            "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
            "ari": float(adjusted_rand_score(y_true, y_pred))}


def check_n_clusters(n_clusters, n_samples: int, owner: str) -> int:
    """``n_clusters`` as an int in [1, n_samples], or a ValueError saying what to do."""
    k = check_number(n_clusters, "n_clusters", owner, kind=int, low=1)
    if k > n_samples:
        raise ValueError(f"n_clusters={k} is more than the {n_samples} examples to cluster; "
                         f"pass at most {n_samples} clusters, or more data.")
    return k


def kmeans_codes(codes: np.ndarray, n_clusters: int, seed: int | None = 0,
                 n_init: int = 20) -> KMeans:
    """k-means on codes ``(n, latent_dim)``, the best of ``n_init`` starts (DEC uses 20)."""
    return KMeans(n_clusters, n_init=n_init, random_state=seed).fit(np.asarray(codes, np.float64))


def dec_from_autoencoder(autoencoder: Autoencoder, n_clusters: int, *, alpha: float = 1.0,
                         reconstruction_weight: float = 0.0, seed: int | None = 0):
    """A ``dec`` model sharing a pretrained autoencoder's architecture, holding a copy of
    its weights (scaling, encoder, decoder); its centroids still to be set.

    Works for any autoencoder whose modules a plain one has (``ae``, ``denoising``,
    ``contractive``, ``rcae``, ``sparse`` with ``l1``/``kl``); raises otherwise.
    """
    config = {k: v for k, v in autoencoder.get_config().items()
              if k in Autoencoder.config_keys()}
    model = create("dec", seed=seed, n_clusters=n_clusters, alpha=alpha,
                   reconstruction_weight=reconstruction_weight, **config)
    source, target = autoencoder.state_dict(), model.state_dict()
    target.pop("centroids")
    differ = sorted(k for k in source.keys() | target.keys()
                    if k not in source or k not in target or source[k].shape != target[k].shape)
    if differ:
        raise ValueError(
            f"A {type(autoencoder).__name__} ({autoencoder.name!r}) cannot seed DEC: its modules "
            f"differ from a plain autoencoder's ({differ[:4]}). Pretrain with 'ae', 'denoising' "
            "or 'contractive'.")
    model.load_state_dict(source, strict=False)
    return model.to(autoencoder.device)


@dataclass
class DECResult:
    """What :func:`fit_dec` returns.

    Attributes
    ----------
    labels : ndarray of int64, (n,)
        Final hard assignments (argmax of Q).
    iterations : int
        Optimisation steps taken (batches), counted as DEC counts them.
    label_changes : list of float
        Fraction of assignments that changed at each target refresh.
    converged : bool
        Whether the change fell below ``tol`` before ``max_iter``.
    history : dict
        The trainer's per-round history (one "epoch" per refresh interval).
    """

    labels: np.ndarray
    iterations: int
    label_changes: list[float] = field(default_factory=list)
    converged: bool = False
    history: dict = field(default_factory=dict)


def fit_dec(model, X, *, update_interval: int = 140, tol: float = 1e-3, max_iter: int = 20000,
            batch_size: int = 256, lr: float = 0.01, optimizer: str = "sgd",
            seed: int | None = 0, device="cpu", checkpoint_dir=None) -> DECResult:
    """Run DEC's (or IDEC's) self-training on a ``dec`` model whose centroids are set.

    Every ``update_interval`` steps the target P is recomputed from Q over all of ``X``;
    the next ``update_interval`` batches (a seeded walk through ``X``) are trained with
    the one trainer against it. The trainer continues from its own checkpoint between
    rounds, so the optimizer's state (momentum, Adam's moments) carries over as in one
    long run. Stops when fewer than ``tol`` of the assignments change between refreshes.

    Parameters
    ----------
    model : DeepEmbeddedClustering
        From :func:`dec_from_autoencoder`, centroids set (e.g. by :func:`kmeans_codes`).
    X : array-like, (n, *input_shape)
    update_interval : int, default=140
        T, the steps between target refreshes (DEC and IDEC use 140 on MNIST).
    tol : float, default=1e-3
        Stop when the fraction of changed assignments falls below this.
    max_iter : int, default=20000
        Upper bound on steps.
    batch_size : int, default=256
    lr : float, default=0.01
    optimizer : str, default="sgd"
        DEC: SGD with momentum 0.9 at lr 0.01; IDEC: Adam at lr 0.001.
    seed : int, optional
    device : str, default="cpu"
    checkpoint_dir : path, optional
        Where the trainer keeps its checkpoint between rounds (a temporary directory if
        not given).
    """
    owner = "fit_dec"
    update_interval = check_number(update_interval, "update_interval", owner, kind=int, low=1)
    tol = check_number(tol, "tol", owner, low=0.0)
    max_iter = check_number(max_iter, "max_iter", owner, kind=int, low=1)
    batch_size = check_number(batch_size, "batch_size", owner, kind=int, low=1)
    x = model.as_input(X)
    n = x.shape[0]
    check_n_clusters(model.n_clusters, n, owner)
    rng = np.random.default_rng(seed)
    order, position = rng.permutation(n), 0
    result = DECResult(labels=np.zeros(n, np.int64), iterations=0)
    with tempfile.TemporaryDirectory() as scratch:
        directory = scratch if checkpoint_dir is None else checkpoint_dir
        previous = None
        for round_ in range(-(-max_iter // update_interval)):
            q = model.soft_assign(x)
            labels = q.argmax(1).numpy()
            if previous is not None:
                change = float((labels != previous).mean())
                result.label_changes.append(change)
                if change < tol:
                    result.converged = True
                    break
            previous = labels
            p = target_distribution(q)
            # The next `update_interval` batches of the walk through the data (wrapping).
            take = min(update_interval, max_iter - result.iterations) * min(batch_size, n)
            idx = np.take(order, np.arange(position, position + take), mode="wrap")
            position = (position + take) % n
            fit = train(model, x[idx], y=p[idx], epochs=round_ + 1, batch_size=batch_size, lr=lr,
                        optimizer=optimizer, seed=seed, device=device, checkpoint_dir=directory,
                        resume=True)
            result.iterations += -(-take // batch_size)
            result.history = fit.history
        else:
            labels = model.predict_clusters(x).numpy()
    result.labels = labels.astype(np.int64)
    return result


class ManifoldClustering:
    """N2D's second half: UMAP of the codes, then a Gaussian mixture in that embedding.

    New codes are placed in the embedding as the distance-weighted mean of their nearest
    training codes' places (UMAP's own initialisation for ``transform``; a training code
    lands exactly on its own place), so every fitted part is a plain array: saved without
    pickle.

    Parameters
    ----------
    n_clusters : int
    n_components : int, optional
        Embedding dimension (default: ``n_clusters``, as N2D).
    n_neighbors : int, default=20
        UMAP's neighbourhood size (N2D's setting), also used to place new codes.
    min_dist : float, default=0.0
    seed : int, optional
    """

    def __init__(self, n_clusters: int, n_components: int | None = None, n_neighbors: int = 20,
                 min_dist: float = 0.0, seed: int | None = 0):
        self.n_clusters = n_clusters
        self.n_components = n_components or n_clusters
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.seed = seed

    def fit(self, codes: np.ndarray) -> ManifoldClustering:
        umap = require("umap", "cluster", "N2D clustering (method='n2d')")
        codes = np.asarray(codes, np.float32)
        neighbors = min(self.n_neighbors, codes.shape[0] - 1)
        reducer = umap.UMAP(n_components=self.n_components, n_neighbors=max(neighbors, 2),
                            min_dist=self.min_dist, metric="euclidean", random_state=self.seed,
                            n_jobs=1)
        embedding = reducer.fit_transform(codes).astype(np.float64)
        gmm = GaussianMixture(self.n_clusters, covariance_type="full", random_state=self.seed)
        gmm.fit(embedding)
        self.set_arrays({"codes": codes, "embedding": embedding, "weights": gmm.weights_,
                         "means": gmm.means_, "covariances": gmm.covariances_})
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        """Every fitted array (for saving)."""
        return dict(self._arrays)

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> ManifoldClustering:
        """Restore the fitted state from :meth:`arrays`."""
        self._arrays = {k: np.asarray(v) for k, v in arrays.items()}
        codes = self._arrays["codes"]
        self._index = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(codes))).fit(codes)
        gmm = GaussianMixture(len(self._arrays["weights"]), covariance_type="full")
        gmm.weights_ = self._arrays["weights"].astype(np.float64)
        gmm.means_ = self._arrays["means"].astype(np.float64)
        gmm.covariances_ = self._arrays["covariances"].astype(np.float64)
        gmm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(gmm.covariances_)).astype(
            np.float64)
        self._gmm = gmm
        return self

    def embed(self, codes: np.ndarray) -> np.ndarray:
        """Place codes in the fitted embedding (exact for training codes)."""
        dist, idx = self._index.kneighbors(np.asarray(codes, np.float32))
        exact = dist[:, 0] == 0
        weights = 1.0 / np.maximum(dist, 1e-12)
        weights /= weights.sum(1, keepdims=True)
        places = (weights[..., None] * self._arrays["embedding"][idx]).sum(1)
        places[exact] = self._arrays["embedding"][idx[exact, 0]]
        return places

    def predict_proba(self, codes: np.ndarray) -> np.ndarray:
        """Posterior of each mixture component, ``(n, n_clusters)``."""
        return self._gmm.predict_proba(self.embed(codes))

    def cluster_centers(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """The mean code of each cluster (NaN for an empty one), ``(n_clusters, latent_dim)``:
        the mixture lives in the embedding, not in code space."""
        return np.stack([codes[labels == j].mean(0) if np.any(labels == j)
                         else np.full(codes.shape[1], np.nan)
                         for j in range(self.n_clusters)]).astype(np.float64)


class KMeansClustering:
    """k-means on the codes; soft assignments by DEC's Student's t kernel around the centres.

    Parameters
    ----------
    n_clusters : int
    seed : int, optional
    n_init : int, default=20
    """

    def __init__(self, n_clusters: int, seed: int | None = 0, n_init: int = 20):
        self.n_clusters, self.seed, self.n_init = n_clusters, seed, n_init

    def fit(self, codes: np.ndarray) -> KMeansClustering:
        return self.set_arrays({"centers": kmeans_codes(codes, self.n_clusters, self.seed,
                                                         self.n_init).cluster_centers_})

    def arrays(self) -> dict[str, np.ndarray]:
        return {"centers": self.centers}

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> KMeansClustering:
        self.centers = np.asarray(arrays["centers"], np.float64)
        return self

    def predict_proba(self, codes: np.ndarray) -> np.ndarray:
        q = student_t_assignment(torch.as_tensor(np.asarray(codes), dtype=torch.float64),
                                 torch.as_tensor(self.centers), 1.0)
        return q.numpy()

    def cluster_centers(self, codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """The k-means centres, ``(n_clusters, latent_dim)``."""
        return self.centers.copy()


@dataclass(frozen=True)
class ClusteringMethod:
    """How one clustering method uses a pretrained autoencoder.

    Either it refines the encoder by DEC's self-training (``self_training``: the options
    of :func:`fit_dec`, plus whether the reconstruction loss is kept) — the clusters are
    then the ``dec`` model's centroids — or it clusters the fixed codes with
    ``code_clustering`` (a class with ``fit(codes)``, ``predict_proba(codes)``,
    ``arrays()``/``set_arrays()``).
    """

    description: str
    code_clustering: type | None = None
    self_training: dict | None = None
    keeps_reconstruction: bool = False


CLUSTERING_METHODS: dict[str, ClusteringMethod] = {
    "kmeans": ClusteringMethod("k-means on the autoencoder's codes", KMeansClustering),
    "dec": ClusteringMethod("DEC: KL(P||Q) self-training of the encoder (Xie et al. 2016)",
                            self_training={"optimizer": "sgd", "lr": 0.01}),
    "idec": ClusteringMethod("IDEC: DEC keeping the reconstruction loss (Guo et al. 2017)",
                             self_training={"optimizer": "adam", "lr": 1e-3},
                             keeps_reconstruction=True),
    "n2d": ClusteringMethod("N2D: UMAP of the codes, then a Gaussian mixture (McConville et "
                            "al. 2020; needs aelab[cluster])", ManifoldClustering),
}


@dataclass
class ClusteringFit:
    """What :func:`cluster` returns.

    Attributes
    ----------
    model : Autoencoder
        The pretrained autoencoder, or for DEC/IDEC the ``dec`` model (its encoder moved;
        the centroids are its parameters).
    code_clustering : object or None
        The fitted clustering of the codes (``KMeansClustering``, ``ManifoldClustering``);
        None for DEC/IDEC.
    labels : ndarray of int64, (n,)
    codes : ndarray or None
        The codes the clusters were found in (None for DEC/IDEC).
    self_training : DECResult or None
    """

    model: Autoencoder
    code_clustering: object | None
    labels: np.ndarray
    codes: np.ndarray | None = None
    self_training: DECResult | None = None

    def cluster_centers(self) -> np.ndarray:
        """Cluster centres in code space, float64 ``(n_clusters, latent_dim)``."""
        if self.code_clustering is None:
            return self.model.centroids.detach().cpu().numpy().astype(np.float64)
        return self.code_clustering.cluster_centers(self.codes, self.labels)


def cluster(method: str, autoencoder: Autoencoder, X, n_clusters: int, *, seed: int | None = 0,
            gamma: float = 0.1, alpha: float = 1.0, **dec_options) -> ClusteringFit:
    """Cluster ``X`` with a registered method, starting from a pretrained autoencoder.

    Parameters
    ----------
    method : str
        A name of :data:`CLUSTERING_METHODS`.
    autoencoder : Autoencoder
        Pretrained on ``X`` (left unchanged: DEC/IDEC train a copy of its weights).
    X : array-like, (n, *input_shape)
    n_clusters : int
    seed : int, optional
    gamma : float, default=0.1
        IDEC's weight of the clustering loss (see :func:`idec_reconstruction_weight`).
    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel (DEC/IDEC).
    **dec_options
        Options of :func:`fit_dec` (``update_interval``, ``tol``, ``max_iter``,
        ``batch_size``, ``device``, ...) over the method's own (optimizer, lr).
    """
    spec = CLUSTERING_METHODS[method]
    codes = autoencoder.encode(X)
    if spec.self_training is None:
        clustering = spec.code_clustering(n_clusters, seed=seed).fit(codes)
        return ClusteringFit(autoencoder, clustering, clustering.predict_proba(codes).argmax(1),
                             codes)
    weight = (idec_reconstruction_weight(gamma, autoencoder.n_features)
              if spec.keeps_reconstruction else 0.0)
    model = dec_from_autoencoder(autoencoder, n_clusters, alpha=alpha,
                                 reconstruction_weight=weight, seed=seed)
    model.set_centroids(KMeansClustering(n_clusters, seed=seed).fit(codes).centers)
    result = fit_dec(model, X, seed=seed, **{**spec.self_training, **dec_options})
    return ClusteringFit(model, None, result.labels, self_training=result)


def idec_reconstruction_weight(gamma: float, n_features: int) -> float:
    """IDEC's L_r + γ L_c, L_r the squared error averaged over the ``n_features`` features,
    is proportional to aelab's summed-over-features ``recon`` weighted by 1 / (γ d) plus
    L_c: the ``reconstruction_weight`` of the ``dec`` model that reproduces it."""
    gamma = check_number(gamma, "gamma", "IDEC", low=0.0, low_inclusive=False)
    return 1.0 / (gamma * n_features)
