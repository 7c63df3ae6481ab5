"""Records as Parquet rows: partition, size estimate and conversion to a schema's columns.

Pure functions under the write transforms, testable without a pipeline.
"""
from __future__ import annotations

from typing import Dict, Optional

import pyarrow as pa

from wiredesk.transforms.cleaning.timestamps import to_datetime

DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def partition_of(record) -> Optional[str]:
    """dt= value of a record: date of published_at, else of ingested_at.

    None for tables whose rows have no time at all (duplicates): written
    unpartitioned.
    """
    if not hasattr(record, "ingested_at"):
        return None
    for field in ("published_at", "ingested_at"):
        value = getattr(record, field, None)
        if value:
            return value[:10]
    return DEFAULT_PARTITION


def _value_bytes(value) -> int:
    if value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass")) + 4
    if isinstance(value, (bytes, bytearray)):
        return len(value) + 4
    if hasattr(value, "_fields"):
        return sum(_value_bytes(v) for v in value)
    if isinstance(value, (list, tuple)):
        return 4 + sum(_value_bytes(v) for v in value)
    return 8


def row_bytes(record) -> int:
    """Estimated uncompressed size of a record's row (strings by their UTF-8 length, numbers 8 bytes)."""
    return _value_bytes(record)


def to_row(record, schema: pa.Schema) -> Dict:
    """A NamedTuple (nested ones too) as a dict for ``schema``; timestamps parsed."""
    row = {}
    for field in schema:
        value = getattr(record, field.name)
        if pa.types.is_timestamp(field.type):
            value = to_datetime(value)
        elif hasattr(value, "_asdict"):
            value = value._asdict()
        elif isinstance(value, (list, tuple)) and value and hasattr(value[0], "_asdict"):
            value = [v._asdict() for v in value]
        row[field.name] = value
    return row
