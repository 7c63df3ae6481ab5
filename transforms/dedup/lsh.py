"""LSH banding: band keys, the S-curve, and candidate pairs of a bucket.

A pair with Jaccard ``s`` shares at least one of ``b`` bands of ``r`` rows
with probability ``1 - (1 - s**r)**b``; ``docs/dedup.md`` explains why the
default is 42 bands x 3 rows. Buckets are capped (``max_bucket_size``) so one
boilerplate-heavy bucket cannot produce a quadratic number of pairs.
"""
from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import struct
from typing import Iterable, Iterator, List, Sequence, Tuple

import numpy as np

from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig
from wiredesk.transforms.dedup.records import BucketMember, CandidatePair

__all__ = ["candidate_probability", "choose_bands", "band_keys", "bucket_pairs"]


def candidate_probability(s: float, bands: int, rows: int) -> float:
    """P(a pair with Jaccard ``s`` shares at least one band) = 1-(1-s^r)^b."""
    return 1.0 - (1.0 - s ** rows) ** bands


def choose_bands(num_perm: int = 128, jaccard: float = 0.8, trimmed_jaccard: float = 0.5,
                 probability: float = 0.99) -> Tuple[int, int]:
    """(bands, rows): the largest ``r`` with ``b = num_perm // r`` bands such
    that pairs at ``jaccard`` and at ``trimmed_jaccard`` both become
    candidates with at least ``probability``. Larger ``r`` means fewer false
    candidates (about ``b * s**r`` for unrelated pairs)."""
    best = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if min(candidate_probability(jaccard, bands, rows),
               candidate_probability(trimmed_jaccard, bands, rows)) >= probability:
            best = (bands, rows)
    if best is None:
        raise ValueError("no banding of %d permutations reaches the target" % num_perm)
    return best


@functools.lru_cache(maxsize=16)
def _band_prefixes(b: int) -> Tuple[bytes, ...]:
    return tuple(struct.pack(">H", i) for i in range(b))


def band_keys(sig: np.ndarray, config: DedupConfig = DEFAULT_CONFIG) -> List[bytes]:
    """One stable bytes key per band: band index (2 bytes) + the band's row values.

    Rows as little-endian uint32 (collision free, stable across processes and
    runners); bands wider than 16 bytes are hashed with BLAKE2b to 16 bytes.
    """
    b, r = config.bands, config.rows
    rows = np.ascontiguousarray(sig[:b * r], dtype="<u4").tobytes()
    width = 4 * r
    prefixes = _band_prefixes(b)
    if width <= 16:
        return [p + rows[o:o + width] for p, o in zip(prefixes, range(0, b * width, width))]
    blake = hashlib.blake2b
    return [p + blake(rows[o:o + width], digest_size=16).digest()
            for p, o in zip(prefixes, range(0, b * width, width))]


def _all_pairs(members: Sequence[BucketMember]) -> Iterator[CandidatePair]:
    for i, better in enumerate(members):
        for worse in members[i + 1:]:
            if better.article_id != worse.article_id:
                yield CandidatePair(better.article_id, worse.article_id)


def _anchor_pairs(members: Iterable[BucketMember],
                  anchors: Sequence[BucketMember]) -> Iterator[CandidatePair]:
    for member in members:
        for anchor in anchors:
            if anchor < member and anchor.article_id != member.article_id:
                yield CandidatePair(anchor.article_id, member.article_id)


def bucket_pairs(members: Iterable[BucketMember], config: DedupConfig = DEFAULT_CONFIG
                 ) -> Tuple[bool, Iterator[CandidatePair]]:
    """``(oversized, candidate pairs)`` of one LSH bucket, each pair in rank order.

    Up to ``max_bucket_size`` members every pair is enumerated. A larger
    bucket (``oversized``) pairs every member with its ``oversized_anchors``
    best-ranked members only, in two passes over ``members`` (which must be
    re-iterable, as GroupByKey values are), so memory stays bounded.
    """
    cap = config.max_bucket_size
    head = list(itertools.islice(iter(members), cap + 1))
    if len(head) < 2:
        return False, iter(())
    if len(head) <= cap:
        head.sort()
        return False, _all_pairs(head)
    anchors = heapq.nsmallest(config.oversized_anchors, members)
    return True, _anchor_pairs(members, anchors)
