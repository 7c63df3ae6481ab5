"""Explicit pyarrow schemas of every table wiredesk writes. Never inferred.

Timestamps travel between stages as RFC 3339 UTC strings (portable through
every runner's coders) and become ``timestamp[us, UTC]`` columns here.

Every field (nested ones too) carries its meaning in its metadata
(``{"description": ...}``); ``python -m wiredesk.schemas.docs`` turns them into
``docs/tables.md``, and a test fails when a field has none or the file is out
of date. Every schema carries ``wiredesk.table`` and
``wiredesk.schema_version`` (:data:`SCHEMA_VERSION`) in its metadata, so each
Parquet file says which table and which version of it it holds; the manifest
records the version too. The policy for changing it is in ``docs/tables.md``
(``schemas.docs.POLICY``).
"""
from __future__ import annotations

from typing import Dict, Iterator, Optional, Tuple

import pyarrow as pa

#: Version of the output tables' schemas, MAJOR.MINOR: an additive change (a new column, a new nested field)
#: bumps MINOR; a rename, a removal, a type change or a change of a column's meaning bumps MAJOR.
SCHEMA_VERSION = "1.2"

#: Field metadata key of a column's meaning.
DESCRIPTION = "description"

TS = pa.timestamp("us", tz="UTC")


def field(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    """A column with its meaning in the field metadata."""
    return pa.field(name, type_, nullable=nullable, metadata={DESCRIPTION: description})


def schema(table: str, fields) -> pa.Schema:
    """A table's schema, named and versioned in its metadata."""
    return pa.schema(fields, metadata={"wiredesk.table": table, "wiredesk.schema_version": SCHEMA_VERSION})


def description(f: pa.Field) -> Optional[str]:
    """A field's description from its metadata, or None."""
    value = (f.metadata or {}).get(DESCRIPTION.encode())
    return value.decode("utf-8") if value else None


def children(type_: pa.DataType) -> Tuple[str, Optional[pa.DataType]]:
    """(suffix, struct type) of a struct column or a list of structs; ("", None) otherwise."""
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        suffix, inner = children(type_.value_type)
        return ("[]" + suffix, inner) if inner is not None else ("", None)
    if pa.types.is_struct(type_):
        return "", type_
    return "", None


def walk(s: pa.Schema) -> Iterator[Tuple[str, pa.Field]]:
    """(dotted path, field) of every column and nested struct field: ``entities[].text``."""
    def visit(prefix: str, f: pa.Field):
        path = prefix + f.name
        yield path, f
        suffix, struct = children(f.type)
        if struct is not None:
            for i in range(struct.num_fields):
                yield from visit(path + suffix + ".", struct.field(i))
    for f in s:
        yield from visit("", f)


ENTITY = pa.struct([
    field("text", pa.string(), "The mention as it appears in the text.", nullable=False),
    field("label", pa.string(), "spaCy entity label: PERSON, ORG, GPE, LOC, NORP, EVENT, DATE, ...",
          nullable=False),
    field("norm", pa.string(), "Normalized form used to compare mentions (\"the U.S.\" -> \"u.s.\").",
          nullable=False),
])

ARTICLES = schema("articles", [
    field("article_id", pa.string(),
          "The story's key, unique across sources: a global id (ninjs uri, NewsML-G2 guid, a URI/URN) as given, "
          "a plain id qualified by its source (`Feed A/1234`) or input file (`wire/feed.jsonl#1234`). Every "
          "column that points at a story holds this key.", nullable=False),
    field("source", pa.string(), "The outlet or agency that sent the story, as the record names it."),
    field("headline", pa.string(), "Normalized headline (NFC, HTML removed, whitespace, quotes and dashes "
          "folded; compatibility characters such as full-width forms and \u2122 kept as sent)."),
    field("headline_original", pa.string(), "The headline as published."),
    field("body", pa.string(),
          "Normalized body text: dateline, agency credits and web boilerplate moved out or removed.",
          nullable=False),
    field("body_original", pa.string(), "The body as published (HTML included when the source sent HTML)."),
    field("byline", pa.string(), "Author line, as the source gave it."),
    field("dateline", pa.string(), "Place line (`WASHINGTON (AP) -`) moved out of the body, or given by the format."),
    field("credit", pa.string(), "Agency credit pulled out of the text (`AP`, `Reuters`, `Reporting by ...`)."),
    field("language", pa.string(), "Language code (`en`), as given by the source or detected."),
    field("language_detected", pa.bool_(), "True when `language` was detected rather than given by the source.",
          nullable=False),
    field("url", pa.string(), "Link to the story, when the source gave one."),
    field("published_at", TS, "Publication time in UTC; null when the source gave none."),
    field("ingested_at", TS,
          "When the record reached wiredesk: the input file's modification time (the same input gives the same "
          "data), in UTC."),
    field("version", pa.int64(),
          "Version number, when the format carries one (ninjs `version`, NewsML-G2 `version`, flat `version`)."),
    field("version_created", TS, "When this version was created (ninjs `versioncreated`, NewsML-G2 "
          "`versionCreated`, feed `updated`), in UTC."),
    field("status", pa.string(), "Publication status: usable, canceled or withheld. Withdrawn stories are kept.",
          nullable=False),
    field("urgency", pa.int32(), "Urgency as the source gave it (IPTC: 1 most urgent to 9)."),
    field("subjects", pa.list_(pa.string()), "Subject codes or names the source attached."),
    field("content_hash", pa.string(),
          "Hex digest of the normalized body (of the headline when there is no body): equal for exact copies.",
          nullable=False),
    field("word_count", pa.int32(), "Words in the normalized body.", nullable=False),
    field("input_format", pa.string(), "Reader that parsed the record: jsonl, ninjs, newsml, rss, atom or text.",
          nullable=False),
    field("origin", pa.string(), "The input file the record came from.", nullable=False),
    field("position", pa.string(), "Where in `origin`: `line 12`, `item 3`, `entry 2`, `offset 0`.",
          nullable=False),
    field("duplicate_of", pa.string(), "`article_id` of the canonical story this one copies; null when canonical."),
    field("event_id", pa.string(), "The event the story reports (joins `events.event_id`); copies share their "
          "canonical's event."),
    field("entities", pa.list_(ENTITY),
          "Named entities spaCy found in the headline and first 1,500 characters (a copy has its canonical's)."),
    field("source_article_id", pa.string(),
          "The id as the source wrote it (`1234`); two feeds may share it, so join on `article_id`."),
    field("warnings", pa.list_(pa.string()),
          "What a reader or normalize repaired or guessed for this story (a lenient parse, a guessed charset, a "
          "repaired date, a dropped caption), one short line each; empty when nothing was."),
])

REJECTS = schema("rejects", [
    field("stage", pa.string(), "Where the record failed: `read` (could not be parsed) or `normalize` (failed "
          "validation).", nullable=False),
    field("reason", pa.string(), "Why, in words (at most 1,000 characters).", nullable=False),
    field("origin", pa.string(), "The input file.", nullable=False),
    field("position", pa.string(), "Where in `origin`: `line 12`, `item 3`, `entry 2`, `offset 0`.",
          nullable=False),
    field("input_format", pa.string(), "Reader that found the record, when one was chosen."),
    field("article_id", pa.string(), "The id the record gave, as its source wrote it (not a story key: a rejected "
          "record never became a story); null when it had none or could not be parsed."),
    field("raw", pa.string(), "The input as read, at most `--raw_max_chars` characters.", nullable=False),
    field("raw_length", pa.int64(), "Length of the raw input in characters before bounding.", nullable=False),
    field("raw_truncated", pa.bool_(), "True when `raw` was cut to `--raw_max_chars`.", nullable=False),
    field("ingested_at", TS, "The input file's modification time in UTC; partitions the table."),
])

SUPERSEDED = schema("superseded", [
    field("article_id", pa.string(), "The story this version belongs to (its current version is in `articles`).",
          nullable=False),
    field("source", pa.string(), "The outlet or agency that sent this version."),
    field("version", pa.int64(), "This version's number, when the format carries one."),
    field("version_created", TS, "When this version was created, in UTC."),
    field("status", pa.string(), "This version's publication status: usable, canceled or withheld.",
          nullable=False),
    field("content_hash", pa.string(), "Hex digest of this version's normalized body.", nullable=False),
    field("superseded_by_version", pa.int64(), "`version` of the current version that replaced this one."),
    field("superseded_by_content_hash", pa.string(), "`content_hash` of the current version that replaced this one "
          "(equal to `content_hash` for a repeated identical version).", nullable=False),
    field("origin", pa.string(), "The input file this version came from.", nullable=False),
    field("position", pa.string(), "Where in `origin`.", nullable=False),
    field("published_at", TS, "This version's publication time in UTC."),
    field("ingested_at", TS, "The input file's modification time in UTC."),
    field("source_article_id", pa.string(), "The id as the source wrote it."),
])

DUPLICATES = schema("duplicates", [
    field("article_id", pa.string(), "The copy (an `articles` row whose `duplicate_of` is set).", nullable=False),
    field("canonical_id", pa.string(), "The canonical story it copies: earliest `published_at`, then longest "
          "body, then `--source_priority`, then smallest id.", nullable=False),
    field("kind", pa.string(), "`exact` (same normalized body), `near` (Jaccard at least `--jaccard_threshold`) "
          "or `contained` (a trimmed republication: containment at least `--containment_threshold`).",
          nullable=False),
    field("jaccard", pa.float64(), "Estimated Jaccard similarity of the two bodies' word 5-shingles (MinHash).",
          nullable=False),
    field("containment", pa.float64(), "Estimated share of the shorter body's shingles found in the longer's.",
          nullable=False),
])

EVENTS = schema("events", [
    field("event_id", pa.string(), "The event's key (`ev-` and a hash of its earliest canonical article's id): "
          "stable across re-runs.", nullable=False),
    field("title", pa.string(), "Headline of the most representative article (its first sentence when it has no "
          "headline)."),
    field("first_seen", TS, "Earliest `published_at` (`ingested_at` when missing) of the event's articles, in UTC."),
    field("last_seen", TS, "Latest `published_at` (`ingested_at` when missing) of the event's articles, in UTC."),
    field("article_count", pa.int32(), "Articles in the event, copies included.", nullable=False),
    field("canonical_count", pa.int32(), "Canonical articles in the event (copies excluded).", nullable=False),
    field("source_count", pa.int32(), "Distinct sources among the event's articles.", nullable=False),
    field("sources", pa.list_(pa.string()), "Those sources, sorted."),
    field("top_entities", pa.list_(pa.struct([
        field("text", pa.string(), "The entity as mentioned.", nullable=False),
        field("label", pa.string(), "spaCy entity label (PERSON, ORG, GPE, ...).", nullable=False),
        field("count", pa.int32(), "Canonical articles of the event that mention it.", nullable=False),
    ])), "The event's most mentioned people, organizations, places, ... (at most 10)."),
    field("top_terms", pa.list_(pa.string()), "The event's most distinctive content terms (used by many of its "
          "articles, rare in the run), each in its most frequent surface form (at most 10)."),
    field("representative_article_id", pa.string(), "`article_id` of the canonical article whose entities the "
          "rest of the event shares most; its headline is the title.", nullable=False),
    field("merged_event_ids", pa.list_(pa.string()), "Earlier runs' events (`wiredesk run --state`) that this "
          "run's stories joined to this one: their ids are merged away into `event_id` (the earliest event's) and "
          "recorded here; empty otherwise."),
])

#: Table name -> schema. ``transforms.write`` writes each under DIR/<name>/.
TABLES: Dict[str, pa.Schema] = {"articles": ARTICLES, "rejects": REJECTS, "superseded": SUPERSEDED,
                                "duplicates": DUPLICATES, "events": EVENTS}
