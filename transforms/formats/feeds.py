"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds, read with feedparser.

feedparser already knows every dialect (guid vs id vs rdf:about, pubDate vs
published vs dc:date), so this module only maps its normalized entries.

Two deliberate settings:

* ``sanitize_html=False``: readers keep text as published; the normalize
  stage turns HTML into text (and drops ``<script>``). A later stage must
  therefore never render ``body`` as HTML without cleaning it.
* the bytes are handed over as a file object, never as bytes: feedparser
  treats a bytes/str argument that names a file or URL as something to open.
"""
from __future__ import annotations

import io
import json
import re
import time
import xml.etree.ElementTree as ET
from typing import Any, Iterator, Optional, Union

import defusedxml
import defusedxml.ElementTree as SafeET
import feedparser

from wiredesk.schemas.records import Reject, WireRecord

from ..cleaning.timestamps import UnknownTimeZoneError, parse_timestamp
from .common import new_record, non_empty_str, read_reject

Item = Union[WireRecord, Reject]

#: RSS 2.0 author convention: "newsdesk@example.com (Lee Chen)".
_EMAIL_WITH_NAME = re.compile(r"^\s*[^\s@()]+@[^\s()]+\s*\((.+)\)\s*$")
#: feedparser's rendering of Atom ``<author><name>``+``<email>``: "Lee Chen (lee@example.com)".
_NAME_WITH_EMAIL = re.compile(r"^\s*([^()]*?[^\s()][^()]*?)\s*\(\s*[^\s@()]+@[^\s()]+\s*\)\s*$")


def unsafe_xml_problem(data: bytes) -> Optional[str]:
    """A reason when the feed declares entities or an external DTD.

    feedparser's XML parser would expand internal entities; defusedxml
    refuses them, so a "billion laughs" feed becomes a reject. Parse errors
    are ignored here: feedparser's lenient parser handles sloppy feeds.
    """
    try:
        SafeET.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        return (f"unsafe XML refused ({type(exc).__name__}): entity and "
                "external DTD declarations are not allowed in feeds")
    except (ET.ParseError, ValueError, RecursionError):
        return None  # malformed feeds are feedparser's job
    return None


def rfc3339(parsed: Optional[time.struct_time]) -> Optional[str]:
    """feedparser's UTC struct_time -> ``2024-03-11T09:30:00Z``."""
    if not parsed:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
    except (TypeError, ValueError):
        return None


def date_of(entry: dict, key: str) -> Optional[str]:
    """A feed date as RFC 3339 UTC, or the raw string when unparseable.

    The raw value is parsed with wiredesk's own parser first: feedparser
    reads a zone name it does not know ("CEST", "BST", "IST") as UTC, which
    would store a wrong time without a trace. feedparser's result is used for
    the other date forms it understands. Keeping an unparseable string (or
    one with an unknown zone) lets normalize reject the record with the bad
    value in the reason. ``dict.get`` is used on purpose: feedparser's
    ``entry.get("updated")`` silently falls back to ``published``.
    """
    raw = non_empty_str(dict.get(entry, key))
    if raw is not None:
        try:
            return parse_timestamp(raw)
        except UnknownTimeZoneError:
            return raw
        except ValueError:
            pass
    return rfc3339(dict.get(entry, key + "_parsed")) or raw


def body_of(entry: dict) -> tuple:
    """``(body, format)``: the full content if given, else the summary."""
    contents = [c for c in dict.get(entry, "content") or [] if non_empty_str(c.get("value"))]
    contents.sort(key=lambda c: "html" not in (c.get("type") or ""))
    if contents:
        part = contents[0]
    else:
        summary = non_empty_str(dict.get(entry, "summary"))
        if summary is None:
            return None, "text"
        part = dict(dict.get(entry, "summary_detail") or {}, value=summary)
    kind = (part.get("type") or "text/html").lower()
    return part["value"], "html" if "html" in kind else "text"


def author_of(entry: dict) -> Optional[str]:
    """The author's name. RSS ``<author>`` is "email (Name)" and feedparser
    renders an Atom ``<author>`` with ``<email>`` as "Name (email)"; we keep
    the name.

    feedparser's own split (``author_detail``) mangles addresses whose domain
    it does not recognise, so the conventions are parsed here.
    """
    author = non_empty_str(dict.get(entry, "author"))
    match = _EMAIL_WITH_NAME.match(author or "") or _NAME_WITH_EMAIL.match(author or "")
    return match.group(1).strip() if match else author


def _raw_entry(entry: dict) -> str:
    """The entry as JSON: feedparser does not keep the source XML per entry."""
    return json.dumps(entry, default=str, ensure_ascii=False, sort_keys=True)


def entry_record(entry: dict, feed: dict, input_format: str, origin: str,
                 position: str, ingested_at: Optional[str]) -> Item:
    """One feed entry -> a WireRecord; an entry without id or link is rejected."""
    raw = _raw_entry(entry)
    link = non_empty_str(dict.get(entry, "link"))
    article_id = non_empty_str(dict.get(entry, "id")) or link
    if article_id is None:
        return read_reject("feed entry has neither an id/guid nor a link, so it "
                           "cannot be identified: add <guid> (RSS) or <id> (Atom)",
                           origin, position, raw, input_format)
    body, body_format = body_of(entry)
    headline = non_empty_str(dict.get(entry, "title"))
    if headline is None and body is None:
        return read_reject("feed entry has no title and no content/summary",
                           origin, position, raw, input_format, article_id)
    tags = dict.get(entry, "tags") or []
    detail = dict.get(entry, "summary_detail") or {}
    return new_record(
        article_id=article_id, input_format=input_format, origin=origin,
        position=position, ingested_at=ingested_at, raw=raw,
        source=non_empty_str(feed.get("title")), headline=headline,
        body=body, body_format=body_format,
        byline=author_of(entry),
        language=non_empty_str(detail.get("language")) or non_empty_str(feed.get("language")),
        url=link,
        published_at=date_of(entry, "published") or date_of(entry, "updated"),
        version_created=date_of(entry, "updated"),
        subjects=[t["term"] for t in tags if non_empty_str(t.get("term"))],
    )


def feed_format(version: str, hint: Optional[str]) -> str:
    """"atom" for Atom feeds, "rss" for RSS 0.9x/1.0/2.0."""
    if version.startswith("atom"):
        return "atom"
    if version.startswith("rss"):
        return "rss"
    return hint or "rss"


def iter_feed(data: bytes, origin: str, ingested_at: Optional[str],
              hint: Optional[str] = None) -> Iterator[Item]:
    """Items of a feed file: one per entry, positions "entry 1", "entry 2", ..."""
    problem = unsafe_xml_problem(data)
    if problem:
        yield read_reject(problem, origin, "offset 0", data, hint)
        return
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False)
    input_format = feed_format(parsed.get("version") or "", hint)
    entries: Any = parsed.entries
    if not entries and parsed.bozo:
        yield read_reject(f"malformed feed: {parsed.get('bozo_exception')}; the "
                          "file must be a well-formed RSS or Atom document",
                          origin, "offset 0", data, input_format)
        return
    if not entries and not parsed.get("version"):
        yield read_reject("not an RSS or Atom feed: no <rss>, <rdf:RDF> or "
                          "<feed> root", origin, "offset 0", data, input_format)
        return
    for number, entry in enumerate(entries, start=1):
        yield entry_record(entry, parsed.feed, input_format, origin,
                           f"entry {number}", ingested_at)
