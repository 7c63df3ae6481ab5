"""Normalize stage: WireRecord -> Article (clean text, UTC times, hashes) or Reject.

The text functions live in ``transforms.cleaning``; this module maps a record's
fields onto them and decides what makes a record invalid.
"""
from __future__ import annotations

import re
from typing import Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from wiredesk.schemas.records import Article, Reject, WireRecord, make_reject
from wiredesk.transforms import cleaning
from wiredesk.transforms.cleaning.language import load_identifier
from wiredesk.transforms.cleaning.timestamps import far_from_ingest, read_timestamp
from wiredesk.transforms.identity import story_key
from wiredesk.transforms.outputs import ParDoOutputs

NAMESPACE = "wiredesk.normalize"
REJECTS = "rejects"

#: Publication statuses wiredesk keeps (IPTC pubstatus vocabulary), with the
#: spellings sources use for them.
STATUSES = {
    "usable": "usable",
    "canceled": "canceled",
    "cancelled": "canceled",
    "withheld": "withheld",
}


_BY = re.compile(r"^by\s+", re.IGNORECASE)


def clean_byline(value) -> Optional[str]:
    """One line of plain text, without the "By " that some formats keep."""
    line = cleaning.clean_line(value)
    return (_BY.sub("", line).strip() or None) if line else None


class InvalidRecord(ValueError):
    """A record that parsed but cannot become an article; the message says why."""


def normalize_status(value) -> str:
    """IPTC pubstatus -> usable, canceled or withheld (usable when absent)."""
    if value is None or str(value).strip() == "":
        return "usable"
    key = str(value).strip().lower()
    key = key.split(":", 1)[1] if key.startswith("stat:") else key
    if key not in STATUSES:
        raise InvalidRecord(
            f"unknown pubstatus {value!r}: use one of usable, canceled, withheld")
    return STATUSES[key]


def _timestamp(field: str, value, notes: Optional[list] = None):
    """``value`` in RFC 3339 UTC; what had to be guessed (an ambiguous
    day/month order, a 2-digit year's century) is added to ``notes``."""
    if value is None or str(value).strip() == "":
        return None
    try:
        text, guessed = read_timestamp(str(value))
    except ValueError as exc:
        raise InvalidRecord(f"{field} {value!r} is not an RFC 3339 timestamp: {exc}") from None
    if notes is not None:
        notes.extend(n for n in guessed if n not in notes)
    return text


def _timestamps(rec: WireRecord) -> tuple:
    """``(published_at, ingested_at, version_created, notes)``; a date
    outside the sanity window (before 1990, more than a year after the
    ingest time) is kept, with a "date far from ingest time" note."""
    notes = list(rec.warnings or [])
    published = _timestamp("published_at", rec.published_at, notes)
    ingested = _timestamp("ingested_at", rec.ingested_at)
    created = _timestamp("version_created", rec.version_created, notes)
    for field, value in (("published_at", published), ("version_created", created)):
        note = far_from_ingest(field, value, ingested)
        if note and note not in notes:
            notes.append(note)
    return published, ingested, created, notes


def to_article(rec: WireRecord) -> Article:
    """Normalize one record; raise InvalidRecord when it cannot be an article."""
    if not rec.article_id or not str(rec.article_id).strip():
        raise InvalidRecord("record has no id")
    cleaned = cleaning.clean_article(rec.headline, rec.body, rec.body_format)
    if not cleaned.body and not cleaned.headline:
        raise InvalidRecord("no text: headline and body are empty after removing markup and boilerplate")
    language = cleaning.normalize_language(rec.language)
    detected = False
    if language is None:
        language = cleaning.detect_language(" ".join(filter(None, [cleaned.headline, cleaned.body])))
        detected = language is not None
    text_for_hash = cleaned.body or cleaned.headline or ""
    source_id = str(rec.article_id).strip()
    source = (rec.source or "").strip() or None
    published_at, ingested_at, version_created, warnings = _timestamps(rec)
    return Article(
        article_id=story_key(source_id, source, rec.input_name, rec.id_from_path),
        source_article_id=source_id,
        source=source,
        headline=cleaned.headline,
        headline_original=rec.headline,
        body=cleaned.body or "",
        body_original=rec.body,
        byline=clean_byline(rec.byline),
        dateline=cleaning.clean_line(rec.dateline) or cleaned.dateline,
        credit=cleaned.credit,
        language=language,
        language_detected=detected,
        url=(rec.url or "").strip() or None,
        published_at=published_at,
        ingested_at=ingested_at,
        version=rec.version,
        version_created=version_created,
        status=normalize_status(rec.status),
        urgency=rec.urgency,
        subjects=list(rec.subjects or []),
        warnings=warnings,
        content_hash=cleaning.content_hash(text_for_hash),
        word_count=cleaning.word_count(cleaned.body or ""),
        input_format=rec.input_format,
        origin=rec.origin,
        position=rec.position,
        duplicate_of=None,
        event_id=None,
    )


#: Distinct warning counters a worker creates before it counts the rest as "other".
MAX_WARNING_KINDS = 40


def warning_kind(warning: str) -> str:
    """A warning's kind for its counter: its leading words, before a ":" or a word holding a value (a digit or
    a quote), at most four, in snake case ("charset guessed: windows-1252" -> "charset_guessed",
    "ambiguous date 02-03-2014 read day-first ..." -> "ambiguous_date")."""
    head = []
    for word in warning.split(":", 1)[0].split()[:4]:
        if any(c.isdigit() for c in word) or word[0] in "'\"<(":
            break
        head.append(word)
    kind = "_".join("".join(c if c.isalnum() else " " for c in " ".join(head).lower()).split())
    return kind[:40] or "other"


class NormalizeFn(beam.DoFn):
    def __init__(self, raw_max_chars: int):
        self.raw_max_chars = raw_max_chars
        #: Records that became articles.
        self.normalized = Metrics.counter(NAMESPACE, "articles")
        #: Records that parsed but failed validation (bad timestamp, no text,
        #: unknown status): written to rejects with the reason.
        self.rejected = Metrics.counter(NAMESPACE, "rejected")
        #: Articles whose language was detected because the source gave none.
        self.detected = Metrics.counter(NAMESPACE, "language_detected")
        #: Articles carrying each kind of warning (what was repaired or guessed), as
        #: ``warning_<kind>``; created on first use, at most MAX_WARNING_KINDS of them.
        self.warned = {}

    def _warning_counter(self, kind: str):
        """The counter of a warning kind; past MAX_WARNING_KINDS kinds, the "other" counter."""
        if kind not in self.warned:
            if len(self.warned) >= MAX_WARNING_KINDS:
                return self.warned.setdefault("other", Metrics.counter(NAMESPACE, "warning_other"))
            self.warned[kind] = Metrics.counter(NAMESPACE, f"warning_{kind}")
        return self.warned[kind]

    def setup(self):
        load_identifier()   # once per worker process (cached), not on the first record without a language

    def process(self, rec: WireRecord):
        try:
            article = to_article(rec)
        except InvalidRecord as exc:
            self.rejected.inc()
            yield beam.pvalue.TaggedOutput(REJECTS, make_reject(
                "normalize", str(exc), rec.origin, rec.position, rec.raw,
                input_format=rec.input_format, article_id=rec.article_id,
                limit=self.raw_max_chars, ingested_at=rec.ingested_at))
            return
        self.normalized.inc()
        if article.language_detected:
            self.detected.inc()
        for kind in sorted({warning_kind(w) for w in article.warnings}):
            self._warning_counter(kind).inc()
        yield article


class Normalize(beam.PTransform):
    """WireRecord -> ``articles`` (Article) and ``rejects`` (Reject, stage "normalize")."""

    def __init__(self, raw_max_chars: int):
        super().__init__()
        self.raw_max_chars = raw_max_chars

    def expand(self, records):
        # A file is read by one worker; spreading its records before the
        # cleaning (the costly part) lets every worker share it.
        records = records | "Spread" >> beam.Reshuffle()
        out = records | "CleanAndValidate" >> ParDoOutputs(
            NormalizeFn(self.raw_max_chars), {"articles": Article, REJECTS: Reject})
        return {"articles": out["articles"], "rejects": out[REJECTS]}
