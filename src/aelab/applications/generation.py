"""Walking the code space of a trained model: interpolations and latent traversals.

Interpolation decodes points on the segment between two inputs' codes; a traversal
varies one code dimension of an input's code over a range (Higgins et al., *β-VAE*,
ICLR 2017, Fig. 1). Both work for every registered model; sampling from a prior is
``model.sample``.
"""

from __future__ import annotations

import numpy as np

from aelab.core.validation import check_number


def interpolate(model, x_a, x_b, steps: int = 8, y=None) -> np.ndarray:
    """Decode ``steps`` evenly spaced points between the codes of ``x_a`` and ``x_b``.

    Parameters
    ----------
    model : Autoencoder
    x_a, x_b : array-like of shape (n, *input_shape)
        Paired start and end examples.
    steps : int, default=8
        Points per pair, both ends included.
    y : array-like of int, optional
        Labels (n,) for a conditional model's decoder.

    Returns
    -------
    ndarray of shape (n, steps, *input_shape)
    """
    steps = check_number(steps, "steps", "interpolate", kind=int, low=2)
    h_a, h_b = model.encode(x_a), model.encode(x_b)
    if h_a.shape != h_b.shape:
        raise ValueError(f"x_a and x_b must hold as many examples; got {len(h_a)} and {len(h_b)}.")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[None, :, None]
    codes = (1.0 - t) * h_a[:, None, :] + t * h_b[:, None, :]  # (n, steps, latent)
    return _decode_grid(model, codes, y)


def traverse(model, x, dim: int, values=(-3.0, -2.25, -1.5, -0.75, 0.0, 0.75, 1.5, 2.25, 3.0),
             y=None) -> np.ndarray:
    """Decode each example's code with dimension ``dim`` set to each of ``values``.

    The default values span ±3 prior standard deviations of a N(0, I) prior.

    Returns
    -------
    ndarray of shape (n, len(values), *input_shape)
    """
    dim = check_number(dim, "dim", "traverse", kind=int, low=0, high=model.latent_dim - 1)
    h = model.encode(x)
    values = np.asarray(values, dtype=np.float32)
    codes = np.repeat(h[:, None, :], len(values), axis=1)  # (n, len(values), latent)
    codes[:, :, dim] = values[None, :]
    return _decode_grid(model, codes, y)


def _decode_grid(model, codes: np.ndarray, y) -> np.ndarray:
    n, m = codes.shape[:2]
    labels = None if y is None else np.repeat(np.asarray(y).reshape(-1), m)
    x = model.decode(codes.reshape(n * m, -1), y=labels)
    return x.reshape(n, m, *x.shape[1:])
