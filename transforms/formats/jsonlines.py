"""JSON containers: JSON lines, a single JSON document, or an array.

This module only splits the input into JSON values and reports values that
are not records; whether an object is a ninjs object or a flat wire record is
decided per object (:func:`record_from_value`), because a drop often mixes
both in one file.

JSON lines are streamed: a multi-gigabyte ``.jsonl.gz`` is never held in
memory, and one bad line costs one reject, not the file.
"""
from __future__ import annotations

import io
import json
from typing import Any, BinaryIO, Iterable, Iterator, Optional, Tuple, Union

from wiredesk.schemas.records import Reject, WireRecord

from . import flat, ninjs
from .common import preview, read_reject

Item = Union[WireRecord, Reject]

#: Longest JSON line we parse. Longer lines are rejected (and skipped without
#: being held in memory): no news story is 16 MiB of JSON.
MAX_LINE_BYTES = 16 * 1024 * 1024

_READ_CHUNK = 1 << 16


class ReplayStream(io.RawIOBase):
    """A read-once stream with bytes already read from it put back in front.

    Format detection must look at the first bytes of a non-seekable stream
    (e.g. a gzip pipe) before the reader consumes it from the start.
    """

    def __init__(self, prefix: bytes, fh: BinaryIO):
        super().__init__()
        self._prefix = memoryview(prefix)
        self._fh = fh

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if len(self._prefix):
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._fh.read(len(buffer))
        n = len(data or b"")
        buffer[:n] = data or b""
        return n


def iter_lines(prefix: bytes, fh: BinaryIO,
               max_bytes: Optional[int] = None) -> Iterator[Tuple[int, Optional[bytes]]]:
    """``(line_number, line)`` pairs, 1-based; ``line`` is None when too long.

    An overlong line is skipped chunk by chunk so memory stays bounded.
    """
    max_bytes = max_bytes or MAX_LINE_BYTES
    reader = io.BufferedReader(ReplayStream(prefix, fh), _READ_CHUNK)
    number = 0
    while True:
        line = reader.readline(max_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = reader.readline(_READ_CHUNK)
            yield number, None
            continue
        yield number, line


def record_from_value(value: Any, raw: str, origin: str, position: str,
                      ingested_at: Optional[str]) -> Item:
    """One parsed JSON value -> a ninjs or flat record, or a reject."""
    if not isinstance(value, dict):
        return read_reject(
            f"expected a JSON object (a story record), got {flat.json_type_name(value)} "
            f"{preview(value)}: each record must be an object like "
            '{"id": "...", "headline": "..."}', origin, position, raw, flat.FORMAT)
    if ninjs.is_ninjs(value):
        return ninjs.record_from_object(value, raw, origin, position, ingested_at)
    return flat.record_from_object(value, raw, origin, position, ingested_at)


def items_from_value(value: Any, raw: str, origin: str, position: str,
                     ingested_at: Optional[str], many_prefix: Optional[str] = None) -> Iterator[Item]:
    """One parsed JSON value -> its items: the stories of a ninjs envelope
    (``{"item": [...]}``, ``{"data": {"item": ...}}``), positions
    "<many_prefix>item N", else the one record of :func:`record_from_value`."""
    inner = ninjs.envelope_items(value)
    if inner is None:
        yield record_from_value(value, raw, origin, position, ingested_at)
        return
    prefix = f"{position} / " if many_prefix is None else many_prefix
    for number, obj in enumerate(inner, start=1):
        yield record_from_value(obj, json.dumps(obj, ensure_ascii=False), origin,
                                f"{prefix}item {number}", ingested_at)


def _decode_line(line: bytes) -> Tuple[Optional[str], Optional[str]]:
    """``(text, problem)`` for one line of a JSON-lines file."""
    if b"\x00" in line:
        return None, "binary data (NUL bytes), not a JSON line"
    try:
        return line.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, (f"line is not valid UTF-8 (byte 0x{line[exc.start]:02x} at "
                      f"byte {exc.start}): re-encode the file as UTF-8")


def _json_error(exc: json.JSONDecodeError, one_line: bool) -> str:
    """The JSON error and where it is, so the sender can find it."""
    where = f"column {exc.colno}" if one_line else f"line {exc.lineno} column {exc.colno}"
    # json's "Unterminated string starting at" already ends in "at".
    message = exc.msg[: -len(" at")] if exc.msg.endswith(" at") else exc.msg
    return f"invalid JSON: {message} at {where}"


def _parse_json(text: str) -> Tuple[Any, Optional[str]]:
    """``(value, problem)`` for one line; the problem names error and column."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, _json_error(exc, one_line=True)
    except RecursionError:
        return None, "invalid JSON: nested too deeply to be a news record"


def items_from_line(number: int, line: Optional[bytes], origin: str,
                    ingested_at: Optional[str]) -> Iterator[Item]:
    """One JSON line -> its item (several for an envelope); none for a blank
    line (not a record)."""
    position = f"line {number}"
    if line is None:
        yield read_reject(f"line longer than {MAX_LINE_BYTES} bytes: split it "
                           "into one record per line", origin, position, "",
                           flat.FORMAT)
        return
    text, problem = _decode_line(line)
    if problem:
        # the line as written, without its terminator (like every other line reject)
        yield read_reject(problem, origin, position, line.rstrip(b"\r\n"), flat.FORMAT)
        return
    text = text.strip()
    if not text:
        return
    value, problem = _parse_json(text)
    if problem:
        yield read_reject(f"{problem}; each line "
                          "must hold one complete JSON object", origin,
                          position, text, flat.FORMAT)
        return
    yield from items_from_value(value, text, origin, position, ingested_at)


def iter_json_lines(lines: Iterable[Tuple[int, Optional[bytes]]], origin: str,
                    ingested_at: Optional[str]) -> Iterator[Item]:
    """Items of a JSON-lines stream, one per non-blank line."""
    for number, line in lines:
        yield from items_from_line(number, line, origin, ingested_at)


def _first_line_is_record(prefix: bytes) -> bool:
    """True when the first non-blank line of ``prefix`` is a whole JSON object.

    That is what tells a ``.json`` file holding JSON lines apart from a
    pretty-printed document, without reading the whole file.
    """
    for line in prefix.split(b"\n"):
        if line.strip():
            try:
                return isinstance(json.loads(line.decode("utf-8-sig")), dict)
            except (ValueError, RecursionError):
                return False
    return False


def _split_document(text: str) -> Tuple[list, Optional[str]]:
    """``([(offset, value, raw)], problem)`` for one or more JSON values."""
    decoder = json.JSONDecoder()
    values, index = [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return values, None
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            return values, _json_error(exc, one_line=False)
        except RecursionError:
            return values, "invalid JSON: nested too deeply to be a news record"
        values.append((index, value, text[index:end]))
        index = end


def _mostly_json_lines(text: str) -> bool:
    """True when most non-blank lines are JSON objects on their own.

    Then a document that fails to parse is JSON lines with some bad lines,
    and each line deserves its own item rather than one reject for the file.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    good = sum(1 for line in lines if isinstance(_parse_json(line)[0], dict))
    return good * 2 >= len(lines)


def iter_json_document(data: bytes, origin: str,
                       ingested_at: Optional[str]) -> Iterator[Item]:
    """Items of an in-memory JSON input: an object, an array, or JSON lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield read_reject(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at byte "
                          f"{exc.start}): re-encode the file as UTF-8",
                          origin, "offset 0", data, None)
        return
    if not text.strip():
        yield read_reject("empty file: expected a JSON object, an array of "
                          "objects or one object per line", origin, "offset 0", data)
        return
    values, problem = _split_document(text)
    if problem and _mostly_json_lines(text):
        lines = ((n, line.encode("utf-8")) for n, line in
                 enumerate(text.split("\n"), start=1))
        yield from iter_json_lines(lines, origin, ingested_at)
        return
    if problem:
        yield read_reject(f"{problem}: the file is not valid JSON; fix the "
                          "syntax or send one JSON object per line", origin,
                          "offset 0", text)
        return
    for offset, value, raw in values:
        if isinstance(value, list) and len(values) == 1:
            yield from _iter_array(value, origin, ingested_at)
        else:
            yield from items_from_value(value, raw, origin, f"offset {offset}", ingested_at,
                                        many_prefix="" if len(values) == 1 else None)


def _iter_array(values: list, origin: str, ingested_at: Optional[str]) -> Iterator[Item]:
    """Items of a top-level JSON array, positions "item 1", "item 2", ..."""
    for number, value in enumerate(values, start=1):
        raw = json.dumps(value, ensure_ascii=False)
        yield record_from_value(value, raw, origin, f"item {number}", ingested_at)


def iter_json_file(prefix: bytes, fh: BinaryIO, origin: str,
                   ingested_at: Optional[str], lines_only: bool = False) -> Iterator[Item]:
    """Items of a JSON file whose first bytes ``prefix`` were already read.

    ``.jsonl``/``.ndjson`` (``lines_only``) and ``.json`` files whose first
    line is a complete object are streamed line by line; any other ``.json``
    is a document and is read whole.
    """
    if lines_only or _first_line_is_record(prefix):
        yield from iter_json_lines(iter_lines(prefix, fh), origin, ingested_at)
    else:
        yield from iter_json_document(prefix + fh.read(), origin, ingested_at)
