"""The math of binary codes, written once: the saturation-noise schedule, bit packing,
Hamming distances on packed codes, Hamming-ball enumeration, thresholds, and the
straight-through Bernoulli code.

Codes are packed as NumPy ``uint8`` rows, bit ``j`` of a code in byte ``j // 8`` (most
significant bit first, as :func:`numpy.packbits`); a ``b``-bit code takes ``ceil(b / 8)``
bytes, the unused low bits of the last byte are zero.

References
----------
Salakhutdinov & Hinton, *Semantic hashing*, Int. J. Approx. Reasoning 50 (2009) — noise
before the code sigmoid; Hamming-ball lookup in a hash table.
Shen et al., *NASH: Toward End-to-End Neural Architecture for Generative Semantic
Hashing*, ACL 2018 — Bernoulli code, straight-through gradient, KL to Bernoulli(1/2).
Bengio, Léonard & Courville, *Estimating or propagating gradients through stochastic
neurons* (2013) — the straight-through estimator.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import torch
from torch import Tensor

# Number of set bits of every byte value, for NumPy without np.bitwise_count (numpy < 2).
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
# Hamming balls larger than this many codes are refused (memory and time of one probe).
MAX_BALL_SIZE = 5_000_000


# --------------------------------------------------------------------------- noise schedule
def saturation_noise_std(epoch: int, ramp_epochs: int, max_std: float) -> float:
    """Std of the Gaussian noise added before the code sigmoid at ``epoch`` (0-based).

    Grows linearly from 0 at epoch 0 to ``max_std`` at epoch ``ramp_epochs`` and stays
    there; ``ramp_epochs=0`` gives ``max_std`` from the start. A pure function of the
    epoch, so a resumed run follows the same schedule.
    """
    if epoch < 0 or ramp_epochs < 0 or max_std < 0:
        raise ValueError(f"saturation_noise_std needs epoch, ramp_epochs and max_std >= 0; got "
                         f"{epoch}, {ramp_epochs}, {max_std}.")
    if ramp_epochs == 0:
        return float(max_std)
    return float(max_std) * min(1.0, epoch / ramp_epochs)


# --------------------------------------------------------------------------- packing
def n_bytes(n_bits: int) -> int:
    """Bytes of one packed ``n_bits`` code."""
    return (n_bits + 7) // 8


def pack_bits(bits) -> np.ndarray:
    """Pack 0/1 codes ``(n, b)`` (bool or integers) into ``(n, ceil(b/8))`` uint8 rows."""
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise ValueError(f"pack_bits expects codes of shape (n, n_bits); got shape {bits.shape}. "
                         "Reshape a single code with code.reshape(1, -1).")
    if bits.dtype != bool:
        if not np.isin(bits, (0, 1)).all():
            raise ValueError("pack_bits expects 0/1 or boolean codes; threshold real codes first "
                             "(e.g. codes > 0.5).")
        bits = bits.astype(bool)
    return np.packbits(bits, axis=1)


def unpack_bits(packed, n_bits: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: ``(n, ceil(b/8))`` uint8 → ``(n, n_bits)`` uint8 of 0/1."""
    packed = check_packed(packed, n_bits)
    return np.unpackbits(packed, axis=1, count=n_bits)


def check_packed(packed, n_bits: int, name: str = "codes") -> np.ndarray:
    """``packed`` as a C-contiguous ``(n, ceil(n_bits/8))`` uint8 array, or a clear error."""
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 2 or packed.shape[1] != n_bytes(n_bits):
        raise ValueError(
            f"{name} must be packed {n_bits}-bit codes: a uint8 array of shape (n, "
            f"{n_bytes(n_bits)}); got dtype {packed.dtype} and shape {packed.shape}. "
            "Pack 0/1 codes with pack_bits."
        )
    return np.ascontiguousarray(packed)


# --------------------------------------------------------------------------- distances
def popcount(a: np.ndarray) -> np.ndarray:
    """Set bits of every element of an unsigned integer array (same shape, uint8)."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(a)
    a = np.ascontiguousarray(a)
    counts = _POPCOUNT8[a.view(np.uint8)].reshape(*a.shape, a.itemsize)
    return counts.sum(-1, dtype=np.uint8)


def as_words(packed: np.ndarray) -> np.ndarray:
    """Packed uint8 rows viewed as uint64 words (zero-padded to a multiple of 8 bytes)."""
    n, width = packed.shape
    pad = (-width) % 8
    if pad:
        packed = np.concatenate([packed, np.zeros((n, pad), np.uint8)], axis=1)
    return np.ascontiguousarray(packed).view(np.uint64)


def hamming_distance(a, b, n_bits: int) -> np.ndarray:
    """Hamming distances between packed codes: ``(m, B)`` × ``(n, B)`` → ``(m, n)`` int32.

    XOR of 64-bit words and a popcount; memory is ``m · n · ceil(b/64)`` words, so call
    it on blocks of queries for a large database.
    """
    wa = as_words(check_packed(a, n_bits, "a"))
    wb = as_words(check_packed(b, n_bits, "b"))
    dist = np.zeros((wa.shape[0], wb.shape[0]), dtype=np.int32)
    for w in range(wa.shape[1]):
        dist += popcount(wa[:, w, None] ^ wb[None, :, w])
    return dist


# --------------------------------------------------------------------------- Hamming balls
def hamming_ball_size(n_bits: int, radius: int) -> int:
    """Σ_{i ≤ r} C(b, i): how many codes lie within Hamming radius ``r`` of a ``b``-bit code."""
    check_radius(radius, n_bits)
    return sum(math.comb(n_bits, i) for i in range(radius + 1))


def check_radius(radius: int, n_bits: int) -> int:
    """``radius`` as an int in ``[0, n_bits]``, or a clear error."""
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)):
        raise TypeError(f"radius must be an int; got {radius!r}.")
    if not 0 <= radius <= n_bits:
        raise ValueError(f"radius must lie in [0, n_bits] = [0, {n_bits}] for {n_bits}-bit codes; "
                         f"got {radius}. Use a radius of at most the code length.")
    return int(radius)


def hamming_ball_masks(n_bits: int, radius: int) -> np.ndarray:
    """Every XOR mask of at most ``radius`` set bits among ``n_bits``, packed.

    Shape ``(Σ_{i ≤ r} C(b, i), ceil(b/8))`` uint8, by increasing number of flips (the
    all-zero mask first). ``code ^ masks`` is the Hamming ball of ``code``.
    """
    size = hamming_ball_size(n_bits, radius)
    if size > MAX_BALL_SIZE:
        raise ValueError(f"A Hamming ball of radius {radius} in {n_bits} bits holds {size} codes "
                         f"(more than {MAX_BALL_SIZE}); use a smaller radius or k-NN search.")
    bits = np.zeros((size, n_bits), dtype=bool)
    row = 1
    for r in range(1, radius + 1):
        flips = np.array(list(combinations(range(n_bits), r)), dtype=np.intp)  # (C(b,r), r)
        rows = np.arange(row, row + len(flips))
        bits[rows[:, None], flips] = True
        row += len(flips)
    return np.packbits(bits, axis=1)


def hamming_ball(code, n_bits: int, radius: int) -> np.ndarray:
    """All packed codes within Hamming distance ``radius`` of one packed ``code`` (its own first)."""
    code = check_packed(np.asarray(code).reshape(1, -1), n_bits, "code")
    return code ^ hamming_ball_masks(n_bits, radius)


# --------------------------------------------------------------------------- thresholds
def median_thresholds(codes) -> np.ndarray:
    """Per-unit median of real codes ``(n, b)``: thresholds giving each bit a 50% rate."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[0] == 0:
        raise ValueError(f"median_thresholds needs real codes of shape (n >= 1, n_bits); got "
                         f"shape {codes.shape}.")
    return np.median(codes, axis=0)


def binarize_codes(codes, thresholds) -> np.ndarray:
    """``codes > thresholds`` (a scalar or one per unit), as bool ``(n, b)``."""
    return np.asarray(codes) > np.asarray(thresholds)


# --------------------------------------------------------------------------- Bernoulli codes
def straight_through_bernoulli(q: Tensor) -> Tensor:
    """b ~ Bernoulli(q) in the forward pass, gradient of the identity in q backward."""
    return q + (torch.bernoulli(q.detach()) - q).detach()


def bernoulli_kl_uniform(q: Tensor, eps: float = 1e-7) -> Tensor:
    """KL(Bernoulli(q) ‖ Bernoulli(1/2)) summed over code units, shape ``(batch,)``.

    = Σ_j q_j log(2 q_j) + (1 − q_j) log(2 (1 − q_j)); zero at q = 1/2, at most b·log 2.
    """
    q = q.clamp(eps, 1.0 - eps)
    return (q * torch.log(2.0 * q) + (1.0 - q) * torch.log(2.0 * (1.0 - q))).sum(1)
