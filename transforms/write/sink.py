"""A Parquet ``FileSink`` for ``fileio.WriteToFiles``: explicit schema, bounded row groups, zstd.

Rows are buffered only up to one row group (``row_group_rows`` rows or
``row_group_bytes`` estimated bytes, whichever comes first), so a writer never
holds more than one row group whatever the file's size.
"""
from __future__ import annotations

from typing import List, Optional

import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io import fileio

from wiredesk.transforms.write.rows import row_bytes, to_row

COMPRESSION = "zstd"
#: A row group: at most this many rows ...
ROW_GROUP_ROWS = 50_000
#: ... or this many estimated bytes, whichever comes first.
ROW_GROUP_BYTES = 64 * 1024 * 1024


class ParquetSink(fileio.FileSink):
    """Writes ``(destination, record)`` elements' records as rows of ``schema``."""

    def __init__(self, schema: pa.Schema, row_group_rows: int = ROW_GROUP_ROWS,
                 row_group_bytes: int = ROW_GROUP_BYTES):
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self._writer: Optional[pq.ParquetWriter] = None
        self._rows: List[dict] = []
        self._bytes = 0

    def open(self, fh):
        self._writer = pq.ParquetWriter(fh, self.schema, compression=COMPRESSION)
        self._rows, self._bytes = [], 0

    def write(self, element):
        record = element[1]
        self._rows.append(to_row(record, self.schema))
        self._bytes += row_bytes(record)
        if len(self._rows) >= self.row_group_rows or self._bytes >= self.row_group_bytes:
            self._write_row_group()

    def flush(self):
        self._write_row_group()
        self._writer.close()

    def _write_row_group(self):
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
        self._rows, self._bytes = [], 0


class SinkFor:
    """``sink`` argument of ``WriteToFiles``: a new ParquetSink of one schema per file."""

    def __init__(self, schema: pa.Schema, row_group_rows: int = ROW_GROUP_ROWS,
                 row_group_bytes: int = ROW_GROUP_BYTES):
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes

    def __call__(self, destination) -> ParquetSink:
        return ParquetSink(self.schema, self.row_group_rows, self.row_group_bytes)
