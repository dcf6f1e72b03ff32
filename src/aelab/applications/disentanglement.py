"""Scoring how well a trained model's code disentangles known generative factors.

The recipes draw examples from a data set whose images are rendered from their factor
classes (dSprites, :mod:`aelab.data.dsprites`, by default), encode them with the model's
``encode`` (a VAE's posterior mean) and hand the codes to the pure scores of
:mod:`aelab.core.disentanglement`: the β-VAE metric (Higgins et al., ICLR 2017, §4) and
MIG (Chen et al., NeurIPS 2018).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aelab.core.disentanglement import BetaVAEScore, MIGScore, beta_vae_metric, mig
from aelab.core.validation import check_number
from aelab.data import dsprites


@dataclass(frozen=True)
class FactorData:
    """A data set generated from discrete factors: their sizes (classes per factor) and a renderer.

    ``render`` maps factor classes ``(n, len(sizes))`` (ints) to examples ``(n, *input_shape)``
    as the model takes them (float32).
    """

    sizes: tuple[int, ...]
    render: Callable[[np.ndarray], np.ndarray]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` factor combinations, each factor drawn uniformly and independently: (n, n_factors)."""
        return np.stack([rng.integers(0, s, size=n) for s in self.sizes], axis=1)


def _render_dsprites(factors: np.ndarray) -> np.ndarray:
    return dsprites.images(dsprites.indices_of(factors)).astype(np.float32)


DSPRITES = FactorData(dsprites.FACTOR_SIZES, _render_dsprites)


def draw_pairs(data: FactorData, n_points: int, pairs: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factor classes of the pairs of the β-VAE metric (Higgins et al. 2017, §4).

    For each point a factor k is drawn uniformly; each of its ``pairs`` pairs draws two
    factor vectors independently and copies factor k of the first into the second.

    Returns
    -------
    v1, v2 : ndarray of shape (n_points, pairs, n_factors)
    fixed : ndarray of shape (n_points,)
    """
    fixed = rng.integers(0, len(data.sizes), size=n_points)
    v1 = data.sample(n_points * pairs, rng).reshape(n_points, pairs, -1)
    v2 = data.sample(n_points * pairs, rng).reshape(n_points, pairs, -1)
    rows = np.arange(n_points)
    v2[rows, :, fixed] = v1[rows, :, fixed]
    return v1, v2, fixed


def _encode(model, data: FactorData, factors: np.ndarray, batch_size: int) -> np.ndarray:
    """Codes of the examples of factor classes (..., n_factors) → (..., code_dim), rendered in batches."""
    flat = factors.reshape(-1, factors.shape[-1])
    codes = [model.encode(data.render(flat[i:i + batch_size]), batch_size=batch_size)
             for i in range(0, len(flat), batch_size)]
    return np.concatenate(codes).reshape(*factors.shape[:-1], -1)


def beta_vae_score(model, data: FactorData = DSPRITES, *, n_train: int = 1000, n_test: int = 500,
                   pairs: int = 64, seed: int = 0, batch_size: int = 2048) -> BetaVAEScore:
    """The β-VAE metric of ``model``'s code on ``data`` (default: dSprites).

    Parameters
    ----------
    model : Autoencoder
        Anything with ``encode`` (a stochastic encoder gives its mean).
    data : FactorData, default=DSPRITES
    n_train, n_test : int, default=1000, 500
        Points that train and test the linear classifier; each costs ``2 * pairs`` encodings.
    pairs : int, default=64
        L, the pairs averaged into one point (Higgins et al. use 64).
    seed : int, default=0
    batch_size : int, default=2048
        Examples rendered and encoded at a time.

    Returns
    -------
    BetaVAEScore
    """
    owner = "beta_vae_score"
    n_train = check_number(n_train, "n_train", owner, kind=int, low=2)
    n_test = check_number(n_test, "n_test", owner, kind=int, low=1)
    pairs = check_number(pairs, "pairs", owner, kind=int, low=1)
    v1, v2, fixed = draw_pairs(data, n_train + n_test, pairs, np.random.default_rng(seed))
    z1 = _encode(model, data, v1, batch_size)
    z2 = _encode(model, data, v2, batch_size)
    return beta_vae_metric(z1, z2, fixed, n_train=n_train, seed=seed)


def mig_score(model, data: FactorData = DSPRITES, *, n: int = 10000, n_bins: int = 20,
              seed: int = 0, batch_size: int = 2048) -> MIGScore:
    """MIG of ``model``'s code on ``n`` examples of ``data`` drawn uniformly over the factors.

    Parameters
    ----------
    model : Autoencoder
    data : FactorData, default=DSPRITES
    n : int, default=10000
    n_bins : int, default=20
        Equal-width bins per code dimension for the mutual information.
    seed : int, default=0
    batch_size : int, default=2048

    Returns
    -------
    MIGScore
    """
    n = check_number(n, "n", "mig_score", kind=int, low=2)
    factors = data.sample(n, np.random.default_rng(seed))
    return mig(_encode(model, data, factors, batch_size), factors, n_bins=n_bins)
