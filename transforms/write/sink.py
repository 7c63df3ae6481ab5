"""A Parquet ``FileSink`` for the write stage (one per file): explicit schema, sorted rows, bounded row groups, zstd.

A file's records are sorted by their key before they are written, so the same
input gives the same bytes whatever order the runner delivers them in. The sink
therefore holds one file's records (at most about the target file size, which
the write stage chooses shards for), never a partition, and writes them in row
groups of at most ``row_group_rows`` rows or ``row_group_bytes`` estimated
bytes, whichever comes first.
"""
from __future__ import annotations

from typing import Callable, List, Optional

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
    """Writes ``(destination, record)`` elements' records as rows of ``schema``, sorted by ``key``."""

    def __init__(self, schema: pa.Schema, key: Callable, row_group_rows: int = ROW_GROUP_ROWS,
                 row_group_bytes: int = ROW_GROUP_BYTES):
        self.schema = schema
        self.key = key
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self._writer: Optional[pq.ParquetWriter] = None
        self._records: List = []

    def for_destination(self, destination) -> ParquetSink:
        """A new sink with these settings, for one file (as ``WriteToFiles``' ``sink`` argument is called)."""
        return ParquetSink(self.schema, self.key, self.row_group_rows, self.row_group_bytes)

    def open(self, fh):
        self._writer = pq.ParquetWriter(fh, self.schema, compression=COMPRESSION)
        self._records = []

    def write(self, element):
        self._records.append(element[1])

    def flush(self):
        rows, size = [], 0
        for record in sorted(self._records, key=self.key):
            rows.append(to_row(record, self.schema))
            size += row_bytes(record)
            if len(rows) >= self.row_group_rows or size >= self.row_group_bytes:
                self._write_row_group(rows)
                rows, size = [], 0
        self._write_row_group(rows)
        self._records = []
        self._writer.close()

    def _write_row_group(self, rows):
        if rows:
            self._writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))
