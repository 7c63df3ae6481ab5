"""Write stage: Parquet through Beam's file sink, shards from the data's size, bounded row groups."""
import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from conftest import read_table
from wiredesk.schemas.records import Duplicate, make_reject
from wiredesk.transforms.write import SORT_KEYS, TEMPORARY, WriteTable
from wiredesk.transforms.write.rows import partition_of, row_bytes
from wiredesk.transforms.write.transforms import file_destination, shard_count, stable_shard


def rejects(day, n, size=400):
    return [make_reject("read", f"bad record {i}", f"feed-{day}.jsonl", f"line {i}", "x" * size,
                        ingested_at=f"2024-03-{day:02d}T10:00:00Z") for i in range(n)]


def test_shard_count_and_names():
    assert [shard_count(n, 100) for n in (0, 1, 100, 101, 1000)] == [1, 1, 1, 2, 10]
    assert file_destination("2024-03-11", 2, 3) == "dt=2024-03-11/part-00002-of-00003"
    assert file_destination(None, 0, 1) == "part-00000-of-00001"
    assert stable_shard("AP/1234", 1) == 0
    assert stable_shard("AP/1234", 7) == 5  # pinned: blake2b, the same on every worker


def test_partition_larger_than_a_file_is_split_into_shards(tmp_path):
    """300 rows of ~450 bytes on one day with a 40 kB target: ceil(size / 40 kB) files, all rows once."""
    day11, day12 = rejects(11, 300), rejects(12, 5)
    size = sum(row_bytes(r) for r in day11)
    target = 40_000
    with TestPipeline() as p:
        paths = p | beam.Create(day11 + day12) | WriteTable(str(tmp_path), "rejects", SORT_KEYS["rejects"],
                                                           target_file_bytes=target, row_group_rows=50)
        assert_that(paths | beam.Map(lambda path: path.rsplit("/", 2)[-2]) | beam.combiners.Count.PerElement(),
                    equal_to([("dt=2024-03-11", shard_count(size, target)), ("dt=2024-03-12", 1)]))
    assert shard_count(size, target) == 4
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert files == [f"rejects/dt=2024-03-11/part-0000{i}-of-00004.parquet" for i in range(4)] + [
        "rejects/dt=2024-03-12/part-00000-of-00001.parquet"]
    table = read_table(tmp_path, "rejects")
    assert sorted(table.column("reason").to_pylist()) == sorted(r.reason for r in day11 + day12)
    for path in tmp_path.rglob("*.parquet"):
        meta = pq.ParquetFile(path).metadata
        assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) <= 50
    # Shards follow the stable hash of the row key: the same rows in the same file on every run.
    first = pq.read_table(tmp_path / files[0]).column("position").to_pylist()
    assert sorted(first) == sorted(r.position for r in day11
                                   if stable_shard(SORT_KEYS["rejects"](r), 4) == 0)
    assert not list((tmp_path / TEMPORARY).rglob("*.parquet"))


def test_unpartitioned_table_and_default_target(tmp_path):
    dups = [Duplicate(f"B/{i}", "A/1", "exact", 1.0, 1.0) for i in range(3)]
    assert partition_of(dups[0]) is None
    with TestPipeline() as p:
        p | beam.Create(dups) | WriteTable(str(tmp_path), "duplicates", SORT_KEYS["duplicates"])
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet")] == [
        "duplicates/part-00000-of-00001.parquet"]
    assert sorted(read_table(tmp_path, "duplicates").column("article_id").to_pylist()) == ["B/0", "B/1", "B/2"]


def test_same_bytes_in_the_same_files_in_any_order(tmp_path):
    import random
    runs = []
    for order in (0, 1):
        rows = rejects(11, 120)
        random.Random(order).shuffle(rows)
        out = tmp_path / f"order{order}"
        with TestPipeline() as p:
            p | beam.Create(rows) | WriteTable(str(out), "rejects", SORT_KEYS["rejects"], target_file_bytes=20_000)
        runs.append({path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*.parquet")})
    assert runs[0] == runs[1]
    # Rows are in key order inside each file (origin, then position as text), whatever the input order.
    content = {name: pq.read_table(pa.BufferReader(data)).column("position").to_pylist()
               for name, data in runs[0].items()}
    assert sorted(content) == [f"rejects/dt=2024-03-11/part-0000{i}-of-00003.parquet" for i in range(3)]
    assert all(positions == sorted(positions) for positions in content.values())
    assert sorted(p for positions in content.values() for p in positions) == sorted(f"line {i}" for i in range(120))
    assert content["rejects/dt=2024-03-11/part-00000-of-00003.parquet"][:3] == ["line 102", "line 104", "line 105"]


def test_window_suffix_names_windowed_files_apart():
    from apache_beam.transforms.window import GlobalWindow, IntervalWindow
    from apache_beam.utils.timestamp import Timestamp

    from wiredesk.transforms.write.transforms import window_suffix
    assert window_suffix(GlobalWindow()) == ""
    window = IntervalWindow(Timestamp(1710151200), Timestamp(1710151260))
    assert window_suffix(window) == "-20240311T100000-20240311T100100"


def test_a_run_with_a_finalized_file_missing_is_not_committed(tmp_path):
    from wiredesk.pipeline.run import IncompleteOutputError, check_files
    files = {"articles": ["articles/dt=2024-03-11/part-00000-of-00002.parquet"]}
    check_files({"files_articles": 1, "files_rejects": 0, "articles": 5}, files, str(tmp_path))
    with pytest.raises(IncompleteOutputError, match=r"articles: 2 finalized, 1 in place.*nothing was committed"):
        check_files({"files_articles": 2, "files_rejects": 0}, files, str(tmp_path))


def test_files_are_written_aside_then_moved_by_name(tmp_path):
    """The write steps (no fileio.WriteToFiles: Beam 2.77's Dask runner cannot run it) output each final path."""
    from wiredesk.transforms.write.transforms import final_name
    rows = rejects(11, 40) + rejects(12, 3)
    with TestPipeline() as p:
        paths = p | beam.Create(rows, reshuffle=True) | WriteTable(str(tmp_path), "rejects", SORT_KEYS["rejects"],
                                                                   target_file_bytes=8_000)
        assert_that(paths, equal_to([str(tmp_path / "rejects" / final_name(file_destination(day, i, n)))
                                     for day, n in (("2024-03-11", 3), ("2024-03-12", 1)) for i in range(n)]))
    assert final_name("dt=2024-03-11/part-00000-of-00001") == "dt=2024-03-11/part-00000-of-00001.parquet"
    assert sorted(read_table(tmp_path, "rejects").column("reason").to_pylist()) == sorted(r.reason for r in rows)
    assert not [p for p in (tmp_path / TEMPORARY).rglob("*") if p.is_file()]  # every temporary file moved


def test_a_retried_move_is_idempotent_and_a_lost_file_fails(tmp_path):
    from wiredesk.transforms.write.transforms import MoveIntoPlaceFn
    move = MoveIntoPlaceFn("rejects", str(tmp_path / "rejects"))
    first, second = tmp_path / "tmp1", tmp_path / "tmp2"
    first.write_bytes(b"rows")
    second.write_bytes(b"rows")
    name = "dt=2024-03-11/part-00000-of-00001.parquet"
    final = tmp_path / "rejects" / name
    assert list(move.process((name, [str(second), str(first)]))) == [str(final)]
    assert final.read_bytes() == b"rows" and not first.exists() and not second.exists()
    assert list(move.process((name, [str(first)]))) == [str(final)]  # moved by an earlier attempt
    final.unlink()
    with pytest.raises(OSError, match="its temporary file is gone"):
        list(move.process((name, [str(first)])))
