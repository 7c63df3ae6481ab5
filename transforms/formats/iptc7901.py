"""IPTC 7901 and ANPA-1312 wire messages: the transmission formats of news
agencies' serial wires, still found in archives and agency feeds.

One file holds one or more messages, each framed by control characters::

    SOH                                   0x01, start of the message
    AFP0123 4 POL 0412                    header: service identification and
                                          sequence number, priority, category,
                                          word count (IPTC 7901)
    a0123 r i BC-Quake-Japan 03-11 0412   the same in ANPA-1312: service level
                                          and sequence, priority letter,
                                          category letter, slug, date, words
    FRANCE-POLITICS                       optional keyword (slug) line(s)
    STX                                   0x02, start of text
    Headline line
    The story ...
    AP-NY-03-11-24 1052EST                optional date-time line
    ETX                                   0x03, end of text

Fields: ``headline`` is the first text line after STX (a line repeating the
slug is skipped), or the slug when the message has no other text; ``body`` is
the rest; ``urgency`` from the priority; ``subjects`` the category;
``byline`` the ANPA lines ending in "=";
``published_at`` from the date-time line; ``source`` the agency of the
date-time line, else the service identification. The id is the service
identification, the sequence number and the date (sequence numbers restart
every day), qualified later by source. A message whose frame or header cannot
be read is a Reject saying why; it is never read as prose.
"""
from __future__ import annotations

import hashlib
import re
from typing import Iterator, List, Optional, Tuple, Union

from wiredesk.schemas.records import Reject, WireRecord

from .common import new_record, preview, read_reject
from .plaintext import decode_bytes

FORMAT = "iptc7901"

SOH, STX, ETX, EOT = "\x01", "\x02", "\x03", "\x04"

Item = Union[WireRecord, Reject]

#: IPTC 7901 header line: service identification (letters) and sequence
#: number, priority 1-8, category (1-3 letters), word count; anything after
#: (an optional keyword) is kept as the slug.
_IPTC_HEADER = re.compile(
    r"^(?P<service>[A-Za-z]{2,6})\s*(?P<seq>\d{1,6})\s+(?P<priority>[1-8])\s+"
    r"(?P<category>[A-Za-z]{1,3})\s+(?P<words>\d{1,5})(?:\s+(?P<rest>.*))?$")
#: ANPA-1312 header line: service level letter + 4-digit sequence, priority
#: letter, category letter, then slug / version / date / word count.
_ANPA_HEADER = re.compile(
    r"^(?P<service>[a-z])(?P<seq>\d{4})\s+(?P<priority>[fbuzrdsw])\s+"
    r"(?P<category>[a-z])\s+(?P<rest>.*)$", re.IGNORECASE)
#: ANPA trailer: agency-desk-MM-DD-YY HHMMzone, e.g. "AP-NY-03-11-24 1052EST".
_ANPA_DATE = re.compile(
    r"^(?P<agency>[A-Z]{2,6})-(?P<desk>[A-Z]{1,4})-(?P<mm>\d\d)-(?P<dd>\d\d)-(?P<yy>\d\d)"
    r"\s+(?P<hh>\d\d)(?P<mi>\d\d)\s*(?P<tz>[A-Z]{1,4})?$")
#: IPTC 7901 trailer date-time group: DDHHMM [zone] MON YY, e.g. "111052 GMT MAR 24".
_IPTC_DATE = re.compile(
    r"^(?P<dd>\d\d)(?P<hh>\d\d)(?P<mi>\d\d)\s*(?P<tz>[A-Z]{1,4})?\s+"
    r"(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\s+(?P<yy>\d{2}|\d{4})$",
    re.IGNORECASE)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
#: Offsets of the zones wire trailers use; an unknown zone leaves no date.
_ZONES = {
    "GMT": "Z", "UTC": "Z", "Z": "Z", "UT": "Z",
    "EST": "-05:00", "EDT": "-04:00", "CST": "-06:00", "CDT": "-05:00",
    "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
    "CET": "+01:00", "CEST": "+02:00", "BST": "+01:00",
}
#: ANPA priority letters as IPTC urgency (1 most urgent, 5 normal).
_ANPA_PRIORITY = {"f": 1, "b": 2, "u": 3, "z": 4, "r": 5, "s": 5, "d": 6, "w": 7}
#: ANPA category letters.
_ANPA_CATEGORY = {
    "a": "domestic news", "b": "special events", "c": "state and regional",
    "d": "advisories", "e": "entertainment", "f": "business", "i": "international news",
    "j": "lottery", "l": "lifestyle", "n": "state and regional", "o": "weather",
    "p": "national politics", "q": "sports results", "r": "review",
    "s": "sports", "t": "travel", "v": "advisories", "w": "Washington",
    "y": "advisories", "z": "miscellaneous",
}
_ANPA_SHORT_DATE = re.compile(r"^(\d\d)-(\d\d)$")
_SLUG_WORDS = re.compile(r"^(?P<slug>.+?),\s*\d{1,5}$")
_INDENT = re.compile(r"^(?:\t| {2,})\S")


def looks_like_iptc7901(prefix: bytes) -> bool:
    """True when the input starts (after line breaks, spaces or SYN fill) with
    SOH: the start of an IPTC 7901 / ANPA-1312 message. A text story never
    starts with a control character, so such a file is never read as prose."""
    return prefix.lstrip(b"\r\n \t\x16").startswith(SOH.encode())


def iter_iptc7901(data: bytes, origin: str, ingested_at: Optional[str]) -> Iterator[Item]:
    """One item per message (SOH ... STX ... ETX) in ``data``."""
    text, warnings = decode_bytes(data)
    if text is None:
        yield read_reject("binary file, not an IPTC 7901 message: expected text "
                          "between SOH/STX/ETX control characters", origin, "offset 0",
                          data, FORMAT)
        return
    segments = text.split(SOH)[1:]
    if not segments:
        yield read_reject("IPTC 7901 file without SOH: no message starts in it",
                          origin, "offset 0", data, FORMAT)
        return
    for number, segment in enumerate(segments, start=1):
        position = f"message {number}" if len(segments) > 1 else "offset 0"
        yield _message(segment, origin, position, ingested_at, warnings)


def _header_lines(part: str) -> List[str]:
    return [ln.strip(" \t\x16\x04") for ln in part.splitlines() if ln.strip(" \t\x16\x04")]


def _message(segment: str, origin: str, position: str, ingested_at: Optional[str],
             warnings: List[str]) -> Item:
    raw = SOH + segment

    def reject(reason: str, article_id: Optional[str] = None) -> Reject:
        return read_reject(reason, origin, position, raw, FORMAT, article_id)

    if STX not in segment:
        return reject("IPTC 7901 message without STX/ETX: no STX (start of text) "
                      "after the header, so its text cannot be told from it")
    header_part, rest = segment.split(STX, 1)
    if ETX not in rest:
        return reject("IPTC 7901 message without STX/ETX: no ETX (end of text) "
                      "after the text; the message may be truncated")
    text_part = rest.split(ETX, 1)[0]
    lines = _header_lines(header_part)
    if not lines:
        return reject("IPTC 7901 message without a header line (service "
                      "identification, sequence number, priority, category)")
    header = _parse_header(lines[0])
    if header is None:
        return reject(f"IPTC 7901 header line is {preview(lines[0])}, not 'service "
                      "and sequence number, priority, category, word count' "
                      "(IPTC 7901) or 'a0123 r i SLUG' (ANPA-1312)")
    service, seq, urgency, category, slug, short_date, anpa = header
    if slug is None and len(lines) > 1:
        slug = " ".join(lines[1:])
    text_lines = [_unmark(ln, anpa) for ln in text_part.splitlines()]
    published_at, agency, date_key, text_lines = _trailer(text_lines)
    headline, body = _headline_body(text_lines, slug)
    byline, body = _anpa_byline(body) if anpa else (None, body)
    if headline is None:
        return reject("IPTC 7901 message with no text between STX and ETX and no "
                      "slug to name it", None)
    key = date_key or (short_date and f"x{short_date}")
    if key is None:
        key = "h" + hashlib.sha256(text_part.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    article_id = f"{service}-{seq}-{key}"
    source = agency or (service.upper() if not anpa else None)
    return new_record(
        article_id=article_id, input_format=FORMAT, origin=origin, position=position,
        ingested_at=ingested_at, raw=raw, source=source, headline=headline, body=body,
        body_format="text", byline=byline, published_at=published_at, urgency=urgency,
        subjects=[category] if category else [], warnings=warnings,
    )


def _parse_header(line: str):
    """``(service, seq, urgency, category, slug, short_date, anpa)`` or None."""
    match = _IPTC_HEADER.match(line)
    if match:
        rest = (match.group("rest") or "").strip() or None
        return (match.group("service").lower(), match.group("seq"),
                int(match.group("priority")), match.group("category").upper(),
                rest, None, False)
    match = _ANPA_HEADER.match(line)
    if match:
        slug, short_date = None, None
        for token in match.group("rest").split():
            date = _ANPA_SHORT_DATE.match(token)
            if date and short_date is None:
                short_date = date.group(1) + date.group(2)
            elif slug is None and not token.isdigit():
                words = _SLUG_WORDS.match(token)
                slug = words.group("slug") if words else token
        category = match.group("category").lower()
        return (match.group("service").lower(), match.group("seq"),
                _ANPA_PRIORITY.get(match.group("priority").lower()),
                _ANPA_CATEGORY.get(category, category), slug, short_date, True)
    return None


def _unmark(line: str, anpa: bool) -> str:
    """A text line without ANPA's typesetting marks ("^" paragraph start, "<"
    quad left at the end) and control characters."""
    line = line.replace("\x16", "").replace(EOT, "").rstrip()
    if anpa:
        if line.lstrip().startswith("^"):
            line = "\t" + line.lstrip()[1:]
        if line.endswith("<"):
            line = line[:-1].rstrip()
    return line


def _trailer(lines: List[str]) -> Tuple[Optional[str], Optional[str], Optional[str], List[str]]:
    """``(published_at, agency, yyyymmdd, lines without the date-time line)``."""
    index = len(lines) - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index < 0:
        return None, None, None, lines
    last = lines[index].strip()
    match = _ANPA_DATE.match(last)
    if match:
        year, month, day = 2000 + int(match.group("yy")), match.group("mm"), match.group("dd")
        stamp = _stamp(year, month, day, match.group("hh"), match.group("mi"), match.group("tz"))
        return stamp, match.group("agency"), f"{year}{month}{day}", lines[:index]
    match = _IPTC_DATE.match(last)
    if match:
        yy = match.group("yy")
        year = int(yy) if len(yy) == 4 else 2000 + int(yy)
        month = f"{_MONTHS.index(match.group('mon').upper()) + 1:02d}"
        day = match.group("dd")
        stamp = _stamp(year, month, day, match.group("hh"), match.group("mi"),
                       match.group("tz") or "GMT")
        return stamp, None, f"{year}{month}{day}", lines[:index]
    return None, None, None, lines


def _stamp(year: int, month: str, day: str, hh: str, mi: str, tz: Optional[str]) -> Optional[str]:
    offset = _ZONES.get((tz or "").upper())
    if offset is None or not (1 <= int(month) <= 12 and 1 <= int(day) <= 31
                              and int(hh) < 24 and int(mi) < 60):
        return None
    return f"{year:04d}-{month}-{day}T{hh}:{mi}:00{offset}"


def _anpa_byline(body: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """ANPA byline lines end with "=" ("By MARI YAMAGUCHI=", "Associated Press
    Writer="): ``(byline, body without them)``."""
    if not body:
        return None, body
    paragraphs = body.split("\n\n")
    names: List[str] = []
    while paragraphs and paragraphs[0].endswith("=") and "\n" not in paragraphs[0]:
        names.append(paragraphs.pop(0)[:-1].strip())
    return (", ".join(n for n in names if n) or None), ("\n\n".join(paragraphs) or None)


def _same_as_slug(line: str, slug: Optional[str]) -> bool:
    if not slug:
        return False
    stripped = line.strip()
    words = _SLUG_WORDS.match(stripped)
    stripped = words.group("slug") if words else stripped
    return stripped.casefold() == slug.strip().casefold()


def _headline_body(lines: List[str], slug: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """First text line (not the slug repeated) is the headline; the rest the
    body, an indented line starting a paragraph."""
    content = list(lines)
    while content and (not content[0].strip() or _same_as_slug(content[0], slug)):
        content.pop(0)
    if not content:
        return (slug.strip() if slug else None), None
    headline = content[0].strip()
    paragraphs: List[str] = []
    for line in content[1:]:
        if not line.strip():
            paragraphs.append("")
        elif _INDENT.match(line) and paragraphs and paragraphs[-1]:
            paragraphs.extend(["", line.strip()])
        else:
            paragraphs.append(line.strip())
    body = "\n".join(paragraphs).strip()
    return headline, body or None
