"""Typed records passed between the steps of the events stage.

Each is a ``typing.NamedTuple`` registered with Beam's ``RowCoder`` (as in
``wiredesk.schemas.records``), so runners encode them by schema, never by
pickling, and every step says what it takes and gives. Packed vectors travel
as ``bytes`` (see ``vectors.pack_vector``). No postponed annotations here:
RowCoder needs the real types (with them every field would be pickled).
"""
from typing import Dict, List, NamedTuple, Optional

import apache_beam as beam

from wiredesk.schemas.records import Article

__all__ = ["ArticleFeatures", "BlockMember", "BlockEntry", "Edge", "Neighbour", "NeighbourVector", "Label",
           "PriorMember", "EventGroup"]


class ArticleFeatures(NamedTuple):
    """An article's raw feature counts (``features.raw_features``) and time."""

    article_id: str
    #: Seconds since the epoch; None when the article has no time.
    time: Optional[float]
    #: Feature ("t:word", "h:word", "e:entity" ...) -> count.
    features: Dict[str, float]


class BlockMember(NamedTuple):
    """What an article (or, in the second pass, a first-pass cluster) brings
    to each of its blocks."""

    article_id: str
    time: Optional[float]
    #: ``vectors.pack_vector`` output.
    vector: bytes
    #: All of the member's blocking keys, highest-weighted first.
    keys: List[str]
    #: Mean similarity to the run's reference sample (``background``); 0 until measured.
    background: float = 0.0


class BlockEntry(NamedTuple):
    """A member as one of its blocks holds it: its blocking keys as packed
    key ids (``blocking.pack_keys``: 4 bytes a key, not a list of strings, in
    each of its blocks), all a block needs to score a pair once. Its vector
    has float16 weights (``vectors.half_vector``), 6 bytes a feature."""

    article_id: str
    time: Optional[float]
    vector: bytes
    key_ids: bytes
    background: float = 0.0


class Edge(NamedTuple):
    """A scored candidate pair: ``lo`` < ``hi``, and their similarity."""

    lo: str
    hi: str
    score: float


class Neighbour(NamedTuple):
    """One article's neighbour by the first scores (value under the other's id)."""

    article_id: str
    score: float


class NeighbourVector(NamedTuple):
    """A neighbour's current vector, sent to the article that asked for it.
    Field order is what ``vectors.expand_vector`` unpacks."""

    score: float
    article_id: str
    vector: bytes


class Label(NamedTuple):
    """A node of the graph (an article, or a first-pass cluster) and the
    label of its connected piece (the smallest node id reached so far)."""

    node: str
    label: str


class PriorMember(NamedTuple):
    """An earlier run's canonical article (``--state``): its member as that run vectorized it, and its event."""

    member: BlockMember
    event_id: str


class EventGroup(NamedTuple):
    """One event of the run, resolved once: its id, the earlier events merged
    into it (``--state``), and its articles (copies included, sorted, copies
    with their canonical's entities), before they get the id."""

    event_id: str
    merged_event_ids: List[str]
    articles: List[Article]


for _record in (ArticleFeatures, BlockMember, BlockEntry, Edge, Neighbour, NeighbourVector, Label, PriorMember,
                EventGroup):
    beam.coders.registry.register_coder(_record, beam.coders.RowCoder)
