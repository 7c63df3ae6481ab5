"""Plain-text stories: optional front matter, a headline line, the body.

::

    ---
    id: rtr-2024-0311-quake
    source: Reuters
    published_at: 2024-03-11T09:30:00Z
    ---
    Strong earthquake shakes northern Japan

    TOKYO (Reuters) - A strong earthquake ...

Front matter is the Jekyll/Hugo convention: simple ``key: value`` lines
between two ``---`` lines at the very top. We parse only that subset (no
YAML dependency, no YAML surprises such as ``no`` becoming False).
"""
from __future__ import annotations

import hashlib
import re
from typing import Dict, Optional, Tuple, Union

from wiredesk.schemas.records import Reject, WireRecord

from .common import as_int, file_stem, new_record, non_empty_str, preview, read_reject

FORMAT = "text"

#: Front-matter keys we map, with their aliases from static-site generators.
_KEY_ALIASES = {
    "id": "id", "source": "source", "published_at": "published_at",
    "date": "published_at", "url": "url", "language": "language",
    "lang": "language", "byline": "byline", "author": "byline",
    "version": "version", "status": "status", "dateline": "dateline",
    "version_created": "version_created", "updated": "version_created",
    "urgency": "urgency",
}

_FRONT_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s?(.*)$")

#: Share of undecodable or control characters above which bytes are binary.
BINARY_RATIO = 0.10

Item = Union[WireRecord, Reject]


def decode_text(data: bytes) -> Optional[str]:
    """The text of ``data``, or None when it is binary rather than text.

    Binary = NUL bytes, or more than 10 % of characters undecodable as UTF-8
    or control characters. A few stray bad bytes in an otherwise UTF-8 story
    become U+FFFD instead of losing the story.
    """
    if b"\x00" in data:
        return None
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text:
        return text
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    return None if bad > BINARY_RATIO * len(text) else text


def split_front_matter(text: str) -> Tuple[Dict[str, str], str, Optional[str]]:
    """``(fields, rest, problem)``.

    Without an opening ``---`` line, or with no closing one, there is no front
    matter and the whole text is the story (a story may start with a rule).
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text, None
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        return {}, text, None
    fields: Dict[str, str] = {}
    for number, line in enumerate(lines[1:end], start=2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _FRONT_LINE.match(stripped)
        if match is None:
            return {}, text, (f"front matter line {number} is {preview(stripped)}, "
                              "not 'key: value'")
        key, value = match.group(1).lower(), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        fields[key] = value
    return fields, "".join(lines[end + 1:]), None


def split_headline(text: str) -> Tuple[Optional[str], Optional[str]]:
    """First non-empty line is the headline; the rest, leading blank lines
    dropped, is the body, otherwise unchanged."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip():
            rest = lines[index + 1:]
            while rest and not rest[0].strip():
                rest.pop(0)
            return line.strip(), non_empty_str("".join(rest))
    return None, None


def _mapped(fields: Dict[str, str]) -> Dict[str, Optional[str]]:
    """Front-matter fields under WireRecord names; unknown keys ignored."""
    out: Dict[str, Optional[str]] = {}
    for key, value in fields.items():
        name = _KEY_ALIASES.get(key)
        if name and name not in out:
            out[name] = non_empty_str(value)
    return out


def text_record(data: bytes, origin: str, position: str,
                ingested_at: Optional[str], default_id: Optional[str] = None,
                default_id_is_path: bool = False) -> Item:
    """One plain-text story -> a WireRecord, or a reject saying what is wrong.

    ``default_id`` is the article id when the front matter has none: the file
    stem for files; for messages the caller passes a content hash.
    """
    def reject(reason: str, article_id: Optional[str] = None) -> Reject:
        return read_reject(reason, origin, position, data, FORMAT, article_id)

    text = decode_text(data)
    if text is None:
        return reject("binary file, not a news record: expected UTF-8 text")
    if not text.strip():
        return reject("empty file: a text story needs a headline line and a body")
    fields, rest, problem = split_front_matter(text)
    if problem:
        return reject(problem + ": write front matter as 'key: value' lines "
                      "between two '---' lines")
    meta = _mapped(fields)
    article_id = meta.get("id") or default_id or file_stem(origin)
    for key in ("version", "urgency"):
        if meta.get(key) is not None and as_int(meta[key]) is None:
            return reject(f"front matter '{key}' is {preview(meta[key])}, not an "
                          "integer", article_id)
    headline, body = split_headline(rest)
    if headline is None:
        return reject("no text after the front matter: add a headline line "
                      "and the story", article_id)
    return new_record(
        article_id=article_id, id_from_path=default_id_is_path and not meta.get("id"),
        input_format=FORMAT, origin=origin,
        position=position, ingested_at=ingested_at, raw=text,
        source=meta.get("source"), headline=headline, body=body,
        body_format="text", byline=meta.get("byline"),
        dateline=meta.get("dateline"), language=meta.get("language"),
        url=meta.get("url"), published_at=meta.get("published_at"),
        version=as_int(meta.get("version")) if meta.get("version") else None,
        version_created=meta.get("version_created"),
        status=(meta.get("status") or "").lower() or None,
        urgency=as_int(meta.get("urgency")) if meta.get("urgency") else None,
    )


def content_id(data: bytes) -> str:
    """A stable id for a text message without one: same bytes, same id."""
    return "text-" + hashlib.sha256(data).hexdigest()[:20]
