"""The math of clustering in a learned code space, written once.

Deep embedded clustering (Xie, Girshick & Farhadi, *Unsupervised Deep Embedding for
Clustering Analysis*, ICML 2016, §3.1) and its improved variant (Guo et al., IJCAI 2017):

* soft assignment q_ij ∝ (1 + ‖z_i − μ_j‖²/α)^(−(α+1)/2), a Student's t kernel (eq. 1);
* sharpened target p_ij ∝ q_ij² / f_j with cluster frequencies f_j = Σ_i q_ij (eq. 3);
* the clustering loss KL(P‖Q) = Σ_i Σ_j p_ij log(p_ij / q_ij) (eq. 2) — here **summed over
  clusters, averaged over the examples** (the same reduction as every aelab loss).

And the unsupervised clustering accuracy used to score a clustering against labels: the
best one-to-one map of clusters to classes (Hungarian algorithm).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor


def student_t_assignment(z: Tensor, centroids: Tensor, alpha: float = 1.0) -> Tensor:
    """Soft assignment q of codes ``z`` (n, d) to ``centroids`` (k, d); rows sum to 1, (n, k).

    Computed in log space (a softmax of the log kernel), so far-away codes do not
    underflow to rows of zeros.
    """
    sq_dist = torch.cdist(z, centroids).square()  # (n, k)
    log_kernel = -(alpha + 1.0) / 2.0 * torch.log1p(sq_dist / alpha)
    return torch.softmax(log_kernel, dim=1)


def target_distribution(q: Tensor) -> Tensor:
    """DEC's auxiliary target p_ij = (q_ij²/f_j) / Σ_j' (q_ij'²/f_j'), f_j = Σ_i q_ij, (n, k).

    f_j is summed over the rows given: pass the whole data set's q, as DEC does when it
    refreshes its target, not one batch's.
    """
    weight = q.square() / q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)


def clustering_kl(p: Tensor, q: Tensor, eps: float = 1e-12) -> Tensor:
    """KL(P‖Q) of assignment matrices (n, k), summed over clusters: shape (n,).

    Terms with p_ij = 0 contribute 0 (the limit of p log p/q).
    """
    return (p * (torch.log(p.clamp_min(eps)) - torch.log(q.clamp_min(eps)))).sum(dim=1)


def cluster_accuracy(y_true, y_pred) -> float:
    """Unsupervised clustering accuracy: the fraction of examples whose cluster maps to their
    class under the best one-to-one map of clusters to classes (Hungarian algorithm).

    Clusters left without a class (more clusters than classes) count as errors.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length; got shapes "
                         f"{y_true.shape} and {y_pred.shape}.")
    if y_true.size == 0:
        raise ValueError("cluster_accuracy needs at least one example; got none.")
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, c = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((clusters.size, classes.size), dtype=np.int64)
    np.add.at(counts, (c, t), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / y_true.size)
