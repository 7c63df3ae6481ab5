"""Format detection: the file extension first, then the first bytes.

Extensions are trusted because senders name files by convention and sniffing
can be fooled (a text story may start with "{"). Only unknown extensions and
``.xml`` (NewsML-G2 or a feed?) are decided by content.
"""
from __future__ import annotations

import os
import re
from typing import Optional

from .common import strip_compression_suffix
from .iptc7901 import looks_like_iptc7901
from .plaintext import bom_codec, decode_text

#: Container kinds, not WireRecord formats: "json" may hold ninjs or flat
#: records, "xml" NewsML-G2 or a feed.
EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonlines": "jsonl",
    ".json": "json", ".ninjs": "json",
    ".xml": "xml", ".nml": "xml", ".newsml": "xml", ".g2": "xml",
    ".rss": "rss", ".rdf": "rss", ".atom": "atom",
    ".txt": "text", ".text": "text",
}

#: Magic numbers of compressed or archive files that reached us undecoded.
_COMPRESSED_MAGIC = (
    (b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"),
)

#: An XML document's first bytes without a byte order mark, by encoding
#: (XML 1.0 Appendix F): "<?" in UTF-32 and UTF-16, big and little endian.
_XML_START = (
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
)

#: XML prolog parts to skip before the root element. The DOCTYPE pattern
#: allows an internal subset ``[...]`` (where entity bombs live).
_PROLOG = re.compile(
    r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(r"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)")

#: Root elements of feeds (RSS 2.0, RSS 1.0 rdf:RDF, Atom).
FEED_ROOTS = frozenset({"rss", "RDF", "feed"})


def from_extension(path: str) -> Optional[str]:
    """The container kind named by the extension, or None if unknown."""
    _, ext = os.path.splitext(strip_compression_suffix(path))
    return EXTENSIONS.get(ext.lower())


def compressed_kind(prefix: bytes) -> Optional[str]:
    """"gzip", "zip", ... when the bytes are still compressed, else None."""
    for magic, name in _COMPRESSED_MAGIC:
        if prefix.startswith(magic):
            return name
    if prefix[:3] == b"BZh" and prefix[4:10] == b"1AY&SY":
        return "bzip2"
    return None


def xml_codec(data: bytes) -> Optional[str]:
    """The codec that a byte order mark, or the UTF-16/UTF-32 shape of the
    "<?xml" declaration, gives to an XML document; None for ASCII-compatible
    bytes (whose declaration, if any, names the encoding)."""
    codec = bom_codec(data)
    if codec is not None:
        return codec
    for start, name in _XML_START:
        if data.startswith(start):
            return name
    return None


def _sniff_text(prefix: bytes) -> Optional[str]:
    """The start of the input as text (UTF-8, BOM-marked UTF-16/32, UTF-16/32
    XML, a guessed legacy charset), or None when it is binary."""
    codec = xml_codec(prefix)
    if codec is not None and not codec.startswith("utf-8"):
        usable = len(prefix) - len(prefix) % 4
        return prefix[:usable].decode(codec, errors="replace")
    return decode_text(prefix)


def sniff(prefix: bytes) -> str:
    """"json", "xml", "iptc7901", "text", "binary" or "empty" from the first bytes."""
    if looks_like_iptc7901(prefix):
        return "iptc7901"
    text = _sniff_text(prefix)
    if text is None:
        return "binary"
    stripped = text.lstrip()
    if not stripped:
        return "empty"
    if stripped[0] in "{[":
        return "json"
    if stripped[0] == "<":
        return "xml"
    return "text"


def xml_root(prefix: bytes) -> Optional[str]:
    """Local name of the root element, from the first bytes of an XML file."""
    text = _sniff_text(prefix) or ""
    match = _ROOT.search(_PROLOG.sub("", text))
    return match.group(1).rsplit(":", 1)[-1] if match else None


def xml_kind(prefix: bytes) -> str:
    """"feed" for RSS/RDF/Atom roots, otherwise "newsml" (which rejects
    other roots with a reason naming them)."""
    return "feed" if xml_root(prefix) in FEED_ROOTS else "newsml"


def detect(path: str, prefix: bytes) -> str:
    """The container kind of a file: extension, else sniffed content. A file
    that starts with SOH is an IPTC 7901 / ANPA-1312 wire file whatever its
    name (agencies' ".txt"), never plain text with the header as headline."""
    kind = from_extension(path)
    if kind in (None, "text") and looks_like_iptc7901(prefix):
        return "iptc7901"
    if kind:
        return kind
    return sniff(prefix)
