"""Write stage: records -> Hive-partitioned, zstd-compressed Parquet tables, written and committed by wiredesk's steps.

Each table goes under ``BASE/<table>/dt=YYYY-MM-DD/part-SSSSS-of-NNNNN.parquet``
(the duplicates table, whose rows have no time, unpartitioned) with its explicit
schema from ``schemas.tables``. A partition gets as many shards as its estimated
size needs for ``target_file_bytes`` per file, rows go to a shard by a stable
hash of their key and are sorted by it inside the file (the same bytes for the
same input), and a writer holds one file, never a partition. In windowed
(streaming) runs a file's name carries its window and pane.

The steps are what ``fileio.WriteToFiles`` does on its sharded path, built from
ParDo and GroupByKey alone (Beam 2.77's Dask runner cannot run ``WriteToFiles``:
it relies on tagged and ``finish_bundle`` outputs): the records are grouped by
their file; each group is written to a new temporary file under
``BASE/_temporary/<table>/`` (a retried bundle writes another one, never a part
of a final file); the temporary names are grouped by final name (a barrier:
only the committed attempt's files reach the move) and each file is moved into
place by a rename, idempotent when a retried move finds it there already. The
step outputs each final file's path; the runner checks that they are all in
place before it commits the run.
"""
from __future__ import annotations

import hashlib
import math
import uuid
from typing import Callable, Dict, Optional

import apache_beam as beam
from apache_beam import typehints
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
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


def final_name(destination: str, window=None, pane=None) -> str:
    """A file's path below its table: its destination, its window's suffix (batch: none), ``.parquet``."""
    return destination + window_suffix(window, pane) + ".parquet"


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


class WriteTemporaryFn(beam.DoFn):
    """(destination, records) -> (final name, temporary path): one file's records written, sorted, to a new
    temporary file (a fresh name per attempt, without the .parquet suffix, so no reader takes it for a table file)."""

    def __init__(self, temp_dir: str, sink: ParquetSink):
        self.temp_dir = temp_dir
        self.sink = sink

    def process(self, element, window=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        destination, records = element
        path = FileSystems.join(self.temp_dir, uuid.uuid4().hex)
        sink = self.sink.for_destination(destination)
        fh = FileSystems.create(path, "application/octet-stream")
        try:
            sink.open(fh)
            for record in records:
                sink.write((destination, record))
            sink.flush()
        finally:
            fh.close()
        yield final_name(destination, window, pane), path


class MoveIntoPlaceFn(beam.DoFn):
    """(final name, [temporary path]) -> the final path, the file moved there (its directory created first).

    One temporary file per final name is the rule; another one (the same records) is deleted. A move that finds
    its temporary file gone and the final file in place was done by an earlier attempt; with neither, it fails.
    """

    def __init__(self, table: str, table_dir: str):
        self.table_dir = table_dir
        #: Parquet files written to this table.
        self.files = Metrics.counter(NAMESPACE, f"{table}_files")

    def process(self, element):
        name, temporaries = element
        final = FileSystems.join(self.table_dir, name)
        found = [t for t in sorted(temporaries) if FileSystems.exists(t)]
        if found:
            make_parent(self.table_dir, name)
            FileSystems.rename([found[0]], [final])
            if found[1:]:
                FileSystems.delete(found[1:])
        elif not FileSystems.exists(final):
            raise OSError(f"cannot move {name} into {self.table_dir}: its temporary file is gone "
                          f"({', '.join(sorted(temporaries))})")
        self.files.inc()
        yield final


def make_parent(table_dir: str, name: str) -> None:
    """Create the directory of ``table_dir/name`` (its table's, its partition's) where the filesystem has them."""
    if not FileSystems.get_filesystem(table_dir).has_dirs():
        return
    directory = FileSystems.join(table_dir, name.rsplit("/", 1)[0]) if "/" in name else table_dir
    if FileSystems.exists(directory):
        return
    try:
        FileSystems.mkdirs(directory)
    except OSError:
        if not FileSystems.exists(directory):  # not just created by a concurrent move: a real failure
            raise


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
        record_type = records.element_type or typehints.Any
        sink = ParquetSink(tables.TABLES[self.table], self.key, self.row_group_rows, self.row_group_bytes)
        return (
            records
            | "ChooseFiles" >> beam.ParDo(DestineFn(self.table, self.key), beam.pvalue.AsDict(shard_counts)
                                          ).with_output_types(typehints.KV[str, record_type])
            | "GroupFiles" >> beam.GroupByKey()
            | "WriteTemporary" >> beam.ParDo(WriteTemporaryFn(FileSystems.join(self.base, TEMPORARY, self.table),
                                                              sink)).with_output_types(typehints.KV[str, str])
            | "GroupMoves" >> beam.GroupByKey()
            | "MoveIntoPlace" >> beam.ParDo(MoveIntoPlaceFn(self.table, table_dir)).with_output_types(str)
        )


#: Key of each table's rows: it picks the row's file (stable hash) and orders the rows inside it.
SORT_KEYS = {
    "articles": lambda a: a.article_id,
    "superseded": lambda s: f"{s.article_id}\x1f{s.version}\x1f{s.content_hash}\x1f{s.origin}\x1f{s.position}",
    "rejects": lambda r: f"{r.origin}\x1f{r.position}\x1f{r.stage}",
    "duplicates": lambda d: d.article_id,
    "events": lambda e: e.event_id,
}
