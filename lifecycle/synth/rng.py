"""Named random streams and quota sampling.

Every component draws from its own stream, derived from the seed and a
stable name (plus a chunk number where data is built in chunks). Adding a
draw in one component therefore never shifts another component's data, and
a chunk can be rebuilt on its own.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def stream(seed: int, name: str, *index: int) -> np.random.Generator:
    """A generator determined only by ``seed``, ``name`` and ``index``."""
    key = [seed & 0xFFFFFFFF, seed >> 32, zlib.crc32(name.encode("utf-8")), *index]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))


def quota_labels(
    rng: np.random.Generator, n: int, shares: Sequence[float], min_each: int = 0
) -> npt.NDArray[np.int8]:
    """Shuffled labels ``0..k-1`` whose counts follow ``shares`` exactly.

    Quotas (rather than independent draws) keep small test populations
    stable: with ``min_each`` every label appears whenever ``n`` allows it.
    """
    weights = np.asarray(shares, dtype=np.float64)
    weights = weights / weights.sum()
    counts = np.floor(weights * n).astype(np.int64)
    if n >= min_each * len(counts):
        counts = np.maximum(counts, min_each)
    while counts.sum() > n:
        counts[int(np.argmax(counts))] -= 1
    remainder = n - int(counts.sum())
    if remainder > 0:
        order = np.argsort(-(weights * n - np.floor(weights * n)), kind="stable")
        for i in range(remainder):
            counts[order[i % len(order)]] += 1
    labels = np.repeat(np.arange(len(counts), dtype=np.int8), counts)
    rng.shuffle(labels)
    return labels


def quota_mask(
    rng: np.random.Generator, eligible: npt.NDArray[np.bool_], share: float, minimum: int = 0
) -> npt.NDArray[np.bool_]:
    """Mark ``round(share * eligible)`` (at least ``minimum``) eligible items."""
    idx = np.flatnonzero(eligible)
    k = min(len(idx), max(int(round(share * len(idx))), minimum))
    chosen = rng.choice(idx, size=k, replace=False) if k else idx[:0]
    mask = np.zeros(len(eligible), dtype=bool)
    mask[chosen] = True
    return mask


def log_uniform(
    rng: np.random.Generator, low: float, high: float, size: int
) -> npt.NDArray[np.float64]:
    """Values spread evenly on a log scale between ``low`` and ``high``."""
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def affine_permutation(
    rng: np.random.Generator, index: npt.ArrayLike, modulus: int
) -> npt.NDArray[np.int64]:
    """A seeded bijection of ``[0, modulus)``: distinct in, distinct out."""
    while True:
        a = int(rng.integers(modulus // 3, modulus - 1))
        if math.gcd(a, modulus) == 1:
            break
    b = int(rng.integers(0, modulus))
    i = np.asarray(index, dtype=np.int64)
    if a * max(int(i.max(initial=0)), 1) >= 2**62:
        raise ValueError("affine permutation would overflow int64")
    return (a * i + b) % modulus


def between(
    rng: np.random.Generator, low: npt.ArrayLike, high: npt.ArrayLike, size: int | None = None
) -> npt.NDArray[np.int64]:
    """Integers uniform in ``[low, high]`` (inclusive); ``high < low`` yields ``low``."""
    lo = np.asarray(low, dtype=np.int64)
    hi = np.maximum(np.asarray(high, dtype=np.int64), lo)
    n = size if size is not None else np.broadcast(lo, hi).size
    span = (hi - lo + 1).astype(np.float64)
    return (lo + np.floor(rng.random(n) * span).astype(np.int64)).astype(np.int64)
