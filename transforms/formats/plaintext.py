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

import codecs
import hashlib
import re
from typing import Dict, List, Optional, Tuple, Union

import charset_normalizer

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


#: Byte order marks, longest first: the UTF-32 LE mark starts with UTF-16 LE's.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Decoding at most this many bytes is enough to guess a charset.
_GUESS_BYTES = 256 * 1024


def bom_codec(data: bytes) -> Optional[str]:
    """The codec named by a byte order mark at the start of ``data``, or None."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return codec
    return None


def charset_label(codec: str) -> str:
    """A charset as people write it: "cp1252" -> "windows-1252", "koi8_r" -> "koi8-r"."""
    name = codecs.lookup(codec).name
    match = re.fullmatch(r"cp(125\d)", name)
    return f"windows-{match.group(1)}" if match else name


def guess_charset(data: bytes) -> Optional[str]:
    """The most likely legacy charset of non-UTF-8 bytes (a Python codec name),
    or None when charset-normalizer finds none that reads as text.

    Among the equally clean readings windows-1252 wins: Latin-1 and
    windows-1252 text reads cleanly in many Latin charsets (cp1250 would turn
    "\u00a315.8m" into "\u014115.8m"), and windows-1252 is what the web and
    most wire systems mean by "ISO-8859-1".
    """
    results = charset_normalizer.from_bytes(data[:_GUESS_BYTES])
    matches = list(results)
    if not matches:
        return None
    cleanest = min(m.chaos for m in matches)
    candidates = [m.encoding for m in matches if m.chaos <= cleanest + 0.01]
    if "cp1252" in candidates:
        return "cp1252"
    best = results.best()
    return best.encoding if best is not None else candidates[0]


def _strict_utf8(data: bytes) -> Tuple[Optional[str], List[str]]:
    """``(text, warnings)``: ``data`` as UTF-8, or None; a sequence cut off
    at the very end (a prefix read from a longer file, a truncated file) is
    dropped, with a warning, rather than failing."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return data[:exc.start].decode("utf-8"), [
                "incomplete UTF-8 sequence at the end dropped"]
        return None, []


def decode_bytes(data: bytes) -> Tuple[Optional[str], List[str]]:
    """``(text, warnings)``; text is None when ``data`` is binary, not text.

    A byte order mark (UTF-8, UTF-16, UTF-32) decides first; then strict
    UTF-8; then UTF-8 with a few stray bad bytes (replaced by U+FFFD, and
    said so) when most non-ASCII characters are valid UTF-8; otherwise the
    charset is guessed (charset-normalizer) and named in the warnings.
    Binary = NUL bytes without a UTF-16/32 mark, or more than 10 % of
    characters undecodable or control characters.
    """
    codec = bom_codec(data)
    if codec is not None:
        return _unless_binary(data.decode(codec, errors="replace")), []
    if b"\x00" in data:
        return None, []
    text, cut = _strict_utf8(data)
    if text is not None:
        return _unless_binary(text), cut
    loose = data.decode("utf-8", errors="replace")
    bad = loose.count("\ufffd")
    if sum(1 for ch in loose if ch > "\x7f") > 2 * bad:
        return _unless_binary(loose), [f"invalid UTF-8 bytes replaced with U+FFFD: {bad}"]
    guessed = guess_charset(data)
    if guessed is None:
        return _unless_binary(loose), [f"invalid UTF-8 bytes replaced with U+FFFD: {bad}"]
    return _unless_binary(data.decode(guessed, errors="replace")), [
        f"charset guessed: {charset_label(guessed)}"]


def _unless_binary(text: str) -> Optional[str]:
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text:
        return text
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    return None if bad > BINARY_RATIO * len(text) else text


def decode_text(data: bytes) -> Optional[str]:
    """The text of ``data`` (see :func:`decode_bytes`), or None when it is binary."""
    return decode_bytes(data)[0]


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

    text, warnings = decode_bytes(data)
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
        warnings=warnings,
    )


def content_id(data: bytes) -> str:
    """A stable id for a text message without one: same bytes, same id."""
    return "text-" + hashlib.sha256(data).hexdigest()[:20]
