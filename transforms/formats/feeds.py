"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds, read with feedparser.

feedparser already knows every dialect (guid vs id vs rdf:about, pubDate vs
published vs dc:date), so this module only maps its normalized entries.

Two deliberate settings:

* ``sanitize_html=False``: readers keep text as published; the normalize
  stage turns HTML into text (and drops ``<script>``). A later stage must
  therefore never render ``body`` as HTML without cleaning it.
* the bytes are handed over as a file object, never as bytes: feedparser
  treats a bytes/str argument that names a file or URL as something to open.

Repairs, each named in the record's ``warnings``:

* feedparser's lenient parse (an undefined entity such as ``&hellip;``, a
  stray ``&``, a wrong declared encoding) keeps the entries, with
  "lenient feed parse: <problem>" on each; only a feed from which no entry
  can be read is a reject;
* UTF-16 and UTF-32 feeds (byte order mark or the shape of ``<?xml``) are
  transcoded to UTF-8 before parsing; a feed without an encoding
  declaration that is not UTF-8, or whose bytes do not decode in the
  declared encoding, is decoded in the charset that charset-normalizer
  guesses ("charset guessed: koi8-r");
* a Media RSS caption (``media:description``, ``media:text``) never stands
  for the story: feedparser files it under ``summary``/``content``, so the
  item's own text wins; a caption that is the only text becomes the body
  ("body from media caption"), a placeholder caption such as "image" is
  dropped ("media caption dropped");
* an item with neither guid/id nor link (valid RSS 2.0) gets an id derived
  from its title, text and date ("id derived from content");
* dates are read from the raw ``pubDate``/``published``/``updated`` string
  by wiredesk's parser (never feedparser's ``*_parsed``), see
  :func:`date_of`; an item dated years away from the feed's other items is
  kept with "date far from the feed's other items".
"""
from __future__ import annotations

import hashlib
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any, Iterator, Optional, Union

import defusedxml
import defusedxml.ElementTree as SafeET
import feedparser

from wiredesk.schemas.records import Reject, WireRecord

from ..cleaning.timestamps import format_utc, read_timestamp, to_datetime
from .common import looks_like_html, new_record, non_empty_str, read_reject
from .detect import xml_codec
from .plaintext import charset_label, guess_charset

Item = Union[WireRecord, Reject]

#: RSS 2.0 author convention: "newsdesk@example.com (Lee Chen)".
_EMAIL_WITH_NAME = re.compile(r"^\s*[^\s@()]+@[^\s()]+\s*\((.+)\)\s*$")
#: feedparser's rendering of Atom ``<author><name>``+``<email>``: "Lee Chen (lee@example.com)".
_NAME_WITH_EMAIL = re.compile(r"^\s*([^()]*?[^\s()][^()]*?)\s*\(\s*[^\s@()]+@[^\s()]+\s*\)\s*$")


#: The XML declaration and its encoding pseudo-attribute.
_XML_DECL = re.compile(r"^\s*<\?xml\b[^>]*?\?>")
_DECL_ENCODING = re.compile(r"""\bencoding\s*=\s*(["'])([^"']*)\1""")
#: A Media RSS namespace prefix: xmlns:media="http://search.yahoo.com/mrss/".
_MRSS_PREFIX = re.compile(r"""xmlns:([A-Za-z_][\w.-]*)\s*=\s*["']http://search\.yahoo\.com/mrss/?["']""")
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
#: Caption texts that say nothing: the placeholder some CMSs write.
_PLACEHOLDER_CAPTIONS = frozenset({
    "image", "photo", "picture", "video", "thumbnail", "file", "img", "graphic", "gallery"})


def _declared_encoding(data: bytes) -> Optional[str]:
    match = _XML_DECL.match(data[:512].decode("ascii", errors="replace"))
    enc = _DECL_ENCODING.search(match.group(0)) if match else None
    return enc.group(2).strip() if enc and enc.group(2).strip() else None


def _with_utf8_declaration(text: str) -> bytes:
    """``text`` as UTF-8 bytes whose XML declaration (if any) says so."""
    text = text.lstrip("\ufeff")
    match = _XML_DECL.match(text)
    if match:
        decl = _DECL_ENCODING.sub('encoding="utf-8"', match.group(0))
        text = decl + text[match.end():]
    return text.encode("utf-8")


def utf8_feed(data: bytes) -> tuple:
    """``(bytes, warnings)``: the feed in UTF-8 when its encoding had to be
    worked out here, else unchanged (feedparser reads declared encodings).

    UTF-16/UTF-32 (a byte order mark or the shape of ``<?xml``) are decoded
    as such. ASCII-compatible bytes are left alone when they decode in the
    declared encoding, or, without a declaration, as UTF-8 (the XML
    default); otherwise the charset is guessed from the text between the
    tags.
    """
    codec = xml_codec(data)
    if codec == "utf-8-sig":
        return data, []
    if codec is not None:
        try:
            return _with_utf8_declaration(data.decode(codec)), []
        except UnicodeDecodeError:
            return data, []  # feedparser's problem: a bozo or a reject
    declared = _declared_encoding(data)
    try:
        data.decode(declared or "utf-8")
        return data, []
    except UnicodeDecodeError:
        pass
    except LookupError:
        return data, []  # an unknown name: feedparser says so (bozo)
    guessed = guess_charset(re.sub(rb"<[^>]*>", b" ", data))
    if guessed is None:
        return data, []
    note = f"charset guessed: {charset_label(guessed)}"
    if declared:
        note += f" (the bytes are not the declared {declared})"
    return _with_utf8_declaration(data.decode(guessed, errors="replace")), [note]


def _caption_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def media_captions(data: bytes, encoding: Optional[str]) -> frozenset:
    """The texts of the feed's Media RSS captions (``media:description``,
    ``media:text``), whitespace-folded, to tell them from story text."""
    text = data.decode(encoding or "utf-8", errors="replace")
    captions = set()
    for prefix in set(_MRSS_PREFIX.findall(text)):
        pfx = re.escape(prefix)
        pattern = re.compile(rf"<{pfx}:(description|text)\b[^>]*?(?<!/)>(.*?)</{pfx}:\1\s*>", re.DOTALL)
        for match in pattern.finditer(text):
            value = match.group(2)
            value = _CDATA.sub(lambda m: m.group(1), value) if "<![CDATA[" in value else html.unescape(value)
            if value.strip():
                captions.add(_caption_key(value))
    return frozenset(captions)


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


def date_of(entry: dict, key: str) -> Optional[str]:
    """A feed date as RFC 3339 UTC, or the raw string for normalize to read.

    The date is always read from the entry's raw string (``published``,
    ``updated``), never from feedparser's ``*_parsed`` struct: feedparser
    reads a zone name it does not know ("CEST", "BST", "IST") as UTC, and its
    fallback handlers read "02-03-2014 00:56:28" as 2002-03-20. A date whose
    reading involved a guess (an ambiguous day/month order, a 2-digit year),
    one with an unknown zone and an unparseable one stay raw: normalize reads
    them with the same parser and puts the guess in the article's warnings,
    or rejects the record with the bad value in the reason. ``dict.get`` is
    used on purpose: feedparser's ``entry.get("updated")`` silently falls
    back to ``published``.
    """
    raw = non_empty_str(dict.get(entry, key))
    if raw is None:
        return None
    try:
        text, guessed = read_timestamp(raw)
    except ValueError:
        return raw
    return raw if guessed else text


#: A feed's item whose date is this far from the median of the feed's item
#: dates, and more than ten times as far as the items typically are, is
#: flagged ("date far from the feed's other items").
OUTLIER_MIN = timedelta(days=365)
OUTLIER_SPREAD = 10


def date_outliers(dates: list) -> dict:
    """``{index: warning}`` for the dates (datetimes or None) far from the
    others: with at least three dated items, one more than a year from their
    median and more than ten times the items' median distance from it."""
    known = sorted(d for d in dates if d is not None)
    if len(known) < 3:
        return {}
    median = known[len(known) // 2]
    spread = sorted(abs(d - median) for d in known)[len(known) // 2]
    limit = max(OUTLIER_MIN, OUTLIER_SPREAD * max(spread, timedelta(days=1)))
    around = median.strftime("%Y-%m-%d")
    notes = {}
    for i, d in enumerate(dates):
        if d is not None and abs(d - median) > limit:
            years = max(1, round(abs(d - median).days / 365.25))
            notes[i] = (f"date far from the feed's other items: {format_utc(d)} is {years} year"
                        f"{'s' if years > 1 else ''} from their median {around}")
    return notes


def _entry_date(entry: dict):
    for key in ("published", "updated"):
        raw = non_empty_str(dict.get(entry, key))
        if raw is not None:
            try:
                return to_datetime(read_timestamp(raw)[0])
            except ValueError:
                return None
    return None


def _text_of_caption(value: str) -> str:
    """A caption's words: an HTML caption ("<p>image</p>") without its tags."""
    return html.unescape(re.sub(r"<[^>]*>", " ", value)) if looks_like_html(value) else value


def body_of(entry: dict, captions: frozenset = frozenset()) -> tuple:
    """``(body, format, warnings)``: the full content if given, else the
    summary, never a media caption while the item has text of its own.

    feedparser files ``media:description`` under ``content`` or ``summary``
    (whichever is still free), so every text slot is a candidate and those
    equal to one of the feed's ``captions`` come last.
    """
    contents = [c for c in dict.get(entry, "content") or [] if non_empty_str(c.get("value"))]
    contents.sort(key=lambda c: "html" not in (c.get("type") or ""))
    parts = list(contents)
    summary = non_empty_str(dict.get(entry, "summary"))
    if summary is not None:
        detail = dict.get(entry, "summary_detail") or {}
        parts.append(dict(detail, value=summary))
        if non_empty_str(detail.get("value")) and detail["value"] != summary:
            parts.append(dict(detail))  # feedparser left a caption here
    keys = [_caption_key(p["value"]) for p in parts]
    is_caption = [key in captions for key in keys]
    story = [p for p, cap in zip(parts, is_caption) if not cap]
    warnings: list = []
    if story:
        part = story[0]
    elif len(set(keys)) < len(keys):
        part = parts[0]  # a caption in two slots: the item's own text says the same
    elif parts:
        part = parts[0]
        words = _text_of_caption(part["value"]).strip(" .:-").casefold()
        if not words or words in _PLACEHOLDER_CAPTIONS:
            return None, "text", [f"media caption dropped: {part['value'].strip()[:80]!r} is not story text"]
        warnings.append("body from media caption: the item has no text of its own")
    else:
        return None, "text", []
    kind = (part.get("type") or "text/html").lower()
    is_html = "html" in kind or (any(is_caption) and looks_like_html(part["value"]))
    return part["value"], "html" if is_html else "text", warnings


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


def content_id(headline: Optional[str], body: Optional[str], published: Optional[str]) -> str:
    """A stable id for an entry without guid/id and link: the same title, text
    and date give the same id ("feed-" and 20 hex digits of a SHA-256)."""
    key = "\x1f".join(v or "" for v in (headline, body, published))
    return "feed-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def entry_record(entry: dict, feed: dict, input_format: str, origin: str,
                 position: str, ingested_at: Optional[str],
                 captions: frozenset = frozenset(), warnings: tuple = ()) -> Item:
    """One feed entry -> a WireRecord. Without id/guid and link (valid in
    RSS 2.0) the id is derived from the content; an entry with no title and
    no text is rejected."""
    raw = _raw_entry(entry)
    link = non_empty_str(dict.get(entry, "link"))
    body, body_format, body_warnings = body_of(entry, captions)
    headline = non_empty_str(dict.get(entry, "title"))
    article_id = non_empty_str(dict.get(entry, "id")) or link
    if headline is None and body is None:
        return read_reject("feed entry has no title and no content/summary",
                           origin, position, raw, input_format, article_id)
    notes = list(warnings) + body_warnings
    if article_id is None:
        article_id = content_id(headline, body, non_empty_str(dict.get(entry, "published")))
        notes.append("id derived from content: the entry has neither a guid/id nor a link")
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
        warnings=notes,
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
    data, warnings = utf8_feed(data)
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
    if parsed.bozo:
        warnings.append(f"lenient feed parse: {parsed.get('bozo_exception')}")
    captions = media_captions(data, parsed.get("encoding"))
    outliers = date_outliers([_entry_date(entry) for entry in entries])
    for number, entry in enumerate(entries, start=1):
        notes = tuple(warnings) + ((outliers[number - 1],) if number - 1 in outliers else ())
        yield entry_record(entry, parsed.feed, input_format, origin,
                           f"entry {number}", ingested_at, captions, notes)
