"""Data sets: the embedded default (scikit-learn's digits), MNIST and user files; files
larger than memory read in chunks (:func:`open_chunked`) and written chunk by chunk
(:class:`NpyWriter`, :func:`map_to_npy`).

>>> import aelab
>>> ds = aelab.data.load("digits")
>>> ds.X_train.shape, ds.image_shape
((1437, 64), (8, 8))
"""

from aelab.data.datasets import DATASETS, Dataset, Split, load, load_dsprites
from aelab.data.files import FILE_READERS
from aelab.data.ratings import load_movielens
from aelab.data.streaming import (
    ChunkedArray,
    NpyChunks,
    NpyWriter,
    ParquetChunks,
    map_to_npy,
    open_chunked,
    parquet_frames,
)
from aelab.data.text import TextCorpus, load_20newsgroups
from aelab.data.transforms import binarize, dynamic_binarize

__all__ = ["DATASETS", "FILE_READERS", "ChunkedArray", "Dataset", "NpyChunks", "NpyWriter",
           "ParquetChunks", "Split", "TextCorpus", "binarize", "dynamic_binarize", "load",
           "load_dsprites", "load_movielens", "load_20newsgroups", "map_to_npy", "open_chunked",
           "parquet_frames"]
