"""Named data sets and the :func:`load` entry point."""

from __future__ import annotations

import difflib
import gzip
import hashlib
import logging
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aelab.data import dsprites
from aelab.data.files import FILE_READERS, read_file

logger = logging.getLogger("aelab")


@dataclass
class Dataset:
    """Train/test arrays (float32 features, int labels where they exist).

    ``X_test``/``y_test`` are None for a user file loaded without ``test_size``.
    ``image_shape`` is (H, W) for image data, else None.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    image_shape: tuple[int, ...] | None = None
    feature_names: list[str] | None = None

    @property
    def n_features(self) -> int:
        return int(np.prod(self.X_train.shape[1:]))

    def held_out(self) -> Split:
        """The split to report results on: the test split if there is one, else the training data."""
        if self.X_test is not None:
            return Split("test", self.X_test, self.y_test)
        return Split("train", self.X_train, self.y_train)


@dataclass
class Split:
    """One part of a :class:`Dataset`: its name (``train``/``test``), examples and labels."""

    name: str
    X: np.ndarray
    y: np.ndarray | None


def _digits(data_dir=None, seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 digits, scaled to [0, 1]; fixed stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    X = (bunch.data / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, bunch.target, test_size=0.2, random_state=seed,
                                          stratify=bunch.target)
    return Dataset("digits", Xtr, ytr.astype(np.int64), Xte, yte.astype(np.int64), (8, 8))


# SHA-256 of the *decompressed* IDX files: any faithful gzip of them verifies.
MNIST_FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def parse_idx(raw: bytes) -> np.ndarray:
    """Parse an IDX file (magic 0x0000 0x08 ndim, big-endian int32 dims, uint8 data)."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"IDX payload has {data.size} bytes, header says {tuple(dims)}")
    return data.reshape(tuple(int(d) for d in dims))


def _mnist_dir(data_dir) -> Path | None:
    # An explicit data_dir is the only place looked at; $AELAB_DATA_DIR is the fallback.
    if data_dir is not None:
        candidates = [Path(data_dir) / "mnist", Path(data_dir)]
    else:
        env = os.environ.get("AELAB_DATA_DIR")
        candidates = [Path(env) / "mnist"] if env else []
    for c in candidates:
        if all((c / f"{name}.gz").is_file() for name in MNIST_FILES):
            return c
    if data_dir is not None:
        raise ValueError(
            f"MNIST files not found in {str(data_dir)!r} (looked for {sorted(MNIST_FILES)} "
            "with .gz, directly or under mnist/)."
        )
    return None


def _download_mnist(target: Path) -> None:  # pragma: no cover - needs the network
    target.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        dest = target / f"{name}.gz"
        if dest.is_file():
            continue
        last = None
        for mirror in MNIST_MIRRORS:
            try:
                logger.info("downloading %s%s.gz", mirror, name)
                tmp = dest.with_suffix(".part")
                urllib.request.urlretrieve(f"{mirror}{name}.gz", tmp)
                os.replace(tmp, dest)
                break
            except OSError as err:
                last = err
        else:
            raise ValueError(f"Could not download MNIST file {name}.gz ({last}). Put the four "
                             "files in a folder and pass data_dir=... or set AELAB_DATA_DIR.")


def _mnist(data_dir=None, seed: int = 0) -> Dataset:
    """MNIST, 60k/10k, pixels scaled to [0, 1], checksum-verified (decompressed bytes)."""
    folder = _mnist_dir(data_dir)
    if folder is None:
        folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aelab" / "mnist"
        _download_mnist(folder)
    arrays = {}
    for name, digest in MNIST_FILES.items():
        raw = gzip.decompress((folder / f"{name}.gz").read_bytes())
        if hashlib.sha256(raw).hexdigest() != digest:
            raise ValueError(f"{folder / name}.gz fails its checksum: the file is damaged or "
                             "not the canonical MNIST. Replace it.")
        arrays[name] = parse_idx(raw)
    to_x = lambda a: (a.reshape(a.shape[0], -1).astype(np.float32) / 255.0)  # noqa: E731
    return Dataset(
        "mnist",
        to_x(arrays["train-images-idx3-ubyte"]),
        arrays["train-labels-idx1-ubyte"].astype(np.int64),
        to_x(arrays["t10k-images-idx3-ubyte"]),
        arrays["t10k-labels-idx1-ubyte"].astype(np.int64),
        (28, 28),
    )


def load_dsprites(data_dir=None, seed: int = 0, *, n_train: int = 20_000,
                  n_test: int = 5_000) -> Dataset:
    """A random subsample of dSprites (generated, see :mod:`aelab.data.dsprites`).

    Parameters
    ----------
    data_dir : ignored
        Nothing is read: the images are rendered from their factors.
    seed : int, default=0
        Draws the subsample: ``dsprites.split_indices(n_train, n_test, seed)``, whose
        ``dsprites.factors_of`` give every example's factor classes.
    n_train, n_test : int, default=20000, 5000
        Images in each split (737,280 in all; 3 GB as float32).

    Returns
    -------
    Dataset
        64×64 binary images as float32 rows of 4096 in {0, 1}; labels: the shape class
        (0 square, 1 ellipse, 2 heart).
    """
    train, test = dsprites.split_indices(n_train, n_test, seed)
    shape = dsprites.FACTOR_NAMES.index("shape")
    return Dataset("dsprites", dsprites.images(train).astype(np.float32),
                   dsprites.factors_of(train)[:, shape],
                   dsprites.images(test).astype(np.float32), dsprites.factors_of(test)[:, shape],
                   dsprites.IMAGE_SHAPE)


DATASETS: dict[str, Callable[..., Dataset]] = {"digits": _digits, "mnist": _mnist,
                                               "dsprites": load_dsprites}


def load(name: str, data_dir=None, *, label_column: str | None = None,
         test_size: float | None = None, seed: int = 0) -> Dataset:
    """Load a named data set or a user file.

    Parameters
    ----------
    name : str or path
        ``"digits"`` (embedded default), ``"mnist"``, ``"dsprites"`` (generated; a
        20,000/5,000 subsample, others via :func:`load_dsprites`), or a path to a ``.npy``,
        ``.npz``, ``.csv`` or ``.parquet`` file of numeric columns.
    data_dir : path, optional
        Where named data sets live (default: ``$AELAB_DATA_DIR``, then a cache).
    label_column : str, optional
        For CSV/Parquet: a column to return as labels instead of a feature.
    test_size : float in (0, 1), optional
        For user files: hold out this fraction (seeded) as the test split.
    seed : int, default=0

    Returns
    -------
    Dataset
    """
    if name in DATASETS:
        return DATASETS[name](data_dir=data_dir, seed=seed)
    path = Path(str(name))
    if path.suffix.lower() in FILE_READERS or path.exists():
        X, y, names = read_file(path, label_column=label_column)
        ds = Dataset(path.stem, X, y, feature_names=names)
        if test_size is not None:
            if not 0.0 < test_size < 1.0:
                raise ValueError(f"test_size must be in (0, 1); got {test_size!r}.")
            rng = np.random.default_rng(seed)
            perm = rng.permutation(X.shape[0])
            n_test = max(1, int(round(test_size * X.shape[0])))
            te, tr = perm[:n_test], perm[n_test:]
            ds.X_train, ds.X_test = X[tr], X[te]
            if y is not None:
                ds.y_train, ds.y_test = y[tr], y[te]
        return ds
    close = difflib.get_close_matches(str(name), DATASETS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown data set {name!r}.{hint} Use one of {sorted(DATASETS)} or a path to a file "
        f"ending in {sorted(FILE_READERS)}."
    )
