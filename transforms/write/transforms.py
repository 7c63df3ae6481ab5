"""Write stage: records -> Hive-partitioned, zstd-compressed Parquet tables, through Beam's file sink.

Each table goes under ``BASE/<table>/dt=YYYY-MM-DD/part-SSSSS-of-NNNNN.parquet``
(the duplicates table, whose rows have no time, unpartitioned) with its explicit
schema from ``schemas.tables``. ``fileio.WriteToFiles`` writes every file to a
temporary directory and moves the files into place in a finalize step, so a
retried bundle never leaves a partial file. A partition gets as many shards as
its estimated size needs for ``target_file_bytes`` per file, rows go to a shard
by a stable hash of their key and are sorted by it inside the file (the same
bytes for the same input), and a writer holds one file, never a partition. In
windowed (streaming) runs a file's name carries its window and pane.
"""
from __future__ import annotations

import hashlib
import math
from typing import Callable, Dict, Optional

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.value_provider import StaticValueProvider
from apache_beam.transforms.window import GlobalWindow

from wiredesk.schemas import tables
from wiredesk.transforms.write.rows import partition_of, row_bytes
from wiredesk.transforms.write.sink import ROW_GROUP_BYTES, ROW_GROUP_ROWS, ParquetSink

NAMESPACE = "wiredesk.write"
#: Default target size of one Parquet file's rows (uncompressed estimate), as Spark and DuckDB users expect.
TARGET_FILE_BYTES = 128 * 1024 * 1024
#: Where files are written before the finalize step moves them (below the output base; '_' hides it from readers).
TEMPORARY = "_temporary"
UNPARTITIONED = ""


def shard_count(partition_bytes: int, target_file_bytes: int) -> int:
    """Files for a partition of ``partition_bytes``: enough for ``target_file_bytes`` each, at least one."""
    return max(1, math.ceil(partition_bytes / max(1, target_file_bytes)))


def partition_key(partition: Optional[str]) -> str:
    """The key a partition is sized under: its ``dt`` value, or "" for an unpartitioned table (None)."""
    return UNPARTITIONED if partition is None else partition


def stable_shard(key: str, shards: int) -> int:
    """A shard in ``range(shards)`` from a stable hash of ``key`` (the same on every worker and run)."""
    if shards <= 1:
        return 0
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") % shards


def file_destination(partition: Optional[str], shard: int, shards: int) -> str:
    """A file's path below its table: ``dt=2019-05-15/part-00000-of-00002``."""
    name = f"part-{shard:05d}-of-{shards:05d}"
    return f"dt={partition}/{name}" if partition is not None else name


class FinalName:
    """``file_naming`` of WriteToFiles: a destination's file gets the destination's path.

    Beam's move into place creates only the table directory, so the partition
    directory is created here, just before the move, on filesystems that have
    directories.
    """

    def __init__(self, table_dir: str):
        self.table_dir = table_dir

    def __call__(self, window, pane, shard_index, total_shards, compression, destination) -> str:
        name = destination + window_suffix(window, pane)
        if total_shards > 1:
            name += f"-{shard_index:03d}"
        if "/" in name and FileSystems.get_filesystem(self.table_dir).has_dirs():
            directory = FileSystems.join(self.table_dir, name.rsplit("/", 1)[0])
            try:
                FileSystems.mkdirs(directory)
            except OSError:
                if not FileSystems.exists(directory):  # not just created by a concurrent finalize: a real failure
                    raise
        return name + ".parquet"


def window_suffix(window, pane=None) -> str:
    """"" in the global window (batch); else the window's bounds and the pane's index, so that the files of
    different windows and firings of one partition never share a name."""
    if window is None or isinstance(window, GlobalWindow):
        return ""
    start = window.start.to_utc_datetime().strftime("%Y%m%dT%H%M%S")
    end = window.end.to_utc_datetime().strftime("%Y%m%dT%H%M%S")
    index = getattr(pane, "index", 0) or 0
    return f"-{start}-{end}" + (f"-p{index}" if index else "")


class DestineFn(beam.DoFn):
    """record -> (file destination, record), the shard chosen within the partition's shard count."""

    def __init__(self, table: str, key: Callable):
        self.key = key
        #: Rows sent to this table's files.
        self.rows = Metrics.counter(NAMESPACE, f"{table}_rows")

    def process(self, record, shard_counts: Dict[str, int]):
        partition = partition_of(record)
        shards = shard_counts.get(partition_key(partition), 1)
        self.rows.inc()
        yield file_destination(partition, stable_shard(self.key(record), shards), shards), record


class CountFileFn(beam.DoFn):
    """FileResult -> its final path, counted."""

    def __init__(self, table: str):
        #: Parquet files written to this table.
        self.files = Metrics.counter(NAMESPACE, f"{table}_files")

    def process(self, result):
        self.files.inc()
        yield result.file_name


class WriteTable(beam.PTransform):
    """One table: records -> Parquet files under ``base/table``; outputs each final file's path."""

    def __init__(self, base: str, table: str, key: Callable, target_file_bytes: int = TARGET_FILE_BYTES,
                 row_group_rows: int = ROW_GROUP_ROWS, row_group_bytes: int = ROW_GROUP_BYTES):
        super().__init__()
        self.base = base
        self.table = table
        self.key = key
        self.target_file_bytes = target_file_bytes
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes

    def expand(self, records):
        target = self.target_file_bytes
        table_dir = FileSystems.join(self.base, self.table)
        shard_counts = (
            records
            | "SizeRows" >> beam.Map(lambda r: (partition_key(partition_of(r)), row_bytes(r)))
            | "SizePartitions" >> beam.CombinePerKey(sum)
            | "ShardsPerPartition" >> beam.MapTuple(lambda partition, size: (partition, shard_count(size, target)))
        )
        return (
            records
            | "ChooseFiles" >> beam.ParDo(DestineFn(self.table, self.key), beam.pvalue.AsDict(shard_counts))
            | "WriteFiles" >> fileio.WriteToFiles(
                path=table_dir,
                destination=lambda element: element[0],
                file_naming=FinalName(table_dir),
                temp_directory=StaticValueProvider(str, FileSystems.join(self.base, TEMPORARY, self.table)),
                sink=ParquetSink(tables.TABLES[self.table], self.key, self.row_group_rows,
                                 self.row_group_bytes).for_destination,
                shards=1,
                # Every record goes through the sharded path: one file per destination, no writer per bundle.
                max_writers_per_bundle=0)
            | "CountFiles" >> beam.ParDo(CountFileFn(self.table))
        )


#: Key of each table's rows: it picks the row's file (stable hash) and orders the rows inside it.
SORT_KEYS = {
    "articles": lambda a: a.article_id,
    "superseded": lambda s: f"{s.article_id}\x1f{s.version}\x1f{s.content_hash}\x1f{s.origin}\x1f{s.position}",
    "rejects": lambda r: f"{r.origin}\x1f{r.position}\x1f{r.stage}",
    "duplicates": lambda d: d.article_id,
    "events": lambda e: e.event_id,
}
