"""End to end: the ``wiredesk run`` command on real inputs, output read back."""
import json

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SHARED, manifest, read_table
from schemas import tables


def test_seeds_by_default(tmp_path, run_cli):
    out = tmp_path / "out"
    code, printed = run_cli("--output", out)
    assert code == 0, printed
    assert "articles" in printed and "balanced      yes" in printed
    articles = read_table(out, "articles")
    assert articles.num_rows == 5
    assert sorted(articles.column("source").to_pylist()) == ["AFP", "CGTN", "Despardes", "Reuters", "The Anti-Media"]
    bodies = dict(zip(articles.column("article_id").to_pylist(), articles.column("body").to_pylist()))
    # Seeds 001 and 004 end with a donation appeal and a comment form: gone from body, kept in body_original.
    assert "small favor to ask" not in bodies["001_73184ad874ed781a"]
    assert "Report a typo" not in bodies["001_73184ad874ed781a"]
    assert "Leave a Reply" not in bodies["004_2551a684f051e351"]
    assert "commenting using" not in bodies["004_2551a684f051e351"]
    originals = " ".join(articles.column("body_original").to_pylist())
    assert "small favor to ask" in originals and "Leave a Reply" in originals
    assert set(articles.column("dt").to_pylist()) == {"2019-05-15"}
    assert set(articles.column("language").to_pylist()) == {"en"}
    m = manifest(out)
    assert m["balanced"] and m["counts"]["records_read"] == 5 and m["counts"]["articles"] == 5
    assert m["versions"]["apache-beam"]


def test_output_reads_back_with_duckdb_and_explicit_schema(tmp_path, run_cli):
    out = tmp_path / "out"
    assert run_cli("--output", out)[0] == 0
    files = sorted((out / "articles").rglob("*.parquet"))
    assert files
    schema = pq.read_schema(files[0])
    assert schema.remove_metadata().equals(tables.ARTICLES.remove_metadata())
    assert pq.ParquetFile(files[0]).metadata.row_group(0).column(0).compression == "ZSTD"
    con = duckdb.connect()
    rows = con.execute(
        "select dt, count(*), count(distinct article_id), min(word_count) from "
        f"read_parquet('{out}/articles/**/*.parquet', hive_partitioning=true) group by dt").fetchall()
    assert len(rows) == 1 and str(rows[0][0]) == "2019-05-15" and rows[0][1] == 5 == rows[0][2] and rows[0][3] > 100


def test_same_input_gives_same_data(tmp_path, run_cli):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("--output", a)[0] == 0
    assert run_cli("--output", b, "--direct_num_workers", "2")[0] == 0
    assert read_table(a, "articles").sort_by("article_id").equals(read_table(b, "articles").sort_by("article_id"))


def test_rerun_replaces_output_whole(tmp_path, run_cli):
    out = tmp_path / "out"
    assert run_cli("--output", out)[0] == 0
    first = manifest(out)["run_id"]
    assert run_cli("--output", out, "--run_id", "second")[0] == 0
    assert manifest(out)["run_id"] == "second" != first
    assert read_table(out, "articles").num_rows == 5
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name]


def broken_and_good_jsonl(path):
    good = [{"id": f"g{i}", "source": "AP", "headline": f"Story number {i}",
             "body": f"Body of story {i}. " * 20, "published_at": "2019-05-15T10:00:00Z"} for i in range(90)]
    lines = [json.dumps(r) for r in good]
    broken = [
        '{"id": "x1", "headline": "unterminated',            # bad JSON
        json.dumps({"headline": "no id", "body": "text"}),   # no id
        json.dumps({"id": "x3", "source": "AP"}),            # no text
        json.dumps({"id": "x4", "body": "", "headline": ""}),  # empty text
        json.dumps({"id": 5, "body": "wrong id type"}),      # wrong types
        json.dumps({"id": "x6", "body": "text", "version": "abc"}),
        json.dumps({"id": "x7", "body": ["not", "a", "string"]}),
        json.dumps("a bare string"),
        json.dumps([1, 2, 3]),
    ]
    data = "\n".join(lines[:45] + broken + lines[45:]).encode() + b"\n\x00\xff\xfe\x89PNG junk\x00\n"
    path.write_bytes(data)
    return 90, len(broken) + 1


def test_jsonl_good_and_broken_records(tmp_path, run_cli):
    src = tmp_path / "in" / "mixed.jsonl"
    src.parent.mkdir()
    good, bad = broken_and_good_jsonl(src)
    out = tmp_path / "out"
    code, printed = run_cli("--input", src, "--output", out)
    assert code == 0, printed
    assert read_table(out, "articles").num_rows == good
    rejects = read_table(out, "rejects")
    assert rejects.num_rows == bad
    assert all(r for r in rejects.column("reason").to_pylist())
    assert set(rejects.column("origin").to_pylist()) == {str(src)}
    assert len(set(rejects.column("position").to_pylist())) == bad
    m = manifest(out)
    assert m["counts"]["records_read"] == good + bad and m["balanced"]


def test_mixed_wire_formats_in_one_run(tmp_path, run_cli):
    out = tmp_path / "out"
    code, printed = run_cli("--input", FIXTURES / "mixed", "--output", out)
    assert code == 0, printed
    articles = read_table(out, "articles")
    formats = set(articles.column("input_format").to_pylist())
    assert {"ninjs", "newsml", "rss", "atom"} <= formats
    for text in articles.column("body").to_pylist() + articles.column("headline").to_pylist():
        assert "<script" not in (text or "") and "<p>" not in (text or "") and "&amp;" not in (text or "")
    # tests/fixtures/mixed/_EXPECTED.md: 12 records, 10 stories, 2 superseded versions, 1 canceled story.
    assert articles.num_rows == 10
    assert articles.column("status").to_pylist().count("canceled") == 1
    m = manifest(out)
    assert m["counts"] == {"records_read": 12, "articles": 10, "rejects": 0,
                           "rejects_by_stage": {"read": 0, "normalize": 0}, "superseded": 2}
    assert m["balanced"]


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    from pipeline.cli import main
    assert main(["run", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_refuses_to_replace_a_foreign_directory(tmp_path, capsys):
    from pipeline.cli import main
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["run", "--output", str(tmp_path)]) == 2
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.skipif(not (SHARED / "data/ecbplus/articles.jsonl").exists(), reason="shared data not beside the repo")
def test_ecbplus_gives_982_articles(tmp_path, run_cli):
    out = tmp_path / "ecb"
    code, printed = run_cli("--input", SHARED / "data/ecbplus/articles.jsonl", "--output", out)
    assert code == 0, printed
    assert manifest(out)["counts"]["articles"] == 982
