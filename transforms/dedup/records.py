"""Typed records passed between the dedup steps.

Each is a ``typing.NamedTuple`` registered with Beam's ``RowCoder`` (as in
``wiredesk.schemas.records``), so runners encode them by schema, never by
pickling, and every step says what it takes and gives. Records that are
compared (``Rank``, ``BucketMember``) order like the plain tuples they
replace: field order is the comparison order.

No ``from __future__ import annotations`` here: Beam infers the schemas from
the evaluated annotations, and string annotations would make every field
"any" (pickled).
"""
from typing import NamedTuple, Optional

import apache_beam as beam

__all__ = ["EXACT", "NEAR", "CONTAINED", "Rank", "Features", "ExactMember", "BucketMember",
           "CandidatePair", "Edge", "Assignment"]

#: Duplicate kinds (``Duplicate.kind``).
EXACT = "exact"
NEAR = "near"
CONTAINED = "contained"


class Rank(NamedTuple):
    """Canonical order of an article: smaller is better (see ``canonical.rank_key``)."""

    #: 0: parseable ``published_at``; 1: unparseable; 2: none.
    undated: int
    #: ``published_at`` in microseconds since the epoch (0 unless ``undated == 0``).
    epoch_us: int
    #: Unparseable ``published_at`` text ("" unless ``undated == 1``).
    timestamp_text: str
    #: Minus the body length in characters: longer bodies first.
    minus_length: int
    #: Position of the source in ``DedupConfig.source_priority`` (unlisted: its length).
    source_rank: int
    article_id: str


class Features(NamedTuple):
    """What verification needs of one shingled body; the output of the signature step."""

    article_id: str
    rank: Rank
    #: Distinct shingles of the body.
    shingles: int
    #: MinHash signature, little-endian uint32 values.
    signature: bytes
    #: Bottom-k sketch of the distinct shingle hashes, sorted little-endian uint32.
    sketch: bytes


class ExactMember(NamedTuple):
    """One article of an exact-key group; ``features`` None for short bodies."""

    rank: Rank
    article_id: str
    features: Optional[Features]


class BucketMember(NamedTuple):
    """One article in an LSH bucket (the value under its band key)."""

    rank: Rank
    article_id: str


class CandidatePair(NamedTuple):
    """Two articles sharing an LSH bucket; ``better_id`` ranks first."""

    better_id: str
    worse_id: str


class Edge(NamedTuple):
    """A verified duplicate pair; ``better`` ranks before ``worse``."""

    better_id: str
    better_rank: Rank
    worse_id: str
    worse_rank: Rank
    kind: str
    jaccard: float
    containment: float


class Assignment(NamedTuple):
    """The canonical article a copy points to, and how it matched."""

    canonical_id: str
    kind: str
    jaccard: float
    containment: float


for _record in (Rank, Features, ExactMember, BucketMember, CandidatePair, Edge, Assignment):
    beam.coders.registry.register_coder(_record, beam.coders.RowCoder)
