"""MinHash signatures, bit-for-bit equal to ``datasketch.MinHash``.

``signature(text, config)`` equals ``datasketch.MinHash(num_perm, seed,
hashfunc=hash_function(config), scheme=config.scheme)`` updated with every
shingle of ``shingles(text)``. It is computed vectorized: one hash per
shingle, one ``(shingles x num_perm)`` matrix operation per block of shingles
into a reused buffer, one ``min`` over the shingle axis. The two datasketch
schemes are described in ``docs/dedup.md``.
"""
from __future__ import annotations

import functools
import threading
from typing import Optional

import numpy as np

from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig
from wiredesk.transforms.dedup.shingles import shingle_hashes

__all__ = ["permutations", "signature_from_hashes", "signature", "minhash_jaccard",
           "pack_u32", "unpack_u32"]

_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)
_CHUNK = 2048           # shingles per matrix block: bounds each buffer to 1 MB
_BUFFERS = threading.local()
_MAX_BUFFERS = 4        # per thread; one per (dtype, num_perm) in use


def pack_u32(values: np.ndarray) -> bytes:
    """uint32 values as little-endian bytes (how records carry signatures and sketches)."""
    return values.astype("<u4").tobytes()


def unpack_u32(data: bytes) -> np.ndarray:
    """The inverse of :func:`pack_u32` (a read-only view)."""
    return np.frombuffer(data, dtype="<u4")


@functools.lru_cache(maxsize=16)
def permutations(num_perm: int = 128, seed: int = 1, scheme: str = "affine32"):
    """datasketch's permutation parameters ``(a, b)`` for ``(num_perm, seed, scheme)``.

    Drawn from ``np.random.RandomState(seed)`` in datasketch's exact order;
    read-only arrays, cached for the few configurations a process uses.
    """
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        ab = np.array([(gen.randint(1, _MERSENNE, dtype=np.uint64),
                        gen.randint(0, _MERSENNE, dtype=np.uint64))
                       for _ in range(num_perm)], dtype=np.uint64).T
        a, b = ab[0].copy(), ab[1].copy()
    elif scheme == "affine32":
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    else:
        raise ValueError("unknown scheme %r" % scheme)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def _buffer(dtype, num_perm):
    """A reused (_CHUNK x num_perm) scratch matrix, per thread (it is written into)."""
    key = (np.dtype(dtype).str, num_perm)
    cache = getattr(_BUFFERS, "cache", None)
    if cache is None:
        cache = _BUFFERS.cache = {}
    buf = cache.get(key)
    if buf is None:
        if len(cache) >= _MAX_BUFFERS:
            cache.clear()
        buf = cache[key] = np.empty((_CHUNK, num_perm), dtype=dtype)
    return buf


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 32-bit finalizer, as datasketch's affine schemes pre-mix."""
    h = h ^ (h >> np.uint32(16))
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signature_from_hashes(hv: np.ndarray, config: DedupConfig = DEFAULT_CONFIG) -> np.ndarray:
    """MinHash signature of the shingle hashes ``hv``: datasketch's ``hashvalues``.

    uint32 for "affine32", uint64 for "legacy" (as datasketch stores them).
    An empty input gives datasketch's empty signature (all max hash).
    """
    a, b = permutations(config.num_perm, config.seed, config.scheme)
    if config.scheme == "affine32":
        out = np.full(config.num_perm, 0xFFFFFFFF, dtype=np.uint32)
        if len(hv) == 0:
            return out
        h = _fmix32(np.asarray(hv, dtype=np.uint32))
        buf = _buffer(np.uint32, config.num_perm)
        for start in range(0, len(h), _CHUNK):
            part = h[start:start + _CHUNK]
            blk = buf[:len(part)]
            np.multiply(part[:, None], a, out=blk)
            np.add(blk, b, out=blk)
            np.minimum(out, blk.min(axis=0), out=out)
        return out
    out = np.full(config.num_perm, _MAX32, dtype=np.uint64)
    if len(hv) == 0:
        return out
    h = np.asarray(hv, dtype=np.uint64)
    buf = _buffer(np.uint64, config.num_perm)
    with np.errstate(over="ignore"):
        for start in range(0, len(h), _CHUNK):
            part = h[start:start + _CHUNK]
            blk = buf[:len(part)]
            np.multiply(part[:, None], a, out=blk)
            np.add(blk, b, out=blk)
            np.remainder(blk, _MERSENNE, out=blk)
            np.bitwise_and(blk, _MAX32, out=blk)
            np.minimum(out, blk.min(axis=0), out=out)
    return out


def signature(text: Optional[str], config: DedupConfig = DEFAULT_CONFIG) -> np.ndarray:
    """MinHash signature of ``text``'s shingles."""
    return signature_from_hashes(shingle_hashes(text, config), config)


def minhash_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """datasketch's Jaccard estimate: the fraction of equal signature values."""
    return float(np.count_nonzero(sig_a == sig_b)) / float(len(sig_a))
