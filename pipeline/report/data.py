"""The tables of a finished run, read back for the report.

Every table is optional (a run without rejects or duplicates has no such
directory) and may hold any number of files per partition; a column that an
older run lacks reads as missing. Everything here is sorted with total keys,
so the same tables give the same report.
"""
from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional, Sequence

import pyarrow.dataset as ds

ARTICLE_COLUMNS = ("article_id", "source", "headline", "body", "url", "published_at", "status", "word_count",
                   "duplicate_of", "event_id")
EVENT_COLUMNS = ("event_id", "title", "first_seen", "last_seen", "article_count", "canonical_count",
                 "source_count", "sources", "top_entities")
DUPLICATE_COLUMNS = ("article_id", "canonical_id", "kind", "jaccard", "containment")
REJECT_COLUMNS = ("stage", "reason", "origin", "position", "raw", "raw_length")
EXAMPLES_PER_REASON = 3


def read_rows(output: str, table: str, columns: Sequence[str]) -> List[Dict]:
    """The rows of ``output/table`` (every Parquet file below it, Hive partitions
    included), only ``columns``; a column the table lacks is None. No directory,
    no rows."""
    path = os.path.join(output, table)
    if not os.path.isdir(path):
        return []
    dataset = ds.dataset(path, format="parquet", partitioning="hive")
    present = [c for c in columns if c in dataset.schema.names]
    rows = dataset.to_table(columns=present).to_pylist()
    missing = [c for c in columns if c not in present]
    for row in rows:
        row.update(dict.fromkeys(missing))
    return rows


def read_manifest(output: str) -> Optional[Dict]:
    try:
        with open(os.path.join(output, "_manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


@dataclass
class Copy:
    story: Story
    kind: Optional[str]
    jaccard: Optional[float]
    containment: Optional[float]


@dataclass
class Story:
    article_id: str
    source: Optional[str]
    headline: Optional[str]
    excerpt: str
    url: Optional[str]
    published_at: Optional[datetime]
    status: Optional[str]
    word_count: Optional[int]
    duplicate_of: Optional[str]
    copies: List[Copy] = field(default_factory=list)


@dataclass
class Event:
    number: int
    event_id: str
    title: Optional[str]
    first_seen: Optional[datetime]
    last_seen: Optional[datetime]
    dated: bool
    article_count: int
    canonical_count: int
    sources: List[str]
    top_entities: List[Dict]
    stories: List[Story]
    undated_stories: int


@dataclass
class RejectReason:
    stage: str
    reason: str
    count: int
    examples: List[Dict]


@dataclass
class Report:
    output: str
    manifest: Optional[Dict]
    events: List[Event]
    loose_stories: List[Story]
    source_volume: List[tuple]
    rejects: List[RejectReason]
    reject_count: int
    article_count: int
    undated_story_count: int


def _time_key(value: Optional[datetime]) -> tuple:
    return (value is None, value.isoformat() if value else "")


def story_order(story: Story) -> tuple:
    """Chronological, undated last, then by key."""
    return (*_time_key(story.published_at), story.article_id)


def excerpt(text: Optional[str], limit: int = 280) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _stories(articles: List[Dict], duplicates: List[Dict]) -> Dict[str, List[Story]]:
    """Canonical stories by event id, each holding its copies."""
    by_id = {}
    for row in articles:
        by_id[row["article_id"]] = Story(
            article_id=row["article_id"], source=row["source"], headline=row["headline"],
            excerpt=excerpt(row["body"]), url=row["url"], published_at=row["published_at"], status=row["status"],
            word_count=row["word_count"], duplicate_of=row["duplicate_of"])
    links = {d["article_id"]: d for d in duplicates}
    by_event: Dict[str, List[Story]] = defaultdict(list)
    event_of = {row["article_id"]: row["event_id"] for row in articles}
    for story in sorted(by_id.values(), key=story_order):
        canonical_id = story.duplicate_of or (links.get(story.article_id) or {}).get("canonical_id")
        canonical = by_id.get(canonical_id) if canonical_id and canonical_id != story.article_id else None
        if canonical is not None and canonical.duplicate_of is None \
                and event_of[canonical.article_id] == event_of[story.article_id]:
            link = links.get(story.article_id) or {}
            canonical.copies.append(Copy(story, link.get("kind"), link.get("jaccard"), link.get("containment")))
        else:  # a canonical story, or a copy whose canonical is not beside it: shown on its own
            by_event[event_of[story.article_id] or ""].append(story)
    return by_event


def event_order(event: Event) -> tuple:
    """Largest first, then the most recent (undated after dated), then by id."""
    return (-event.article_count, event.last_seen is None,
            -(event.last_seen.timestamp()) if event.last_seen else 0.0, event.event_id)


def _events(rows: List[Dict], by_event: Dict[str, List[Story]]) -> List[Event]:
    events = []
    for row in rows:
        stories = by_event.pop(row["event_id"], [])
        members = [s for top in stories for s in (top, *(c.story for c in top.copies))]
        # first_seen falls back to the ingest time when no member has a publication time: such an event is undated.
        dated = row["first_seen"] is not None and (not members or any(s.published_at for s in members))
        events.append(Event(
            number=0, event_id=row["event_id"], title=row["title"], first_seen=row["first_seen"],
            last_seen=row["last_seen"] or row["first_seen"], dated=dated,
            article_count=row["article_count"] if row["article_count"] is not None else len(members),
            canonical_count=row["canonical_count"] if row["canonical_count"] is not None else len(stories),
            sources=sorted(s for s in (row["sources"] or []) if s is not None),
            top_entities=list(row["top_entities"] or []), stories=stories,
            undated_stories=sum(1 for s in members if s.published_at is None)))
    events.sort(key=event_order)
    for number, event in enumerate(events, 1):
        event.number = number
    return events


def _rejects(rows: List[Dict]) -> List[RejectReason]:
    groups: Dict[tuple, List[Dict]] = defaultdict(list)
    for row in rows:
        groups[(row["stage"] or "", row["reason"] or "")].append(row)
    reasons = []
    for (stage, reason), members in groups.items():
        members.sort(key=lambda r: (r["origin"] or "", r["position"] or "", r["raw"] or ""))
        reasons.append(RejectReason(stage, reason, len(members), members[:EXAMPLES_PER_REASON]))
    reasons.sort(key=lambda r: (-r.count, r.stage, r.reason))
    return reasons


def load_report(output: str) -> Report:
    """Everything the report shows, from the tables under ``output``."""
    articles = read_rows(output, "articles", ARTICLE_COLUMNS)
    by_event = _stories(articles, read_rows(output, "duplicates", DUPLICATE_COLUMNS))
    events = _events(read_rows(output, "events", EVENT_COLUMNS), by_event)
    loose = sorted((s for stories in by_event.values() for s in stories), key=story_order)
    volume = Counter((row["source"], row["duplicate_of"] is not None) for row in articles)
    sources = sorted({source for source, _ in volume}, key=lambda s: (s is None, s or ""))
    source_volume = sorted(((s, volume[(s, False)], volume[(s, True)]) for s in sources),
                           key=lambda v: (-(v[1] + v[2]), v[0] is None, v[0] or ""))
    rejects = read_rows(output, "rejects", REJECT_COLUMNS)
    return Report(output=output, manifest=read_manifest(output), events=events, loose_stories=loose,
                  source_volume=source_volume, rejects=_rejects(rejects), reject_count=len(rejects),
                  article_count=len(articles),
                  undated_story_count=sum(1 for row in articles if row["published_at"] is None))
