"""Scoring generated images: Fréchet distance, manifold precision/recall and class accuracy
in the features of a small convolutional classifier trained by aelab.

Inception features (the FID of Heusel et al. 2017) do not fit 28×28 digits, so the
feature network here is a :class:`~aelab.models.conv_classifier.ConvClassifier` trained
once on the data set's training images with a fixed seed and schedule by the one trainer,
cached as safetensors + JSON, and rebuilt the same way wherever the cache is missing —
never a downloaded weight file. Scores are computed in its penultimate layer
(:meth:`ConvClassifier.features`); see :mod:`aelab.core.sample_quality` for the math.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from aelab.core.sample_quality import (
    check_features,
    frechet_distance_from_statistics,
    gaussian_statistics,
    manifold_precision_recall,
)
from aelab.core.seeding import seeded
from aelab.core.validation import check_number, check_widths
from aelab.data.datasets import Dataset, load
from aelab.models.conv_classifier import ConvClassifier
from aelab.models.persistence import read_config
from aelab.training import train

# The MNIST feature network's schedule: Adam, cosine decay, batch 128, seed 0, CPU.
# It reaches >= 99% test accuracy (benchmarks/sample_quality_floor.py measures it).
FEATURE_EPOCHS = 5
FEATURE_BATCH = 128
FEATURE_LR = 1e-3
FEATURE_CHANNELS = (32, 64)
FEATURE_HIDDEN = 128


def default_cache_dir() -> Path:
    """Where trained feature networks are kept: ``$AELAB_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/aelab`` (``~/.cache/aelab``), beside aelab's downloaded data."""
    env = os.environ.get("AELAB_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aelab"


def feature_network(dataset: Dataset, cache_dir, *, seed: int = 0, epochs: int = FEATURE_EPOCHS,
                    channels=FEATURE_CHANNELS, hidden: int = FEATURE_HIDDEN,
                    batch_size: int = FEATURE_BATCH,
                    lr: float = FEATURE_LR) -> ConvClassifier:
    """A :class:`ConvClassifier` trained on ``dataset``'s training images, cached.

    The first call trains it (fixed ``seed``, Adam with a cosine learning-rate decay, on
    the CPU so the weights are the same on every machine) and saves it to
    ``cache_dir/conv_classifier-<dataset>-seed<seed>-e<epochs>-c<channels>-h<hidden>-b<batch_size>-lr<lr>/``;
    it is written under a temporary name and renamed into place, so an interrupted run
    or a concurrent one never leaves a half-written network. Later calls load it.

    Parameters
    ----------
    dataset : Dataset
        Labelled images (``image_shape`` set, pixels in [0, 1], ``y_train`` integers),
        e.g. ``aelab.data.load("mnist")``.
    cache_dir : path
        Folder holding the cached networks (created if needed).
    seed : int, default=0
        Seeds the initialisation and the training.
    epochs, batch_size, lr :
        The training schedule; part of the cache key.
    channels, hidden :
        The network's architecture (see :class:`ConvClassifier`); part of the cache key.

    Returns
    -------
    ConvClassifier
        In eval mode. ``read_config(path)["metadata"]`` of its cache folder records its
        test accuracy and training time.
    """
    owner = "feature_network"
    if not isinstance(dataset, Dataset) or dataset.image_shape is None or dataset.y_train is None:
        raise TypeError(f"{owner} needs a labelled image Dataset (image_shape and y_train set), "
                        f"e.g. aelab.data.load('mnist'); got {type(dataset).__name__}.")
    path = _cache_path(cache_dir, dataset.name, seed, epochs, channels, hidden, batch_size, lr, owner)
    if (path / "config.json").is_file():
        return ConvClassifier.load(path).eval()
    seed, epochs = int(seed), int(epochs)
    channels = check_widths(channels, "channels", owner, allow_empty=False)
    shape = (1, *dataset.image_shape) if len(dataset.image_shape) == 2 else tuple(dataset.image_shape)
    n_classes = int(dataset.y_train.max()) + 1
    key = path.name

    with seeded(seed):
        net = ConvClassifier(input_shape=shape, n_classes=n_classes, channels=channels,
                             hidden=hidden)
    t0 = time.perf_counter()
    train(net, dataset.X_train, dataset.y_train, epochs=epochs, batch_size=batch_size, lr=lr,
          lr_schedule="cosine", seed=seed, device="cpu")
    metadata = {"dataset": dataset.name, "seed": seed, "epochs": epochs, "batch_size": batch_size,
                "lr": lr, "lr_schedule": "cosine", "train_seconds": time.perf_counter() - t0}
    if dataset.X_test is not None and dataset.y_test is not None:
        metadata["test_accuracy"] = net.score(dataset.X_test, dataset.y_test)
    tmp = path.with_name(f".{key}.tmp-{os.getpid()}")
    net.save(tmp, metadata=metadata)
    try:
        tmp.rename(path)
    except OSError:  # another process finished first: keep its copy (the same weights)
        shutil.rmtree(tmp, ignore_errors=True)
    return ConvClassifier.load(path).eval()


def _cache_path(cache_dir, name: str, seed, epochs, channels, hidden, batch_size, lr,
                owner: str) -> Path:
    """The cache folder of a feature network: its data set's name and the whole schedule."""
    seed = check_number(seed, "seed", owner, kind=int, low=0)
    epochs = check_number(epochs, "epochs", owner, kind=int, low=1)
    channels = check_widths(channels, "channels", owner, allow_empty=False)
    return Path(cache_dir) / (f"conv_classifier-{name}-seed{seed}-e{epochs}-c{'x'.join(map(str, channels))}"
                              f"-h{hidden}-b{batch_size}-lr{lr:g}")


def feature_network_metadata(network_dir) -> dict:
    """What :func:`feature_network` recorded with a cached network (accuracy, schedule)."""
    return read_config(network_dir)["metadata"]


def mnist_feature_network(data_dir=None, seed: int = 0, *, cache_dir=None,
                          epochs: int = FEATURE_EPOCHS) -> ConvClassifier:
    """The MNIST feature network of aelab's sample-quality metric (cached; see
    :func:`feature_network`).

    Parameters
    ----------
    data_dir : path, optional
        Where MNIST lives (default ``$AELAB_DATA_DIR``; see :func:`aelab.data.load`).
    seed : int, default=0
    cache_dir : path, optional
        Default :func:`default_cache_dir`.
    epochs : int, default=FEATURE_EPOCHS
    """
    cache_dir = cache_dir or default_cache_dir()
    cached = _cache_path(cache_dir, "mnist", seed, epochs, FEATURE_CHANNELS, FEATURE_HIDDEN,
                         FEATURE_BATCH, FEATURE_LR,
                         "mnist_feature_network")
    if (cached / "config.json").is_file():  # no need to read MNIST for a network already trained
        return ConvClassifier.load(cached).eval()
    return feature_network(load("mnist", data_dir=data_dir), cache_dir, seed=seed, epochs=epochs)


@dataclass(frozen=True)
class SampleQualityResult:
    """Scores of one set of samples against the reference set.

    ``accuracy`` is the feature network's accuracy on the samples' intended labels
    (a conditional model's), None when no labels were given.
    """

    frechet_distance: float
    precision: float
    recall: float
    accuracy: float | None
    n_samples: int
    n_reference: int

    def as_dict(self) -> dict:
        """The fields as a JSON-ready dict."""
        return asdict(self)


class SampleQuality:
    """Scores samples against a reference set in a feature network's penultimate layer.

    Parameters
    ----------
    network : ConvClassifier
        The feature network, e.g. :func:`mnist_feature_network`.
    reference : array-like of shape (n, *input_shape) or (n, n_features)
        Real images in [0, 1] (e.g. the test set); their features are computed once.
    k : int, default=3
        Neighbour count of the manifold radii (Kynkäänniemi et al. 2019).
    batch_size : int, default=1024
        Images per forward pass, and rows per block of pairwise distances.

    Examples
    --------
    >>> import numpy as np
    >>> from aelab.models.conv_classifier import ConvClassifier
    >>> net = ConvClassifier(input_shape=(1, 8, 8), channels=(4,), hidden=8)
    >>> real = np.random.default_rng(0).random((50, 64))
    >>> SampleQuality(net, real).score(real).frechet_distance
    0.0
    """

    def __init__(self, network: ConvClassifier, reference, k: int = 3, batch_size: int = 1024):
        if not isinstance(network, ConvClassifier):
            raise TypeError(f"The 'network' parameter of SampleQuality must be a ConvClassifier "
                            f"(e.g. mnist_feature_network()); got {type(network).__name__}.")
        self.network = network
        self.k = check_number(k, "k", "SampleQuality", kind=int, low=1)
        self.batch_size = check_number(batch_size, "batch_size", "SampleQuality", kind=int, low=1)
        self.reference_features_ = self.features(reference, "reference")
        self.reference_mean_, self.reference_cov_ = gaussian_statistics(self.reference_features_)

    def features(self, X, name: str = "X") -> np.ndarray:
        """Penultimate features of images ``X`` (float64, ``(n, hidden)``), checked finite."""
        return check_features(self.network.transform(X, self.batch_size), name, "SampleQuality",
                              min_rows=self.k + 1)

    def score(self, samples, labels=None) -> SampleQualityResult:
        """Fréchet distance, precision and recall of ``samples``; with ``labels``, the
        network's accuracy on them.

        Parameters
        ----------
        samples : array-like of shape (n, *input_shape) or (n, n_features)
            Generated images, pixel values in [0, 1] as the network was trained on
            (values outside are passed as they are: clip them first if the model's
            outputs are unbounded).
        labels : array-like of int, optional
            The class each sample was drawn for (a conditional model).
        """
        feats = self.features(samples, "samples")
        pr = manifold_precision_recall(self.reference_features_, feats, k=self.k,
                                       batch_size=self.batch_size)
        accuracy = None
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)
            if labels.shape[0] != feats.shape[0] or labels.dtype.kind not in "iu":
                raise ValueError(f"labels must hold one integer class per sample ({feats.shape[0]}); "
                                 f"got shape {labels.shape} of dtype {labels.dtype}.")
            accuracy = float(np.mean(self.network.predict(samples, self.batch_size) == labels))
        fd = frechet_distance_from_statistics(self.reference_mean_, self.reference_cov_,
                                              *gaussian_statistics(feats))
        return SampleQualityResult(frechet_distance=fd, precision=pr.precision, recall=pr.recall,
                                   accuracy=accuracy, n_samples=int(feats.shape[0]),
                                   n_reference=int(self.reference_features_.shape[0]))
