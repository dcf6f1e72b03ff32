"""Semantic hashing for retrieval: documents → word features → binary codes → a hash table.

Salakhutdinov & Hinton, *Semantic hashing* (2009): a query looks up its own code and every
code within Hamming radius r (the Hamming ball enumerated, each probed in the table — no
scan of the corpus), then optionally re-ranks. Beside it: exact Hamming k-NN, precision@k
and precision–recall over Hamming radii, and ITQ (Gong & Lazebnik, *Iterative
quantization*, CVPR 2011), the strongest unsupervised linear baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from aelab.core.hashing import (
    binarize_codes,
    check_packed,
    check_radius,
    hamming_ball_masks,
    hamming_distance,
    pack_bits,
)

# Queries per block of a Hamming scan: bounds the (block, n_database) distance matrix.
_BLOCK = 256


# --------------------------------------------------------------------------- features
def document_features(matrix) -> np.ndarray:
    """Word counts or TF-IDF rows ``(n, V)`` as float32 rows summing to 1 (word distributions).

    The input of a model with ``likelihood="multinomial"``. A row with no vocabulary word
    cannot be normalised: it raises, naming the documents.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    if matrix.shape[0] == 0:
        raise ValueError("No documents given: pass at least one document.")
    if matrix.shape[1] == 0:
        raise ValueError("The vocabulary has no words: fit the vectoriser on documents that "
                         "contain words (check stop words, min_df and max_features).")
    if matrix.data.size and matrix.data.min() < 0:
        raise ValueError("Word features must be non-negative (counts or TF-IDF).")
    totals = np.asarray(matrix.sum(1)).ravel()
    empty = np.flatnonzero(totals == 0)
    if empty.size:
        raise ValueError(
            f"{empty.size} document(s) have no word of the vocabulary (indices "
            f"{empty[:10].tolist()}{' ...' if empty.size > 10 else ''}): they cannot be "
            "hashed. Remove them first (e.g. keep texts whose vectorised row has a nonzero sum)."
        )
    return np.asarray((sp.diags(1.0 / totals) @ matrix).toarray(), dtype=np.float32)


def nearest_documents(tfidf, k: int, block: int = 512) -> np.ndarray:
    """Indices ``(n, k)`` of each document's ``k`` nearest other documents by cosine
    similarity of its TF-IDF row (nearest first; ties by index). Exact, by blocks of
    ``block`` rows: time grows as n², memory as ``block × n``."""
    tfidf = sp.csr_matrix(tfidf, dtype=np.float64)
    n = tfidf.shape[0]
    k = int(k)
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and the number of documents - 1 ({n - 1}); got {k}.")
    norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(1)).ravel())
    unit = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ tfidf
    out = np.empty((n, k), dtype=np.int64)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        sim = (unit[lo:hi] @ unit.T).toarray()
        sim[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf  # not its own neighbour
        part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        # nearest first; a stable sort on (−similarity, index) breaks ties by index
        rows = np.arange(hi - lo)[:, None]
        order = np.lexsort((part, -sim[rows, part]), axis=1)
        out[lo:hi] = part[rows, order]
    return out


def neighbor_targets(X, neighbors) -> np.ndarray:
    """Each row of ``X`` averaged with the rows of its neighbours (``neighbors``: indices
    ``(n, k)``, e.g. from :func:`nearest_documents`): ``(x_i + Σ_j x_j) / (k + 1)``.

    The rows a hashing model learns to reconstruct from ``x_i`` alone when trained with
    ``y=neighbor_targets(...)`` (a model that ``reconstructs_y``). A short document names few
    of its topic's words; pooled with its nearest documents', the target spells the topic
    out, and the code is pushed to carry it rather than the document's rarest words
    (NbrReg: Chaidaroon, Ebesu & Fang, SIGIR 2018). Rows that sum to 1 stay so.
    """
    X = np.asarray(X)
    neighbors = np.asarray(neighbors)
    if neighbors.ndim != 2 or neighbors.shape[0] != X.shape[0]:
        raise ValueError(f"neighbors must be indices of shape (n, k) with n = {X.shape[0]} rows "
                         f"of X; got shape {neighbors.shape}.")
    n, k = neighbors.shape
    weights = sp.csr_matrix((np.full(n * (k + 1), 1.0 / (k + 1)),
                             (np.repeat(np.arange(n), k + 1),
                              np.column_stack([np.arange(n), neighbors]).ravel())),
                            shape=(n, n))
    return np.asarray(weights @ X.reshape(n, -1), dtype=X.dtype).reshape(X.shape)


# --------------------------------------------------------------------------- binary codes
def binary_codes(model, X, thresholds=None, batch_size: int = 1024) -> np.ndarray:
    """Packed binary codes of ``X`` by a trained model: ``encode(X) > threshold``.

    The threshold is ``thresholds`` if given, else the model's fixed ``code_threshold``
    (a capability of binary-code models, e.g. 0.5 for a sigmoid code); a model without
    one needs ``thresholds`` (e.g. :func:`aelab.core.hashing.median_thresholds` of the
    database codes).
    """
    codes = model.encode(X, batch_size=batch_size)
    if thresholds is None:
        thresholds = getattr(model, "code_threshold", None)
        if thresholds is None:
            raise ValueError(f"Model {model.name!r} has no fixed code threshold; pass thresholds="
                             "median_thresholds(model.encode(X_database)).")
    return pack_bits(binarize_codes(codes, thresholds))


# --------------------------------------------------------------------------- the hash table
class HashIndex:
    """Packed binary codes in a hash table (code → document ids), for radius lookups and
    exact Hamming k-NN.

    Parameters
    ----------
    codes : ndarray of shape (n, ceil(n_bits / 8)), uint8
        Packed codes of the database (:func:`aelab.core.hashing.pack_bits`).
    n_bits : int
        Code length b.

    Examples
    --------
    >>> import numpy as np
    >>> from aelab.core.hashing import pack_bits
    >>> index = HashIndex(pack_bits(np.array([[0, 1, 1, 0], [1, 1, 1, 0]])), n_bits=4)
    >>> index.lookup(pack_bits(np.array([[0, 1, 1, 0]]))[0], radius=1).tolist()
    [0, 1]
    """

    def __init__(self, codes, n_bits: int):
        if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)) or n_bits < 1:
            raise ValueError(f"n_bits must be a positive int; got {n_bits!r}.")
        self.n_bits = int(n_bits)
        self.codes = check_packed(codes, self.n_bits)
        if self.codes.shape[0] == 0:
            raise ValueError("Cannot index an empty set of codes: pass at least one code.")
        keys = self._keys(self.codes)
        order = np.argsort(keys, kind="stable")  # ids grouped by code, each group ascending
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        groups = np.split(order, starts[1:])
        self.table: dict[bytes, np.ndarray] = dict(zip(sorted_keys[starts].tolist(), groups))
        self._masks: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.codes.shape[0]

    def _keys(self, codes: np.ndarray) -> np.ndarray:
        """One hashable bytes key per packed code."""
        return np.ascontiguousarray(codes).view(f"V{codes.shape[1]}").ravel()

    def lookup(self, code, radius: int = 2) -> np.ndarray:
        """Ids of the documents whose code lies within Hamming ``radius`` of ``code``.

        Probes the Σ_{i ≤ r} C(b, i) codes of the Hamming ball in the table — no scan of
        the database. Ids come grouped by distance (exact matches first).
        """
        radius = check_radius(radius, self.n_bits)
        code = check_packed(np.asarray(code).reshape(1, -1), self.n_bits, "code")
        masks = self._masks.get(radius)
        if masks is None:
            masks = self._masks[radius] = hamming_ball_masks(self.n_bits, radius)
        table = self.table
        hits = [table[k] for k in self._keys(code ^ masks).tolist() if k in table]
        return np.concatenate(hits) if hits else np.zeros(0, dtype=np.intp)

    def knn(self, codes, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact Hamming k-NN of each packed query code: ``(ids, distances)``, each ``(m, k)``.

        Ties are broken by database order (stable sort).
        """
        codes = check_packed(codes, self.n_bits, "query codes")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(self):
            raise ValueError(f"k must be an int in [1, {len(self)}] (the indexed documents); "
                             f"got {k!r}.")
        ids, dists = [], []
        for i in range(0, codes.shape[0], _BLOCK):
            d = hamming_distance(codes[i:i + _BLOCK], self.codes, self.n_bits)
            part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < len(self) else \
                np.broadcast_to(np.arange(len(self)), d.shape)
            pd = np.take_along_axis(d, part, 1)
            # order the k by (distance, id): stable on ids
            key = pd.astype(np.int64) * (len(self) + 1) + part
            o = np.argsort(key, axis=1)
            ids.append(np.take_along_axis(part, o, 1))
            dists.append(np.take_along_axis(pd, o, 1))
        return np.concatenate(ids), np.concatenate(dists)


# --------------------------------------------------------------------------- evaluation
@dataclass
class RetrievalCurve:
    """Precision and recall of retrieving everything within each Hamming radius 0..b.

    ``precision[r]``: mean over the queries that retrieve anything within r;
    ``recall[r]``: mean over all queries; ``retrieved[r]``: mean number retrieved.
    """

    radius: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    retrieved: np.ndarray


def precision_at_k(query_codes, db_codes, query_labels, db_labels, n_bits: int,
                   k: int = 100) -> float:
    """Mean over queries of the fraction of the k Hamming-nearest database codes that share
    the query's label (ties broken by database order)."""
    ids, _ = HashIndex(db_codes, n_bits).knn(query_codes, k)
    return float((np.asarray(db_labels)[ids] == np.asarray(query_labels)[:, None]).mean())


def hamming_pr_curve(query_codes, db_codes, query_labels, db_labels, n_bits: int) -> RetrievalCurve:
    """Precision–recall of Hamming-ball retrieval at every radius 0..b (relevant = same label)."""
    qc = check_packed(query_codes, n_bits, "query codes")
    dc = check_packed(db_codes, n_bits, "database codes")
    ql, dl = np.asarray(query_labels), np.asarray(db_labels)
    rel_hist = np.zeros((qc.shape[0], n_bits + 1))
    all_hist = np.zeros((qc.shape[0], n_bits + 1))
    for i in range(0, qc.shape[0], _BLOCK):
        d = hamming_distance(qc[i:i + _BLOCK], dc, n_bits)
        rel = dl[None, :] == ql[i:i + _BLOCK, None]
        rows = np.arange(d.shape[0])[:, None] * (n_bits + 1)
        size = d.shape[0] * (n_bits + 1)
        all_hist[i:i + d.shape[0]] = np.bincount((rows + d).ravel(), minlength=size).reshape(-1, n_bits + 1)
        rel_hist[i:i + d.shape[0]] = np.bincount((rows + d)[rel], minlength=size).reshape(-1, n_bits + 1)
    retrieved, relevant = all_hist.cumsum(1), rel_hist.cumsum(1)
    n_relevant = np.maximum(relevant[:, -1:], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(retrieved > 0, relevant / retrieved, np.nan)
    return RetrievalCurve(np.arange(n_bits + 1), np.nanmean(prec, 0),
                          (relevant / n_relevant).mean(0), retrieved.mean(0))


# --------------------------------------------------------------------------- ITQ
class ITQ:
    """Iterative quantization: PCA to b dimensions, then the rotation R minimising
    ‖B − V R‖_F² with B = sign(V R) (Gong & Lazebnik 2011).

    Parameters
    ----------
    n_bits : int
        Code length b (at most the number of features).
    n_iter : int, default=50
    seed : int, default=0
        Seeds the initial random rotation.
    """

    def __init__(self, n_bits: int, n_iter: int = 50, seed: int = 0):
        self.n_bits, self.n_iter, self.seed = n_bits, n_iter, seed

    def fit(self, X) -> ITQ:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 2 or not 1 <= self.n_bits <= X.shape[1]:
            raise ValueError(f"ITQ needs X of shape (n >= 2, d >= n_bits={self.n_bits}); got "
                             f"{X.shape}.")
        self.mean_ = X.mean(0)
        # top-b principal directions of the centred data: eigenvectors of the covariance
        xc = X - self.mean_
        _, vecs = np.linalg.eigh(xc.T @ xc)
        self.components_ = vecs[:, ::-1][:, : self.n_bits]  # (d, b)
        v = (X - self.mean_) @ self.components_
        rng = np.random.default_rng(self.seed)
        r, _ = np.linalg.qr(rng.normal(size=(self.n_bits, self.n_bits)))
        for _ in range(self.n_iter):
            b = np.where(v @ r >= 0, 1.0, -1.0)
            u, _, wt = np.linalg.svd(b.T @ v)  # R = argmin ‖B − V R‖ = (U W^T)^T
            r = (u @ wt).T
        self.rotation_ = r
        return self

    def transform(self, X) -> np.ndarray:
        """Packed b-bit codes of ``X``."""
        v = (np.asarray(X, dtype=np.float64) - self.mean_) @ self.components_ @ self.rotation_
        return pack_bits(v >= 0)


__all__ = ["HashIndex", "ITQ", "RetrievalCurve", "binary_codes", "document_features",
           "hamming_pr_curve", "precision_at_k"]
