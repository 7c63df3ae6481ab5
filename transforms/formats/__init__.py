"""Format readers: bytes in, one ``WireRecord`` or ``Reject`` per record out.

Pure Python, no Beam: the read transform calls :func:`iter_file` for files
and :func:`parse_payload` for messages. Contract for both:

* every input record yields exactly one item (blank JSON lines are not
  records); a file that cannot be parsed at all yields one Reject;
* nothing raises for bad input, nothing is logged and dropped;
* ``ingested_at`` is copied to every WireRecord unchanged.

Modules: ``detect`` (which reader), ``jsonlines`` (JSON containers),
``flat`` and ``ninjs`` (JSON objects), ``newsml``, ``feeds``, ``iptc7901``
(IPTC 7901 / ANPA-1312 wire messages), ``plaintext``.
"""
from __future__ import annotations

import typing
import zlib
from typing import Iterable, Iterator, Optional, Union

from wiredesk.schemas.records import Reject, WireRecord

from . import detect, feeds, iptc7901, jsonlines, newsml, plaintext
from .common import path_id, read_reject

__all__ = ["FORMATS", "iter_file", "parse_payload"]

#: Values of ``WireRecord.input_format``.
FORMATS = ("jsonl", "ninjs", "newsml", "rss", "atom", "iptc7901", "text")

#: Bytes read up front to detect the format. Large enough to hold the first
#: line of typical JSON lines and an XML prolog with its root element.
PREFIX_BYTES = 64 * 1024

Item = Union[WireRecord, Reject]

#: Errors a (decompressing) stream raises when the file itself is corrupt.
_READ_ERRORS = (OSError, EOFError, zlib.error)


def iter_file(path: str, fh: typing.BinaryIO,
              ingested_at: Optional[str], name: Optional[str] = None) -> Iterator[Item]:
    """Detect the format of one file and yield one item per record.

    Detection: extension first, then the first bytes. ``fh`` is read once
    and may be a non-seekable decompressed stream; JSON lines are streamed.
    ``name`` is the file's path relative to its input root: a plain-text story
    without an id in its front matter is named after it ("business/001"),
    never after the bare file name, which folders reuse.
    """
    default_id = path_id(name) if name else None
    return _guarded(_iter_file(path, fh, ingested_at, default_id), path)


def parse_payload(data: bytes, origin: str, position: str,
                  ingested_at: Optional[str]) -> Iterator[Item]:
    """One message's bytes (e.g. Pub/Sub): sniffed, one item per record.

    A message holding one record gets ``position``; a message holding
    several (a JSON array, a newsMessage, a feed) gets "<position> / item N".
    """
    items = list(_guarded(_iter_payload(bytes(data or b""), origin, position,
                                        ingested_at), origin))
    if len(items) == 1:
        return iter([items[0]._replace(position=position)])
    return iter([item._replace(position=f"{position} / {item.position}")
                 for item in items])


def _read_prefix(fh: typing.BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes; loops because streams may return short reads."""
    chunks, total = [], 0
    while total < size:
        chunk = fh.read(size - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _iter_file(path: str, fh: typing.BinaryIO,
               ingested_at: Optional[str], default_id: Optional[str]) -> Iterator[Item]:
    prefix = _read_prefix(fh, PREFIX_BYTES)
    compressed = detect.compressed_kind(prefix)
    if compressed:
        yield read_reject(f"file is still {compressed}-compressed: name it with "
                          f"the matching suffix (e.g. .gz) so it is decompressed, "
                          "or send it uncompressed", path, "offset 0", prefix[:256])
        return
    kind = detect.detect(path, prefix)
    if kind in ("jsonl", "json"):
        yield from jsonlines.iter_json_file(prefix, fh, path, ingested_at,
                                            lines_only=kind == "jsonl")
        return
    if kind == "binary":  # the prefix is proof enough; do not read the rest
        yield from _iter_bytes(kind, prefix, path, ingested_at, default_id=None)
        return
    data = prefix + fh.read()
    yield from _iter_bytes(kind, data, path, ingested_at, default_id=default_id,
                           default_id_is_path=default_id is not None)


def _iter_payload(data: bytes, origin: str, position: str,
                  ingested_at: Optional[str]) -> Iterator[Item]:
    kind = detect.sniff(data[:PREFIX_BYTES])
    if kind == "json":
        yield from jsonlines.iter_json_document(data, origin, ingested_at)
        return
    yield from _iter_bytes(kind, data, origin, ingested_at,
                           default_id=plaintext.content_id(data))


def _iter_bytes(kind: str, data: bytes, origin: str, ingested_at: Optional[str],
                default_id: Optional[str], default_id_is_path: bool = False) -> Iterator[Item]:
    """Items of an in-memory input whose container kind is known."""
    if kind == "xml":
        kind = detect.xml_kind(data[:PREFIX_BYTES])
    if kind in ("rss", "atom", "feed"):
        yield from feeds.iter_feed(data, origin, ingested_at,
                                   hint=kind if kind != "feed" else None)
    elif kind == "newsml":
        yield from newsml.iter_newsml(data, origin, ingested_at)
    elif kind == "json":
        yield from jsonlines.iter_json_document(data, origin, ingested_at)
    elif kind == "iptc7901":
        yield from iptc7901.iter_iptc7901(data, origin, ingested_at)
    elif kind == "binary":
        yield read_reject("binary file, not a news record: expected JSON, XML "
                          "or UTF-8 text", origin, "offset 0", data)
    else:  # "text", "empty"
        yield plaintext.text_record(data, origin, "offset 0", ingested_at,
                                    default_id=default_id, default_id_is_path=default_id_is_path)


def _guarded(items: Iterable[Item], origin: str) -> Iterator[Item]:
    """Turn a failure mid-file into a final Reject instead of an exception.

    A corrupt gzip stream only fails when read, possibly after many good
    records; those are kept and the failure is reported where it happened.
    Any other exception is a reader bug: it is reported, not raised, so one
    bad file cannot fail a whole pipeline run.
    """
    last = None
    try:
        for item in items:
            last = item.position
            yield item
    except _READ_ERRORS as exc:
        where = f"after {last}" if last else "offset 0"
        yield read_reject(f"file could not be read ({type(exc).__name__}: {exc}); "
                          "it may be truncated or corrupt: send it again",
                          origin, where, "")
    except Exception as exc:  # noqa: BLE001 - see docstring
        where = f"after {last}" if last else "offset 0"
        yield read_reject(f"reader failed unexpectedly ({type(exc).__name__}: "
                          f"{exc}); this is a wiredesk bug, please report it "
                          "with this input", origin, where, "")
