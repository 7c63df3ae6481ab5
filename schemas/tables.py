"""Explicit pyarrow schemas of every table wiredesk writes. Never inferred.

Timestamps travel between stages as RFC 3339 UTC strings (portable through
every runner's coders) and become ``timestamp[us, UTC]`` columns here.
"""
from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

ENTITY = pa.struct([
    pa.field("text", pa.string(), nullable=False),
    pa.field("label", pa.string(), nullable=False),
    pa.field("norm", pa.string(), nullable=False),
])

ARTICLES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("headline", pa.string()),
        pa.field("headline_original", pa.string()),
        pa.field("body", pa.string(), nullable=False),
        pa.field("body_original", pa.string()),
        pa.field("byline", pa.string()),
        pa.field("dateline", pa.string()),
        pa.field("credit", pa.string()),
        pa.field("language", pa.string()),
        pa.field("language_detected", pa.bool_(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("published_at", TS),
        pa.field("ingested_at", TS),
        pa.field("version", pa.int64()),
        pa.field("version_created", TS),
        pa.field("status", pa.string(), nullable=False),
        pa.field("urgency", pa.int32()),
        pa.field("subjects", pa.list_(pa.string())),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("word_count", pa.int32(), nullable=False),
        pa.field("input_format", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("position", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string()),
        pa.field("event_id", pa.string()),
        pa.field("entities", pa.list_(ENTITY)),
        pa.field("source_article_id", pa.string()),
    ],
    metadata={"wiredesk.table": "articles"},
)

REJECTS = pa.schema(
    [
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("position", pa.string(), nullable=False),
        pa.field("input_format", pa.string()),
        pa.field("article_id", pa.string()),
        pa.field("raw", pa.string(), nullable=False),
        pa.field("raw_length", pa.int64(), nullable=False),
        pa.field("raw_truncated", pa.bool_(), nullable=False),
        pa.field("ingested_at", TS),
    ],
    metadata={"wiredesk.table": "rejects"},
)

SUPERSEDED = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("version", pa.int64()),
        pa.field("version_created", TS),
        pa.field("status", pa.string(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("superseded_by_version", pa.int64()),
        pa.field("superseded_by_content_hash", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("position", pa.string(), nullable=False),
        pa.field("published_at", TS),
        pa.field("ingested_at", TS),
        pa.field("source_article_id", pa.string()),
    ],
    metadata={"wiredesk.table": "superseded"},
)

DUPLICATES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("canonical_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("jaccard", pa.float64(), nullable=False),
        pa.field("containment", pa.float64(), nullable=False),
    ],
    metadata={"wiredesk.table": "duplicates"},
)

EVENTS = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("first_seen", TS),
        pa.field("last_seen", TS),
        pa.field("article_count", pa.int32(), nullable=False),
        pa.field("canonical_count", pa.int32(), nullable=False),
        pa.field("source_count", pa.int32(), nullable=False),
        pa.field("sources", pa.list_(pa.string())),
        pa.field("top_entities", pa.list_(pa.struct([
            pa.field("text", pa.string(), nullable=False),
            pa.field("label", pa.string(), nullable=False),
            pa.field("count", pa.int32(), nullable=False),
        ]))),
        pa.field("top_terms", pa.list_(pa.string())),
        pa.field("representative_article_id", pa.string(), nullable=False),
    ],
    metadata={"wiredesk.table": "events"},
)

#: Table name -> schema. ``transforms.write`` writes each under DIR/<name>/.
TABLES = {"articles": ARTICLES, "rejects": REJECTS, "superseded": SUPERSEDED,
          "duplicates": DUPLICATES, "events": EVENTS}
