"""Verification of candidate pairs: Jaccard, containment, and the duplicate kind.

Candidates are verified on bottom-k sketches of the distinct shingle hashes
(exact for bodies with at most ``sketch_size`` distinct shingles, about 6 KB
of text), because a 128-value MinHash estimate is too coarse near the
thresholds (standard error 0.035 at Jaccard 0.8); ``sketch_size=0`` verifies
with the signatures instead. See ``docs/dedup.md``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig
from wiredesk.transforms.dedup.records import CONTAINED, NEAR, Features
from wiredesk.transforms.dedup.signatures import minhash_jaccard, unpack_u32

__all__ = ["Verdict", "distinct_sorted", "bottom_k", "estimate_similarity", "minhash_similarity",
           "classify", "verify"]


class Verdict(NamedTuple):
    """The outcome of verifying one candidate pair."""

    #: "near", "contained", or None for not a duplicate.
    kind: Optional[str]
    jaccard: float
    containment: float


def distinct_sorted(hv: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique``, several times faster on small arrays)."""
    s = np.sort(hv)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def bottom_k(hv: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest distinct values of ``hv``, sorted (uint32)."""
    u = distinct_sorted(hv)
    return u[:k] if k and len(u) > k else u


def estimate_similarity(sk_a: np.ndarray, n_a: int, sk_b: np.ndarray, n_b: int,
                        k: int) -> Tuple[float, float]:
    """(Jaccard, containment of the smaller set in the larger) from two
    bottom-k sketches of sets of sizes ``n_a``, ``n_b``.

    A sketch holding its whole set (``n <= k``) is exact; otherwise only
    values up to the smaller sketch maximum are compared, where both sketches
    are complete samples.
    """
    if n_a == 0 or n_b == 0:
        return 0.0, 0.0
    lim = 0xFFFFFFFF
    if n_a > len(sk_a):
        lim = min(lim, int(sk_a[-1]))
    if n_b > len(sk_b):
        lim = min(lim, int(sk_b[-1]))
    if lim < 0xFFFFFFFF:
        sk_a = sk_a[:np.searchsorted(sk_a, lim, side="right")]
        sk_b = sk_b[:np.searchsorted(sk_b, lim, side="right")]
    inter = len(np.intersect1d(sk_a, sk_b, assume_unique=True))
    union = len(sk_a) + len(sk_b) - inter
    jac = inter / union if union else 0.0
    small = sk_a if (n_a, 0) <= (n_b, 1) else sk_b
    cont = inter / len(small) if len(small) else 0.0
    return jac, cont


def minhash_similarity(sig_a: np.ndarray, n_a: int, sig_b: np.ndarray, n_b: int) -> Tuple[float, float]:
    """(Jaccard, containment) estimated from two MinHash signatures and set sizes.

    Uses ``|A n B| = J (|A| + |B|) / (1 + J)``; capped at 1.
    """
    jac = minhash_jaccard(sig_a, sig_b)
    small = min(n_a, n_b)
    if small == 0:
        return jac, 0.0
    cont = min(1.0, jac * (n_a + n_b) / ((1.0 + jac) * small))
    return jac, cont


def classify(jaccard: float, containment: float, smaller_shingles: int,
             config: DedupConfig = DEFAULT_CONFIG) -> Optional[str]:
    """"near" (Jaccard at threshold), "contained" (the shorter body, with
    enough shingles, is contained in the longer) or None (not a duplicate)."""
    if jaccard >= config.jaccard_threshold:
        return NEAR
    if (smaller_shingles >= config.min_contained_shingles
            and containment >= config.containment_threshold):
        return CONTAINED
    return None


def verify(a: Features, b: Features, config: DedupConfig = DEFAULT_CONFIG) -> Verdict:
    """Verify one candidate pair on its sketches (or signatures when ``sketch_size=0``)."""
    na, nb = a.shingles, b.shingles
    if config.sketch_size:
        jac, cont = estimate_similarity(unpack_u32(a.sketch), na, unpack_u32(b.sketch), nb,
                                        config.sketch_size)
    else:
        jac, cont = minhash_similarity(unpack_u32(a.signature), na, unpack_u32(b.signature), nb)
    return Verdict(classify(jac, cont, min(na, nb), config), jac, cont)
