"""Deep embedded clustering: an autoencoder whose codes are pulled toward learned centroids.

DEC (Xie, Girshick & Farhadi, *Unsupervised Deep Embedding for Clustering Analysis*, ICML
2016) minimises KL(P‖Q) between a Student's t soft assignment Q of the codes to the
centroids and a sharpened target P; IDEC (Guo, Gao, Liu & Yin, *Improved Deep Embedded
Clustering with Local Structure Preservation*, IJCAI 2017) keeps the reconstruction loss
beside it so that the code space keeps the data's local structure. The recipe — pretrain,
k-means the codes, refresh P every T steps, stop when the assignments settle — is
:func:`aelab.applications.clustering.fit_dec`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from aelab.core.clustering import clustering_kl, student_t_assignment, target_distribution
from aelab.core.validation import check_number
from aelab.models.base import Autoencoder
from aelab.models.contract import Phase
from aelab.models.registry import register


@register("dec")
class DeepEmbeddedClustering(Autoencoder):
    """Autoencoder with ``n_clusters`` centroids in its code space, trained on KL(P‖Q).

    Loss terms: ``clustering`` = KL(P‖Q) summed over clusters, averaged over the batch;
    with ``reconstruction_weight > 0`` also ``recon`` (the autoencoder's reconstruction
    loss times that weight — IDEC). The target P of a batch is passed to the trainer as
    ``y`` (float, ``(n, n_clusters)``), computed over the whole data set by
    :func:`aelab.core.clustering.target_distribution`; without it (or with integer labels,
    which it ignores) P is the batch's own sharpened Q.

    Parameters
    ----------
    n_clusters : int, default=10
        Number of clusters k (centroids are parameters, shape ``(k, latent_dim)``).
    alpha : float, default=1.0
        Degrees of freedom of the Student's t kernel (DEC uses 1).
    reconstruction_weight : float, default=0.0
        0 for DEC (the decoder is then not trained); > 0 for IDEC. IDEC's objective
        L_r + γ L_c with L_r averaged over the d features is this model's
        ``clustering`` + ``recon`` with ``reconstruction_weight = 1 / (γ d)`` (recon is
        summed over features here, as everywhere in aelab).
    **kwargs
        Passed to :class:`~aelab.models.base.Autoencoder`.
    """

    can_cluster = True  # ``soft_assign``/``predict_clusters``, centroids in code space

    def __init__(self, input_shape, n_clusters: int = 10, alpha: float = 1.0,
                 reconstruction_weight: float = 0.0, **kwargs):
        owner = type(self).__name__
        self.n_clusters = check_number(n_clusters, "n_clusters", owner, kind=int, low=1)
        self.alpha = check_number(alpha, "alpha", owner, low=0.0, low_inclusive=False)
        self.reconstruction_weight = check_number(reconstruction_weight, "reconstruction_weight",
                                                  owner, low=0.0)
        super().__init__(input_shape, **kwargs)
        if self.n_classes:
            raise ValueError(f"{owner} is unsupervised: its y is the clustering target, so it "
                             f"cannot be conditional. Got n_classes={self.n_classes}; use 0.")
        self.centroids = nn.Parameter(torch.randn(self.n_clusters, self.latent_dim))

    def set_centroids(self, centroids) -> None:
        """Overwrite the centroids (e.g. with k-means on the codes), shape ``(k, latent_dim)``."""
        c = torch.as_tensor(centroids, dtype=self.centroids.dtype)
        if tuple(c.shape) != tuple(self.centroids.shape):
            raise ValueError(f"centroids must have shape {tuple(self.centroids.shape)} "
                             f"(n_clusters, latent_dim); got {tuple(c.shape)}.")
        with torch.no_grad():
            self.centroids.copy_(c)

    def assignment(self, h: Tensor) -> Tensor:
        """Soft assignment Q of codes ``h`` (n, latent_dim) to the centroids, (n, k)."""
        return student_t_assignment(h, self.centroids, self.alpha)

    def loss_terms(self, x: Tensor, y: Tensor | None = None) -> dict[str, Tensor]:
        x = self.scaler(x)
        h = self.encoder(x)
        q = self.assignment(h)
        if y is not None and y.is_floating_point():
            if tuple(y.shape) != tuple(q.shape):
                raise ValueError(f"The clustering target y must have shape (n, {self.n_clusters}) "
                                 f"(rows of P); got {tuple(y.shape)}.")
            p = y
        else:  # no target given: the batch's own sharpened assignment
            p = target_distribution(q).detach()
        terms = {"clustering": clustering_kl(p, q).mean()}
        if self.reconstruction_weight > 0:
            loss = self.lik.reconstruction_loss(self.decoder(h), x).mean()
            terms["recon"] = self.reconstruction_weight * loss
        return terms

    def training_phases(self) -> list[Phase]:
        """One phase; without a reconstruction term the decoder is left as it is."""
        frozen = set() if self.reconstruction_weight > 0 else set(map(id, self.decoder.parameters()))
        return [Phase("main", [p for p in self.parameters()
                               if p.requires_grad and id(p) not in frozen], self.loss_terms)]

    def soft_assign(self, x, batch_size: int = 1024):
        """Q for the examples ``x``: ``(n, n_clusters)``, rows summing to 1. NumPy in → NumPy out."""
        return self._map_batches(lambda t, _: self.assignment(self._encode(t)), x, batch_size,
                                 self.input_shape, "soft_assign")

    def predict_clusters(self, x, batch_size: int = 1024):
        """The most likely cluster of each example, ``(n,)`` int64."""
        return self.soft_assign(x, batch_size).argmax(1)
