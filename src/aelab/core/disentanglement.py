"""Disentanglement scores of a code against known generative factors, written once.

* The β-VAE metric (Higgins et al., *β-VAE: Learning Basic Visual Concepts with a
  Constrained Variational Framework*, ICLR 2017, §4): each point is L pairs of examples
  that share the value of one factor k (all other factors drawn independently); its feature
  is the mean over the L pairs of |z1 − z2| (one value per code dimension), its label k. A
  linear classifier that predicts k from the feature scores the code by its held-out
  accuracy: a code with one dimension per factor makes the fixed factor's dimension the
  smallest, and the accuracy 100%.
* The mutual information gap, MIG (Chen, Li, Grosse & Duvenaud, *Isolating Sources of
  Disentanglement in VAEs*, NeurIPS 2018, §4.1): for each factor v_k, the gap between the
  two largest mutual informations I(z_j; v_k) over the code dimensions j, divided by the
  factor's entropy H(v_k), averaged over the factors. Here each code dimension is
  discretised into equal-width bins (as in Locatello et al.'s *disentanglement_lib*), where
  Chen et al. estimate I(z_j; v_k) from q(z|x); mutual informations and entropies are in nats.

The part that draws pairs and encodes images is an application
(:mod:`aelab.applications.disentanglement`); these functions take codes and factors only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aelab.core.validation import check_number


@dataclass(frozen=True)
class BetaVAEScore:
    """The β-VAE metric: the linear classifier's accuracy on the held-out and training points."""

    test_accuracy: float
    train_accuracy: float
    n_train: int
    n_test: int
    chance: float  # accuracy of always guessing the most common factor of the test points


@dataclass(frozen=True)
class MIGScore:
    """MIG, its value per factor, and the mutual information matrix it came from."""

    mig: float
    per_factor: np.ndarray  # (n_factors,): the normalised gap of each factor
    mutual_information: np.ndarray  # (code_dim, n_factors), nats
    factor_entropy: np.ndarray  # (n_factors,), nats


def pair_features(z1, z2) -> np.ndarray:
    """Mean over the L pairs of each point of |z1 − z2|: ``(n, L, d)`` twice → ``(n, d)``."""
    z1, z2 = np.asarray(z1, dtype=np.float64), np.asarray(z2, dtype=np.float64)
    if z1.ndim != 3 or z1.shape != z2.shape:
        raise ValueError(f"z1 and z2 must be codes of pairs with the same shape (points, L, "
                         f"code_dim); got {z1.shape} and {z2.shape}.")
    return np.abs(z1 - z2).mean(axis=1)


def beta_vae_metric(z1, z2, fixed, n_train: int, seed: int = 0) -> BetaVAEScore:
    """Higgins et al.'s disentanglement metric from the codes of pairs.

    Parameters
    ----------
    z1, z2 : array-like of shape (n_points, L, code_dim)
        Codes of the two examples of each of the L pairs of each point.
    fixed : array-like of int, shape (n_points,)
        The factor that the pairs of each point share.
    n_train : int
        The first ``n_train`` points train the classifier; the rest measure its accuracy.
    seed : int, default=0

    Returns
    -------
    BetaVAEScore

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v1, v2 = rng.random((200, 8, 3)), rng.random((200, 8, 3))
    >>> k = np.arange(200) % 3
    >>> v2[np.arange(200), :, k] = v1[np.arange(200), :, k]  # pairs share factor k
    >>> beta_vae_metric(v1, v2, k, n_train=100).test_accuracy
    1.0
    """
    features = pair_features(z1, z2)
    fixed = np.asarray(fixed)
    if fixed.shape != (len(features),) or not np.issubdtype(fixed.dtype, np.integer):
        raise ValueError(f"fixed must hold one integer factor per point, shape ({len(features)},); "
                         f"got dtype {fixed.dtype} with shape {fixed.shape}.")
    n_train = check_number(n_train, "n_train", "beta_vae_metric", kind=int, low=1,
                           high=len(features) - 1)
    train, test = slice(0, n_train), slice(n_train, None)
    if len(np.unique(fixed[train])) < 2:
        raise ValueError("The training points of beta_vae_metric must fix at least two different "
                         "factors; draw more points.")
    # A linear classifier on standardised features (a per-feature affine map: still linear).
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    clf.fit(features[train], fixed[train])
    _, counts = np.unique(fixed[test], return_counts=True)
    return BetaVAEScore(
        test_accuracy=float(clf.score(features[test], fixed[test])),
        train_accuracy=float(clf.score(features[train], fixed[train])),
        n_train=n_train, n_test=len(features) - n_train,
        chance=float(counts.max() / counts.sum()),
    )


def discretize(z, n_bins: int = 20) -> np.ndarray:
    """Each column of ``z`` (n, d) cut into ``n_bins`` equal-width bins over its range: ints (n, d)."""
    z = np.asarray(z, dtype=np.float64)
    n_bins = check_number(n_bins, "n_bins", "discretize", kind=int, low=2)
    lo, hi = z.min(axis=0), z.max(axis=0)
    width = np.where(hi > lo, (hi - lo) / n_bins, 1.0)
    return np.clip(((z - lo) / width).astype(np.int64), 0, n_bins - 1)


def _entropy(a: np.ndarray) -> float:
    p = np.bincount(a) / len(a)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mutual_information(a, b) -> float:
    """Plug-in mutual information (nats) of two discrete variables given as int arrays (n,)."""
    a, b = np.unique(np.asarray(a), return_inverse=True)[1], np.unique(np.asarray(b), return_inverse=True)[1]
    joint = np.bincount(a * (b.max() + 1) + b, minlength=(a.max() + 1) * (b.max() + 1))
    p_ab = joint.reshape(a.max() + 1, b.max() + 1) / len(a)
    p_a, p_b = p_ab.sum(1, keepdims=True), p_ab.sum(0, keepdims=True)
    nz = p_ab > 0
    return float((p_ab[nz] * np.log(p_ab[nz] / (p_a @ p_b)[nz])).sum())


def mig(z, factors, n_bins: int = 20) -> MIGScore:
    """Mutual information gap of a code against discrete factors.

    Parameters
    ----------
    z : array-like of shape (n, code_dim)
        Codes (e.g. posterior means), at least two dimensions.
    factors : array-like of int, shape (n, n_factors)
        Factor classes of the same examples; each factor must take at least two values.
    n_bins : int, default=20
        Equal-width bins per code dimension.

    Returns
    -------
    MIGScore
        ``mig`` = mean over factors k of (I(z_a; v_k) − I(z_b; v_k)) / H(v_k), where a and b
        are the code dimensions with the largest and second largest I(z_j; v_k).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.random.default_rng(0).integers(0, 4, size=(1000, 2))
    >>> mig(np.c_[v, np.zeros(1000)], v).mig > 0.99  # the factors themselves, one more dim
    True
    """
    z = np.asarray(z)
    factors = np.asarray(factors)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"z must be codes of shape (n, code_dim) with code_dim >= 2 (the gap needs "
                         f"two dimensions); got shape {z.shape}.")
    if factors.ndim != 2 or len(factors) != len(z) or not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integer classes of shape ({len(z)}, n_factors), one row "
                         f"per code; got dtype {factors.dtype} with shape {factors.shape}.")
    codes = discretize(z, n_bins)
    entropy = np.array([_entropy(np.unique(f, return_inverse=True)[1]) for f in factors.T])
    if np.any(entropy == 0):
        raise ValueError(f"Every factor must vary to normalise MIG by its entropy; factor columns "
                         f"{np.flatnonzero(entropy == 0).tolist()} are constant. Drop them.")
    mi = np.array([[mutual_information(c, f) for f in factors.T] for c in codes.T])
    top2 = np.sort(mi, axis=0)[-2:]  # (2, n_factors): second largest, largest
    per_factor = (top2[1] - top2[0]) / entropy
    return MIGScore(float(per_factor.mean()), per_factor, mi, entropy)
