"""Semantic hashing of texts as a scikit-learn estimator: ``fit`` on documents, ``transform``
to packed binary codes, ``index`` a collection, ``query`` it by Hamming radius or k-NN
(Salakhutdinov & Hinton 2009; NASH, Shen et al. 2018).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from aelab.applications.hashing import (
    HashIndex,
    binary_codes,
    document_features,
    nearest_documents,
    neighbor_targets,
)
from aelab.core.hashing import n_bytes
from aelab.core.io import atomic_write_files, file_entry, json_bytes, read_listed_tensors, tensors_to_bytes
from aelab.core.validation import check_choice, check_number, check_widths
from aelab.models import create
from aelab.models.persistence import load_model
from aelab.sklearn._base import ESTIMATOR_FILE, estimator_document, read_saved
from aelab.training import train

MODEL_DIR = "model"
ARRAYS_FILE = "hasher.safetensors"
# Each model's settings chosen on 20 Newsgroups' validation split (the last 2,000 shuffled
# training documents querying the rest, 32 bits; benchmarks/results/hashing_20ng.md), given
# the number of epochs; ``model_params`` override them.
_CHOSEN = {
    "semantic_hashing": lambda epochs: {"noise_std": 2.0, "noise_ramp_epochs": epochs // 2},
    "nash": lambda epochs: {"beta": 0.02},
}
_HASHING_MODELS = tuple(_CHOSEN)


class SemanticHasher(BaseEstimator):
    """Binary codes for documents, learned by a hashing autoencoder.

    Parameters
    ----------
    model : {"semantic_hashing", "nash"}, default="semantic_hashing"
        The hashing model: a sigmoid code with noise before it that grows over the first
        half of training (Salakhutdinov & Hinton 2009; ``noise_std=2``), or a Bernoulli
        code (NASH; ``beta=0.02``) — each with the settings chosen on 20 Newsgroups'
        validation split, where ``semantic_hashing`` with 100 neighbours scored best.
    n_bits : int, default=32
        Code length b.
    vocabulary_size : int, default=2000
        Words kept by the TF-IDF vectoriser (the most frequent in the training texts, English
        stop words removed). Ignored when ``fit`` gets a count matrix.
    hidden : tuple of int, default=(500,)
        Encoder hidden widths (the decoder mirrors them).
    neighbors : int, default=100
        The model learns to reconstruct each training document's words pooled with those of
        its ``neighbors`` nearest training documents (cosine of their TF-IDF rows, or of the
        rows of the matrix ``fit`` was given), from the document alone (NbrReg, Chaidaroon
        et al. 2018); 0: its own words only (the original models). Codes of new documents
        still come from their own words. Finding the neighbours is exact: its time grows
        with the square of the number of documents.
        100 was chosen for ``semantic_hashing`` on 20 Newsgroups' validation split (among 0,
        20, 50, 100; ``nash`` chose 20): see ``benchmarks/results/hashing_20ng.md``.
    epochs : int, default=15
    batch_size : int, default=100
    lr : float, default=3e-3
    model_params : dict, optional
        Further options of the model, over the chosen settings above, e.g.
        ``{"noise_std": 4.0}`` (the paper's) or ``{"beta": 1.0}`` (the full KL).
    random_state : int, default=0
    device : str, default="cpu"

    Examples
    --------
    >>> hasher = SemanticHasher(n_bits=16, epochs=2)  # doctest: +SKIP
    >>> hasher.fit(texts).index(texts)                # doctest: +SKIP
    >>> hasher.query("graphics card drivers", radius=2)  # doctest: +SKIP
    """

    def __init__(self, model: str = "semantic_hashing", n_bits: int = 32,
                 vocabulary_size: int = 2000, hidden=(500,), neighbors: int = 100,
                 epochs: int = 15, batch_size: int = 100,
                 lr: float = 3e-3, model_params=None, random_state: int = 0, device: str = "cpu"):
        self.model = model
        self.n_bits = n_bits
        self.vocabulary_size = vocabulary_size
        self.hidden = hidden
        self.neighbors = neighbors
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.model_params = model_params
        self.random_state = random_state
        self.device = device

    # ------------------------------------------------------------------ features
    def _features(self, docs) -> np.ndarray:
        """Documents (strings) or a count/TF-IDF matrix → rows summing to 1."""
        if isinstance(docs, str):
            raise TypeError("Pass a list of documents, not one string: e.g. [text].")
        if sp.issparse(docs) or isinstance(docs, np.ndarray) and docs.ndim == 2:
            if self.vectorizer_ is not None:
                raise TypeError(f"This {type(self).__name__} was fitted on texts: pass texts.")
            if docs.shape[1] != self.n_features_in_:
                raise ValueError(f"Expected {self.n_features_in_} word columns (as in fit); got "
                                 f"{docs.shape[1]}.")
            return document_features(docs)
        docs = list(docs)
        if self.vectorizer_ is None:
            raise TypeError(f"This {type(self).__name__} was fitted on a count matrix: pass one.")
        if not all(isinstance(d, str) for d in docs):
            raise TypeError("Documents must be strings (or pass a count matrix).")
        return document_features(self.vectorizer_.transform(docs))

    def fit(self, X, y=None) -> SemanticHasher:
        """Fit the vectoriser (for texts) and the hashing model.

        ``X``: a list of strings, or a (sparse) word-count / TF-IDF matrix ``(n, V)``.
        Every document must contain a vocabulary word.
        """
        owner = type(self).__name__
        check_choice(self.model, _HASHING_MODELS, "model", owner)
        n_bits = check_number(self.n_bits, "n_bits", owner, kind=int, low=1)
        vocab = check_number(self.vocabulary_size, "vocabulary_size", owner, kind=int, low=1)
        hidden = check_widths(self.hidden, "hidden", owner)
        epochs = check_number(self.epochs, "epochs", owner, kind=int, low=1)
        neighbors = check_number(self.neighbors, "neighbors", owner, kind=int, low=0)
        if isinstance(X, str):
            raise TypeError("Pass a list of documents, not one string.")
        if sp.issparse(X) or isinstance(X, np.ndarray) and X.ndim == 2:
            self.vectorizer_, self.n_features_in_ = None, X.shape[1]
            Z = self._features(X)
            words = X
        else:
            docs = list(X)
            if not docs:
                raise ValueError("No documents given: pass a non-empty list of strings.")
            self.vectorizer_ = TfidfVectorizer(max_features=vocab, stop_words="english",
                                               sublinear_tf=True)
            if not all(isinstance(d, str) for d in docs):
                raise TypeError("Documents must be strings (or pass a count matrix).")
            try:  # one pass over the texts: the vocabulary and their TF-IDF rows together
                tfidf = self.vectorizer_.fit_transform(docs)
            except ValueError as err:  # "empty vocabulary"
                raise ValueError(f"The documents give a vocabulary with no words ({err}); pass "
                                 "texts with words that are not only English stop words.") from None
            self.n_features_in_ = len(self.vectorizer_.vocabulary_)
            Z = document_features(tfidf)
            words = tfidf
        self.model_ = create(self.model, input_shape=Z.shape[1], latent_dim=n_bits, hidden=hidden,
                             likelihood="multinomial", seed=self.random_state,
                             **{**_CHOSEN[self.model](epochs), **(self.model_params or {})})
        k = min(neighbors, Z.shape[0] - 1)
        target = neighbor_targets(Z, nearest_documents(words, k)) if k else None
        train(self.model_, Z, target, epochs=epochs, batch_size=self.batch_size, lr=self.lr,
              seed=self.random_state, device=self.device)
        self.index_ = None
        return self

    def transform(self, X) -> np.ndarray:
        """Packed binary codes, uint8 ``(n, ceil(n_bits / 8))`` (bit j: byte j // 8, MSB first)."""
        check_is_fitted(self)
        return binary_codes(self.model_, self._features(X))

    def index(self, X) -> SemanticHasher:
        """Hash the documents ``X`` into the table that :meth:`query` searches (ids = positions)."""
        self.index_ = HashIndex(self.transform(X), self.model_.latent_dim)
        return self

    def query(self, X, radius: int | None = None, k: int | None = None):
        """Indexed documents near each query document.

        ``radius``: ids within that Hamming radius (hash-table lookup, one array per query);
        ``k``: ids of the k Hamming-nearest (an array ``(n_queries, k)``). Give one of them.
        """
        check_is_fitted(self)
        if self.index_ is None:
            raise ValueError("Nothing is indexed: call index(documents) first.")
        if (radius is None) == (k is None):
            raise ValueError("Give exactly one of radius= (hash-table lookup) or k= (k-NN).")
        if isinstance(X, str):
            X = [X]
        codes = self.transform(X)
        if k is not None:
            return self.index_.knn(codes, k)[0]
        return [self.index_.lookup(c, radius) for c in codes]

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Directory ``path``: estimator.json (parameters, vocabulary), hasher.safetensors
        (IDF weights, indexed codes), model/ (config.json + model.safetensors). No pickle."""
        check_is_fitted(self)
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValueError(f"Cannot save to {str(path)!r}: it exists and is not a directory.")
        arrays = {}
        vocabulary = None
        if self.vectorizer_ is not None:
            vocabulary = sorted(self.vectorizer_.vocabulary_, key=self.vectorizer_.vocabulary_.get)
            arrays["idf"] = torch.from_numpy(self.vectorizer_.idf_.astype(np.float64))
        if self.index_ is not None:
            arrays["index_codes"] = torch.from_numpy(self.index_.codes)
        blob = tensors_to_bytes(arrays)
        self.model_.save(path / MODEL_DIR)
        params = self.get_params(deep=False)
        params["hidden"] = list(params["hidden"])
        doc = estimator_document(self, params, {
            "vocabulary": vocabulary, "n_features_in_": int(self.n_features_in_),
            "arrays": file_entry(ARRAYS_FILE, blob)})
        atomic_write_files({path / ARRAYS_FILE: blob, path / ESTIMATOR_FILE: json_bytes(doc)})

    @classmethod
    def load(cls, path) -> SemanticHasher:
        """Rebuild a hasher saved by :meth:`save`."""
        path = Path(path)
        doc = read_saved(path, cls)
        # hashers saved before ``neighbors`` existed were fitted without neighbours
        params = {"neighbors": 0, **doc["params"]}
        params["hidden"] = tuple(params["hidden"])
        est = cls(**params)
        fitted = doc["fitted"]
        arrays = read_listed_tensors(path, fitted["arrays"], path / ESTIMATOR_FILE)
        est.n_features_in_ = fitted["n_features_in_"]
        est.vectorizer_ = None
        if fitted["vocabulary"] is not None:
            vec = TfidfVectorizer(vocabulary=fitted["vocabulary"], stop_words="english",
                                  sublinear_tf=True)
            vec.idf_ = arrays["idf"].numpy()
            est.vectorizer_ = vec
        est.model_ = load_model(path / MODEL_DIR)
        est.index_ = None
        if "index_codes" in arrays:
            codes = arrays["index_codes"].numpy()
            if codes.ndim != 2 or codes.shape[1] != n_bytes(est.model_.latent_dim):
                raise ValueError(f"{path / ARRAYS_FILE} holds codes of the wrong shape; save again.")
            est.index_ = HashIndex(codes, est.model_.latent_dim)
        return est
