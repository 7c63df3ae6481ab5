"""Helpers shared by the format readers.

Every reader builds its output through :func:`new_record` and
:func:`read_reject` so that the defaults of a ``WireRecord`` and the stage of
a ``Reject`` are decided in one place, not once per format.
"""
from __future__ import annotations

import os
import posixpath
import re
from typing import Any, Optional, Union

from wiredesk.schemas.records import Reject, WireRecord, bounded_raw, make_reject

#: Fields a reader may leave out; everything else it must give.
_OPTIONAL_DEFAULTS = dict(
    source=None, headline=None, body=None, body_format="text", byline=None,
    dateline=None, language=None, url=None, published_at=None, version=None,
    version_created=None, status=None, urgency=None, id_from_path=False, warnings=(),
)

#: Tags whose presence means a body is HTML rather than plain text. A bare
#: "<" (as in "profits < 5%") must not count, so we look for real tags only.
_HTML_TAG = re.compile(
    r"<(?:p|br|div|span|a|b|i|em|strong|u|ul|ol|li|h[1-6]|table|tr|td|"
    r"blockquote|img|script|style|figure|section|article|html|body)\b[^>]*>"
    r"|</[A-Za-z][A-Za-z0-9]*\s*>",
    re.IGNORECASE,
)

#: Suffixes of compressed files; the caller has already decompressed them,
#: so they say nothing about the format inside.
COMPRESSION_SUFFIXES = (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zstd")


def new_record(*, article_id: str, input_format: str, origin: str,
               position: str, ingested_at: Optional[str],
               raw: Union[str, bytes, None], subjects=None,
               **fields: Any) -> WireRecord:
    """Build a WireRecord, filling unset optional fields with their defaults.

    ``raw`` is bounded here so no reader can forget to do it.
    """
    unknown = set(fields) - set(_OPTIONAL_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown WireRecord fields: {sorted(unknown)}")
    values = {**_OPTIONAL_DEFAULTS, **fields}
    values["warnings"] = list(values["warnings"])
    text, _, _ = bounded_raw(raw)
    return WireRecord(article_id=article_id, subjects=list(subjects or []),
                      input_format=input_format, origin=origin,
                      position=position, ingested_at=ingested_at, raw=text,
                      **values)


def read_reject(reason: str, origin: str, position: str,
                raw: Union[str, bytes, None], input_format: Optional[str] = None,
                article_id: Optional[str] = None) -> Reject:
    """A Reject from the read stage (the only stage readers ever report)."""
    return make_reject("read", reason, origin, position, raw,
                       input_format=input_format, article_id=article_id)


def looks_like_html(text: Optional[str]) -> bool:
    """True when ``text`` carries real HTML tags (not just a "<" sign)."""
    return bool(text) and _HTML_TAG.search(text) is not None


def body_format_of(text: Optional[str]) -> str:
    """"html" when the body holds HTML tags, else "text"."""
    return "html" if looks_like_html(text) else "text"


def non_empty_str(value: Any) -> Optional[str]:
    """``value`` if it is a string with some non-space text, else None.

    Wire formats use "" and whitespace for "absent"; treating them as absent
    keeps later stages from seeing empty headlines or bylines.
    """
    if isinstance(value, str) and value.strip():
        return value
    return None


def as_int(value: Any) -> Optional[int]:
    """An integer from an int, an integral float or a string of digits.

    Returns None when ``value`` is not integer-like (callers decide whether
    that is a reject or just a missing value). Booleans are not integers.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,18}\s*", value):
        return int(value)
    return None


def strip_compression_suffix(path: str) -> str:
    """``story.jsonl.gz`` -> ``story.jsonl``: the format is the inner name."""
    lower = path.lower()
    for suffix in COMPRESSION_SUFFIXES:
        if lower.endswith(suffix):
            return path[: -len(suffix)]
    return path


def file_stem(path: str) -> str:
    """File name without directories, compression suffix and extension."""
    name = os.path.basename(strip_compression_suffix(path.rstrip("/\\")))
    stem, _ = os.path.splitext(name)
    return stem or name


def path_id(input_name: str) -> str:
    """The id of a story named by its file: the relative path without compression
    suffix and extension ("business/001.txt.gz" -> "business/001")."""
    name = strip_compression_suffix(input_name.replace("\\", "/").strip("/"))
    stem, ext = posixpath.splitext(name)
    return stem if stem and not stem.endswith("/") else name


def preview(value: Any, limit: int = 60) -> str:
    """A short repr of a value for use inside a reject reason."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
