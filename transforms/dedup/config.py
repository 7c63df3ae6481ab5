"""DedupConfig: the one configuration every dedup step shares.

Frozen (hashable, picklable), so the signature, banding and verification steps
can never disagree about seeds, shingle size or thresholds. Parameter choices
(the LSH S-curve) are explained in ``docs/dedup.md``.
"""
from __future__ import annotations

import dataclasses
from typing import Tuple

__all__ = ["DedupConfig", "DEFAULT_CONFIG"]


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    """Parameters shared by every dedup step. Frozen: hashable and picklable."""

    #: MinHash permutations (signature length).
    num_perm: int = 128
    #: Seed of datasketch's permutation parameters.
    seed: int = 1
    #: Tokens per shingle.
    shingle_size: int = 5
    #: Shingle hash function: "wdhash32" (vectorized) or "sha1" (datasketch's default).
    hashfunc: str = "wdhash32"
    #: datasketch permutation scheme: "affine32" (datasketch >= 2.0 default) or "legacy".
    scheme: str = "affine32"
    #: LSH bands x rows (see docs/dedup.md for the S-curve).
    bands: int = 42
    rows: int = 3
    #: "near": estimated Jaccard of the two bodies' shingle sets at least this.
    jaccard_threshold: float = 0.8
    #: "contained": containment of the shorter body in the longer at least this ...
    containment_threshold: float = 0.9
    #: ... when the shorter body has at least this many distinct shingles.
    min_contained_shingles: int = 50
    #: Bottom-k verification sketch size; 0 verifies with the MinHash signature.
    sketch_size: int = 1024
    #: Buckets with more members than this are "oversized": not all pairs are
    #: enumerated, each member is only paired with the bucket's best-ranked
    #: ``oversized_anchors`` members.
    max_bucket_size: int = 64
    oversized_anchors: int = 8
    #: Sources in order of preference for the canonical copy (after date and length).
    source_priority: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.num_perm < 1 or self.shingle_size < 1:
            raise ValueError("num_perm and shingle_size must be positive")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise ValueError("need bands * rows <= num_perm, got %d x %d > %d"
                             % (self.bands, self.rows, self.num_perm))
        if self.hashfunc not in ("wdhash32", "sha1"):
            raise ValueError("hashfunc must be 'wdhash32' or 'sha1'")
        if self.scheme not in ("affine32", "legacy"):
            raise ValueError("scheme must be 'affine32' or 'legacy'")
        for name in ("jaccard_threshold", "containment_threshold"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError("%s must be in (0, 1]" % name)
        if self.max_bucket_size < 2 or self.oversized_anchors < 1:
            raise ValueError("max_bucket_size >= 2 and oversized_anchors >= 1 required")
        if self.sketch_size < 0:
            raise ValueError("sketch_size must be >= 0")
        if not isinstance(self.source_priority, tuple):
            object.__setattr__(self, "source_priority", tuple(self.source_priority))


DEFAULT_CONFIG = DedupConfig()
