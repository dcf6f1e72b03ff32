"""dSprites, generated here: 64×64 binary images of one white sprite on black, one image per
combination of 5 factors (Matthey, Higgins, Hassabis & Lerchner, *dSprites: Disentanglement
testing Sprites dataset*, https://github.com/deepmind/dsprites-dataset, 2017).

Factors, in the README's order (the last one varies fastest, so an image's index is the
C-order index of its factor classes): shape (square, ellipse, heart), scale (6 values
linearly spaced in [0.5, 1]), orientation (40 values in [0, 2π)), posX and posY (32 values
each in [0, 1]); 3·6·40·32·32 = 737,280 images. Nothing is stored: :func:`images` renders
any indices on demand, so the whole set never sits in memory (it would take 3 GB as
float32).

How the images are drawn (the original was rendered with anti-aliasing and thresholded;
this is an approximation of it, not a copy of its pixels):

- each shape is an inside test in its own frame: the square ``|u|, |v| ≤ 8s`` pixels, the
  ellipse ``(u/10s)² + (v/5s)² ≤ 1``, the heart the implicit curve
  ``(a² + b² - 1)³ - a² b³ ≤ 0`` with ``a = u / 7.5s``, ``b = 0.12 - v / 7.5s``; at scale 1 the three
  are about 16-18 pixels across (the square 16, the ellipse 20 × 10, the heart 17 × 17);
- a pixel is on when at least half of a 4×4 grid of points inside it falls in the shape
  (anti-aliased coverage, thresholded at 0.5);
- a step of posX or posY moves the sprite by exactly one pixel: its centre runs over pixels
  16..47 of the 64, so every sprite stays whole inside the frame. An image is the sprite of
  its (shape, scale, orientation) pasted at that offset, and the 720 sprites are drawn once.

Orientation takes 40 values ``2πk/40``; the original README says "40 values in [0, 2π]"
and its last value repeats the first image. The square and the ellipse are symmetric
under some rotations, so for them orientation classes alias, as in the original.

>>> from aelab.data import dsprites
>>> dsprites.images([0, 737279]).shape
(2, 4096)
"""

from __future__ import annotations

import functools

import numpy as np

from aelab.core.validation import check_number

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
N_IMAGES = int(np.prod(FACTOR_SIZES))  # 737,280
IMAGE_SHAPE = (64, 64)
SPRITE = 32  # side of the patch that holds one sprite, centred (pixels)
SUBSAMPLES = 4  # points per pixel side for the coverage test
SQUARE_HALF_SIDE = 8.0  # pixels at scale 1
ELLIPSE_SEMI_AXES = (10.0, 5.0)  # pixels at scale 1 (along u, along v)
HEART_UNIT = 7.5  # pixels per unit of the implicit heart at scale 1
HEART_SHIFT = 0.12  # centres the implicit heart's box, b in [-1.0, 1.24], on b = 0


def factor_values() -> dict[str, np.ndarray]:
    """The value of each class of each factor (shape: the class index; see :data:`SHAPES`)."""
    return {
        "shape": np.arange(len(SHAPES), dtype=np.float64),
        "scale": np.linspace(0.5, 1.0, FACTOR_SIZES[1]),
        "orientation": np.linspace(0.0, 2 * np.pi, FACTOR_SIZES[2], endpoint=False),
        "posX": np.linspace(0.0, 1.0, FACTOR_SIZES[3]),
        "posY": np.linspace(0.0, 1.0, FACTOR_SIZES[4]),
    }


def _check_indices(indices) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise TypeError(f"The 'indices' parameter of dsprites.images must be a 1-D array of "
                        f"integers; got dtype {idx.dtype} with shape {idx.shape}. Pass e.g. "
                        "np.arange(10).")
    if idx.size and (idx.min() < 0 or idx.max() >= N_IMAGES):
        raise ValueError(f"The 'indices' parameter of dsprites.images must lie in [0, {N_IMAGES}); "
                         f"got values from {idx.min()} to {idx.max()}.")
    return idx.astype(np.int64)


def factors_of(indices) -> np.ndarray:
    """Factor classes of images, ``(n, 5)`` int64, columns as in :data:`FACTOR_NAMES`."""
    return np.stack(np.unravel_index(_check_indices(indices), FACTOR_SIZES), axis=1).astype(np.int64)


def indices_of(factors) -> np.ndarray:
    """Image indices of factor classes ``(n, 5)``: the inverse of :func:`factors_of`."""
    f = np.asarray(factors)
    if f.ndim != 2 or f.shape[1] != len(FACTOR_SIZES) or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"The 'factors' parameter of dsprites.indices_of must be an integer array "
                         f"of shape (n, {len(FACTOR_SIZES)}) (columns {FACTOR_NAMES}); got dtype "
                         f"{f.dtype} with shape {f.shape}.")
    if np.any(f < 0) or np.any(f >= np.asarray(FACTOR_SIZES)):
        raise ValueError(f"Factor classes must lie in [0, size) per column, sizes {FACTOR_SIZES}; "
                         f"got column maxima {f.max(0).tolist()} and minima {f.min(0).tolist()}.")
    return np.ravel_multi_index(tuple(f.T), FACTOR_SIZES).astype(np.int64)


def _inside(shape: int, u: np.ndarray, v: np.ndarray, scale: float) -> np.ndarray:
    """Whether points (u, v) in the shape's own frame (pixels, v pointing down) are inside."""
    if SHAPES[shape] == "square":
        half = SQUARE_HALF_SIDE * scale
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if SHAPES[shape] == "ellipse":
        a, b = ELLIPSE_SEMI_AXES[0] * scale, ELLIPSE_SEMI_AXES[1] * scale
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0
    a, b = u / (HEART_UNIT * scale), -v / (HEART_UNIT * scale) + HEART_SHIFT  # b points up
    return (a**2 + b**2 - 1.0) ** 3 - a**2 * b**3 <= 0.0


@functools.cache
def _sprites() -> np.ndarray:
    """Every (shape, scale, orientation) sprite, centred in a 32×32 patch: ``(720, 32, 32)`` bool."""
    # Sample points of each pixel, relative to the patch centre (a pixel corner): (32·4,)
    ticks = (np.arange(SPRITE * SUBSAMPLES) + 0.5) / SUBSAMPLES - SPRITE / 2
    x, y = np.meshgrid(ticks, ticks)  # x: column, y: row (pointing down)
    values = factor_values()
    out = np.empty((*FACTOR_SIZES[:3], SPRITE, SPRITE), dtype=bool)
    for s in range(FACTOR_SIZES[0]):
        for c, scale in enumerate(values["scale"]):
            for o, theta in enumerate(values["orientation"]):
                # Rotate the points by -theta: the shape turns by +theta (clockwise on screen).
                u = np.cos(theta) * x + np.sin(theta) * y
                v = -np.sin(theta) * x + np.cos(theta) * y
                hits = _inside(s, u, v, scale).reshape(SPRITE, SUBSAMPLES, SPRITE, SUBSAMPLES)
                out[s, c, o] = hits.mean(axis=(1, 3)) >= 0.5
    return out.reshape(-1, SPRITE, SPRITE)


def images(indices) -> np.ndarray:
    """Render dSprites images by index.

    Parameters
    ----------
    indices : array-like of int, shape (n,)
        Indices in ``[0, 737280)`` (C order over the factors, posY fastest).

    Returns
    -------
    ndarray of shape (n, 4096), uint8 in {0, 1}
        Row-major 64×64 images, one per index.

    Examples
    --------
    >>> from aelab.data import dsprites
    >>> x = dsprites.images(dsprites.indices_of([[2, 5, 0, 16, 16]]))
    >>> int(x.sum()) > 0, int(x.max())
    (True, 1)
    """
    f = factors_of(indices)
    n = len(f)
    sprite = np.ravel_multi_index(tuple(f[:, :3].T), FACTOR_SIZES[:3])
    out = np.zeros((n, *IMAGE_SHAPE), dtype=np.uint8)
    span = np.arange(SPRITE)
    # posY picks the rows, posX the columns: the patch's top-left corner is at (posY, posX).
    rows = f[:, 4, None, None] + span[None, :, None]  # (n, 32, 1)
    cols = f[:, 3, None, None] + span[None, None, :]  # (n, 1, 32)
    out[np.arange(n)[:, None, None], rows, cols] = _sprites()[sprite]
    return out.reshape(n, IMAGE_SHAPE[0] * IMAGE_SHAPE[1])


def split_indices(n_train: int, n_test: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint random train and test indices (uniform, without replacement; seeded).

    :func:`aelab.data.load` ``("dsprites")`` draws its subsample with this, so
    ``factors_of(split_indices(n_train, n_test, seed)[0])`` are the factors of its
    ``X_train``.
    """
    n_train = check_number(n_train, "n_train", "dsprites", kind=int, low=1, high=N_IMAGES - 1)
    n_test = check_number(n_test, "n_test", "dsprites", kind=int, low=1, high=N_IMAGES - n_train)
    idx = np.random.default_rng(seed).choice(N_IMAGES, size=n_train + n_test, replace=False)
    return idx[:n_train].astype(np.int64), idx[n_train:].astype(np.int64)
