"""Typed records of the state stage (``--state``), RowCoder-encoded like every wiredesk record.

No postponed annotations here: RowCoder needs the real types.
"""
from typing import NamedTuple, Optional

import apache_beam as beam

from wiredesk.transforms.dedup.records import ExactMember, Features, Rank
from wiredesk.transforms.events.records import BlockMember

__all__ = ["StateCanonical", "StateFile", "NewStory", "StateKey"]


class StateCanonical(NamedTuple):
    """One canonical story kept for the next run (a row of ``canonicals``)."""

    article_id: str
    #: ``published_at``, else ``ingested_at``, seconds since the epoch.
    seen_at: Optional[float]
    exact_key: str
    rank: Rank
    #: None for a short body (exact path only).
    features: Optional[Features]
    member: BlockMember
    event_id: str


class StateFile(NamedTuple):
    """A state file as written: what the manifest records of it, and checks on read."""

    table: str
    #: Relative to the version folder: ``canonicals/part-00000.parquet``.
    name: str
    rows: int
    size: int
    sha256: str


class NewStory(NamedTuple):
    """What the state takes of one of this run's canonical articles."""

    seen_at: Optional[float]
    event_id: str


class StateKey(NamedTuple):
    """An article's exact key and exact-group member (its rank and MinHash features)."""

    exact_key: str
    member: ExactMember


for _record in (StateCanonical, StateFile, NewStory, StateKey):
    beam.coders.registry.register_coder(_record, beam.coders.RowCoder)
