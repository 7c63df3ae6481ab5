"""Write stage: records -> Hive-partitioned, zstd-compressed Parquet tables.

Each table is written under ``BASE/<table>/dt=YYYY-MM-DD/part-NNNNN.parquet``
with its explicit schema from ``schemas.tables``. Rows are keyed by
(partition, shard), grouped, sorted and written one file per group, so no step
holds a whole table, and the same input gives byte-for-byte the same rows.
``dt`` is the date of ``published_at``, else of ``ingested_at``, else Hive's
default partition; the duplicates table, whose rows have no time, is not
partitioned.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Callable, Dict

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow

from wiredesk.schemas import tables

NAMESPACE = "wiredesk.write"
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
COMPRESSION = "zstd"


def partition_of(record):
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


def stable_shard(key: str, shards: int) -> int:
    if shards <= 1:
        return 0
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") % shards


def parse_ts(value):
    if value is None:
        return None
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(_dt.timezone.utc)


def to_row(record, schema: pa.Schema) -> Dict:
    """A NamedTuple (nested ones too) as a dict for ``schema``; timestamps parsed."""
    row = {}
    for field in schema:
        value = getattr(record, field.name)
        if pa.types.is_timestamp(field.type):
            value = parse_ts(value)
        elif hasattr(value, "_asdict"):
            value = value._asdict()
        elif isinstance(value, (list, tuple)) and value and hasattr(value[0], "_asdict"):
            value = [v._asdict() for v in value]
        row[field.name] = value
    return row


def to_table(records, schema: pa.Schema, sort_key: Callable) -> pa.Table:
    rows = [to_row(r, schema) for r in sorted(records, key=sort_key)]
    return pa.Table.from_pylist(rows, schema=schema)


def part_name(shard: int, window) -> str:
    if isinstance(window, GlobalWindow) or window is None:
        return f"part-{shard:05d}.parquet"
    start = window.start.to_utc_datetime().strftime("%Y%m%dT%H%M%S")
    end = window.end.to_utc_datetime().strftime("%Y%m%dT%H%M%S")
    return f"part-{start}-{end}-{shard:05d}.parquet"


class WritePartitionFn(beam.DoFn):
    def __init__(self, base: str, table: str, sort_key: Callable):
        self.base = base
        self.table = table
        self.sort_key = sort_key
        #: Rows written to this table.
        self.rows = Metrics.counter(NAMESPACE, f"{table}_rows")
        #: Parquet files written to this table.
        self.files = Metrics.counter(NAMESPACE, f"{table}_files")

    def process(self, element, window=beam.DoFn.WindowParam):
        (dt, shard), records = element
        table = to_table(records, tables.TABLES[self.table], self.sort_key)
        parts = [self.base, self.table] + ([f"dt={dt}"] if dt is not None else []) + [part_name(shard, window)]
        path = FileSystems.join(*parts)
        with FileSystems.create(path) as fh:
            pq.write_table(table, fh, compression=COMPRESSION)
        self.rows.inc(table.num_rows)
        self.files.inc()
        yield path, table.num_rows


class WriteTable(beam.PTransform):
    """One table: records -> Parquet files; outputs (path, rows) per file written."""

    def __init__(self, base: str, table: str, key: Callable, shards: int = 1):
        super().__init__()
        self.base = base
        self.table = table
        self.key = key
        self.shards = shards

    def expand(self, records):
        key, shards = self.key, self.shards
        return (
            records
            | "KeyByPartition" >> beam.Map(lambda r: ((partition_of(r), stable_shard(key(r), shards)), r))
            | "GroupPartition" >> beam.GroupByKey()
            | "WriteParquet" >> beam.ParDo(WritePartitionFn(self.base, self.table, key))
        )


#: Sort key (also the shard key) of each table's rows.
SORT_KEYS = {
    "articles": lambda a: f"{a.source or ''}\x1f{a.article_id}",
    "superseded": lambda s: f"{s.source or ''}\x1f{s.article_id}\x1f{s.version}\x1f{s.content_hash}\x1f{s.origin}\x1f{s.position}",
    "rejects": lambda r: f"{r.origin}\x1f{r.position}\x1f{r.stage}",
    "duplicates": lambda d: d.article_id,
    "events": lambda e: e.event_id,
}


class WriteCounts(beam.PTransform):
    """{name: PCollection} -> ``BASE/_counts.json`` with each collection's size."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def expand(self, named):
        counted = [
            pcoll | f"Count[{name}]" >> beam.combiners.Count.Globally()
            | f"Name[{name}]" >> beam.Map(lambda n, name=name: (name, n))
            for name, pcoll in sorted(named.items())
        ]
        base = self.base

        def write(counts):
            with FileSystems.create(FileSystems.join(base, "_counts.json")) as fh:
                fh.write(json.dumps(dict(sorted(counts)), indent=2).encode("utf-8"))
            return dict(counts)

        return (
            counted
            | "FlattenCounts" >> beam.Flatten()
            | "CollectCounts" >> beam.combiners.ToList()
            | "WriteCountsFile" >> beam.Map(write)
        )
