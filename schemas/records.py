"""Typed records that travel between wiredesk's pipeline stages.

Every record is a ``typing.NamedTuple`` registered with Beam's ``RowCoder``, so
runners encode them by schema rather than by pickling, and a stage's input and
output types are visible in its signature. (No ``from __future__ import
annotations`` here: Beam reads the field types from the annotations, and as
strings they would all become "any", pickled.)

Stage by stage::

    read       -> WireRecord   (one per input record; text still as published)
               -> Reject       (stage "read": unparseable input)
    normalize  -> Article      (clean text, UTC timestamps, content hash)
               -> Reject       (stage "normalize": failed validation)
    versions   -> Article      (the current version of each story)
               -> Superseded   (every older or repeated version)
    write      -> Parquet tables articles/, rejects/, superseded/
"""
import typing
from typing import List, NamedTuple, Optional

import apache_beam as beam

#: Longest raw input kept on a reject, in characters. Enough to see what was
#: wrong; bounded so that one corrupt gigabyte does not end up in a table.
RAW_MAX_CHARS = 4096


class InputFile(NamedTuple):
    """One file for the read stage to parse."""

    path: str
    #: ``path`` relative to the input root it was found under (``transforms.read.name_root``).
    name: str
    #: The file's modification time, RFC 3339 UTC.
    ingested_at: Optional[str]


class WireRecord(NamedTuple):
    """One story as a reader found it: fields mapped, text not yet cleaned.

    Timestamps stay the strings the source wrote; ``normalize`` parses them so
    that a bad date becomes a reject with a reason rather than a reader crash.
    """

    article_id: str
    source: Optional[str]
    headline: Optional[str]
    body: Optional[str]
    #: "text" or "html": how ``body`` is encoded.
    body_format: str
    byline: Optional[str]
    #: Place line given by the format itself (ninjs ``located``, NewsML
    #: ``located``); datelines inside the body are found by ``normalize``.
    dateline: Optional[str]
    language: Optional[str]
    url: Optional[str]
    published_at: Optional[str]
    #: Version number, when the format carries one (ninjs ``version``,
    #: NewsML ``version`` attribute, flat ``version``).
    version: Optional[int]
    #: When this version was created (ninjs ``versioncreated``, NewsML
    #: ``itemMeta/versionCreated``, feed ``updated``).
    version_created: Optional[str]
    #: Publication status as the source wrote it: usable, canceled, withheld.
    status: Optional[str]
    urgency: Optional[int]
    subjects: List[str]
    #: jsonl, ninjs, newsml, rss, atom or text.
    input_format: str
    #: Where the record came from: the file path (or subscription).
    origin: str
    #: Where in ``origin``: "line 12", "item 3", "entry 2", "offset 0".
    position: str
    #: When the record reached us: the file's modification time or the
    #: message's publish time, RFC 3339 UTC. Deterministic for the same input.
    ingested_at: Optional[str]
    #: The raw input, bounded to RAW_MAX_CHARS (used if a later stage rejects).
    raw: str
    #: ``origin`` relative to the input root it was found under
    #: ("business/001.txt"): the same on every machine, so it can qualify ids.
    input_name: Optional[str] = None
    #: True when the reader named the story after its file (a plain-text file
    #: without an ``id``): such an id is unique by itself and is not qualified.
    id_from_path: bool = False
    #: What the reader repaired or guessed ("lenient feed parse: ...",
    #: "caption dropped", ...): carried onto the article, never silent.
    warnings: List[str] = []


class Reject(NamedTuple):
    """An input record that could not become an article, kept as data."""

    stage: str
    reason: str
    origin: str
    position: str
    input_format: Optional[str]
    article_id: Optional[str]
    raw: str
    #: Length of the raw input in characters before bounding.
    raw_length: int
    raw_truncated: bool
    #: When the record reached us (file modification time or message publish
    #: time); partitions the rejects table.
    ingested_at: Optional[str] = None


class Entity(NamedTuple):
    """A named entity spaCy found in an article."""

    text: str
    #: spaCy label: PERSON, ORG, GPE, LOC, NORP, EVENT, DATE, ...
    label: str
    #: Normalized form used to compare mentions ("the U.S." -> "u.s.").
    norm: str


class Article(NamedTuple):
    """A normalized story: the unit every later stage works on."""

    #: The story's key, unique across sources (``transforms.identity``): a
    #: global id as given, a plain id qualified by its source or input file.
    article_id: str
    source: Optional[str]
    headline: Optional[str]
    headline_original: Optional[str]
    body: str
    body_original: Optional[str]
    byline: Optional[str]
    dateline: Optional[str]
    #: Agency credit pulled out of the text ("AP", "Reuters", "Reporting by ...").
    credit: Optional[str]
    language: Optional[str]
    #: True when ``language`` was detected rather than given by the source.
    language_detected: bool
    url: Optional[str]
    #: RFC 3339 UTC ("2019-05-15T00:00:00Z"); None when the source gave none.
    published_at: Optional[str]
    ingested_at: Optional[str]
    version: Optional[int]
    version_created: Optional[str]
    #: usable, canceled or withheld.
    status: str
    urgency: Optional[int]
    subjects: List[str]
    #: Hex digest of the normalized body (of the headline when there is none).
    content_hash: str
    word_count: int
    input_format: str
    origin: str
    position: str
    #: article_id of this story's canonical copy; None when it is canonical.
    duplicate_of: Optional[str]
    #: Event this story reports.
    event_id: Optional[str]
    #: Named entities of the story (of its canonical copy for a duplicate);
    #: None until the entities stage has run.
    entities: Optional[List[Entity]] = None
    #: The id as the source wrote it ("1234"); ``article_id`` qualifies it.
    source_article_id: Optional[str] = None
    #: What a reader or normalize repaired or guessed, one short line each.
    warnings: List[str] = []


class Superseded(NamedTuple):
    """A version of a story replaced by a later (or identical) one."""

    article_id: str
    source: Optional[str]
    version: Optional[int]
    version_created: Optional[str]
    status: str
    content_hash: str
    superseded_by_version: Optional[int]
    superseded_by_content_hash: str
    origin: str
    position: str
    published_at: Optional[str] = None
    ingested_at: Optional[str] = None
    #: The id as the source wrote it; ``article_id`` is the story's key.
    source_article_id: Optional[str] = None


for _record in (InputFile, WireRecord, Reject, Entity, Article, Superseded):
    beam.coders.registry.register_coder(_record, beam.coders.RowCoder)


def bounded_raw(raw: typing.Union[str, bytes, None], limit: int = RAW_MAX_CHARS):
    """Return ``(text, length, truncated)`` for keeping raw input on a reject.

    Bytes are decoded as UTF-8 with replacement so that binary junk is still
    shown, never raised on.
    """
    if raw is None:
        return "", 0, False
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("utf-8", errors="replace")
    length = len(raw)
    if length > limit:
        return raw[:limit], length, True
    return raw, length, False


def make_reject(stage, reason, origin, position, raw, input_format=None,
                article_id=None, limit: int = RAW_MAX_CHARS,
                ingested_at=None) -> Reject:
    """Build a Reject, bounding the raw input and the reason."""
    text, length, truncated = bounded_raw(raw, limit)
    return Reject(stage=stage, reason=str(reason)[:1000], origin=origin,
                  position=position, input_format=input_format,
                  article_id=article_id, raw=text, raw_length=length,
                  raw_truncated=truncated, ingested_at=ingested_at)


class Duplicate(NamedTuple):
    """One non-canonical copy and the canonical article it copies."""

    article_id: str
    canonical_id: str
    #: exact, near or contained.
    kind: str
    #: Estimated Jaccard similarity of the two bodies' shingle sets.
    jaccard: float
    #: Estimated containment of the shorter body's shingles in the longer's.
    containment: float


beam.coders.registry.register_coder(Duplicate, beam.coders.RowCoder)


class EntityCount(NamedTuple):
    """An entity of an event and how many of its articles mention it."""

    text: str
    label: str
    count: int


class Event(NamedTuple):
    """One real-world event: the stories that report it, as a digest line."""

    event_id: str
    #: Headline of the most representative article (its first sentence when
    #: it has no headline).
    title: Optional[str]
    first_seen: Optional[str]
    last_seen: Optional[str]
    article_count: int
    canonical_count: int
    source_count: int
    sources: List[str]
    top_entities: List[EntityCount]
    top_terms: List[str]
    representative_article_id: str
    #: Ids of earlier runs' events (``--state``) merged into this one by this run's stories.
    merged_event_ids: List[str] = []


for _record in (EntityCount, Event):
    beam.coders.registry.register_coder(_record, beam.coders.RowCoder)
