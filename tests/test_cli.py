"""End to end: the ``wiredesk run`` command on real inputs, output read back."""
import json
import re

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SHARED, manifest, read_table
from wiredesk.schemas import tables


def test_seeds_by_default(tmp_path, run_cli):
    out = tmp_path / "out"
    code, printed = run_cli("--output", out)
    assert code == 0, printed
    summary = {m.group(1): m.group(2) for m in re.finditer(r"^  (records read|articles|rejects|superseded|duplicates"
                                                        r"|events|balanced) +(\S+)", printed, re.M)}
    assert summary == {"records read": "5", "articles": "5", "rejects": "0", "superseded": "0",
                       "duplicates": "0", "events": "1", "balanced": "yes"}
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
    assert m["versions"]["apache-beam"] == __import__("importlib.metadata").metadata.version("apache-beam")


def test_directory_input_skips_its_documentation(tmp_path, run_cli):
    """`--input seeds` reads the five stories, not the README beside them; a
    document named explicitly is read like any text file."""
    out = tmp_path / "out"
    code, printed = run_cli("--input", "seeds", "--output", out)
    assert code == 0, printed
    assert manifest(out)["counts"]["records_read"] == 5
    assert read_table(out, "articles").num_rows == 5
    out2 = tmp_path / "out2"
    code, printed = run_cli("--input", "seeds/README.md", "--output", out2)
    assert code == 0, printed
    assert manifest(out2)["counts"]["records_read"] == 1


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
    positions = dict(zip(rejects.column("position").to_pylist(), rejects.column("reason").to_pylist()))
    # The broken lines sit after the first 45 good ones; the junk is the last line.
    assert sorted(positions, key=lambda p: int(p.split()[1])) == [f"line {n}" for n in range(46, 46 + bad - 1)] + [
        f"line {good + bad}"]
    assert set(rejects.column("origin").to_pylist()) == {str(src)}
    assert set(rejects.column("stage").to_pylist()) == {"read"}  # the flat-record schema is checked on reading
    assert positions["line 46"].startswith("invalid JSON: Unterminated string")
    assert positions["line 47"].startswith("invalid flat wire record: missing required field 'id'")
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
                           "rejects_by_stage": {"read": 0, "normalize": 0}, "superseded": 2,
                           "duplicates": 0, "events": 10}
    assert m["balanced"]


def test_bad_event_option_is_a_clear_error(tmp_path, capsys):
    from wiredesk.pipeline.cli import main
    assert main(["run", "--event_threshold", "1.5", "--output", str(tmp_path / "o")]) == 2
    assert "--event_threshold must be in (0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, message", [
    (["--event_burst_boost", "-1"], "--event_burst_boost must be in [0, 100]"),
    (["--event_burst_minutes", "0"], "--event_burst_minutes must be positive"),
    (["--event_time_scale_days", "-2"], "--event_time_scale_days must be positive"),
])
def test_event_options_are_validated(argv, message):
    from apache_beam.options.pipeline_options import PipelineOptions

    from wiredesk.pipeline.options import event_config
    with pytest.raises(ValueError, match=re.escape(message)):
        event_config(PipelineOptions(argv))


def test_event_options_reach_the_config():
    from apache_beam.options.pipeline_options import PipelineOptions

    from wiredesk.pipeline.options import event_config
    from wiredesk.transforms.events import DEFAULT_CONFIG
    assert event_config(PipelineOptions([])) == DEFAULT_CONFIG
    cfg = event_config(PipelineOptions(["--event_burst_boost", "0", "--event_burst_minutes", "30",
                                        "--event_threshold", "0.8"]))
    assert (cfg.time_burst_boost, cfg.time_burst_minutes, cfg.threshold) == (0.0, 30.0, 0.8)


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    from wiredesk.pipeline.cli import main
    assert main(["run", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_refuses_to_replace_a_foreign_directory(tmp_path, capsys):
    from wiredesk.pipeline.cli import main
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["run", "--output", str(tmp_path)]) == 2
    assert "is not a wiredesk output (no _manifest.json): choose an empty or new directory" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("value", ["0", "-3"])
def test_bad_target_file_size_is_a_clear_error(tmp_path, capsys, value):
    from wiredesk.pipeline.cli import main
    assert main(["run", "--target_file_mb", value, "--output", str(tmp_path / "o")]) == 2
    assert "expected a positive size in MiB such as 128 or 0.5" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not (SHARED / "data/ecbplus/articles.jsonl").exists(), reason="shared data not beside the repo")
def test_ecbplus_gives_982_articles(tmp_path, run_cli):
    out = tmp_path / "ecb"
    code, printed = run_cli("--input", SHARED / "data/ecbplus/articles.jsonl", "--output", out)
    assert code == 0, printed
    assert manifest(out)["counts"]["articles"] == 982


def test_copies_point_to_their_canonical(tmp_path, run_cli):
    """A re-headlined, wrapped copy, a lightly edited copy and a trimmed republication of one story."""
    story = [f"Sentence number {i} of the council report says the river {w} rose by {i} metres overnight."
             for i, w in enumerate(["north", "south", "east", "west", "upper", "lower", "old", "new", "main",
                                    "little", "grand", "black"])]
    original = {"id": "orig", "source": "AP", "headline": "River rises", "body": "\n\n".join(story),
                "published_at": "2019-05-15T08:00:00Z"}
    rehead = {"id": "copy", "source": "Partner", "headline": "Flood fears as river rises",
              "body": "LONDON (Reuters) - " + "\n\n".join(story) + "\n\n(Reporting by A. Writer; Editing by B. Editor)",
              "published_at": "2019-05-15T09:00:00Z"}
    edited_story = [s.replace("overnight", "during the night") if i % 4 == 0 else s for i, s in enumerate(story)]
    edited = {"id": "edit", "source": "Wire", "headline": "River rises", "body": "\n\n".join(edited_story),
              "published_at": "2019-05-15T09:30:00Z"}
    trimmed = {"id": "trim", "source": "Blog", "headline": "River", "body": "\n\n".join(story[:7]),
               "published_at": "2019-05-15T10:00:00Z"}
    other = {"id": "other", "source": "AP", "headline": "Election called",
             "body": "The prime minister called an early election for June after weeks of talks. " * 3,
             "published_at": "2019-05-15T10:00:00Z"}
    src = tmp_path / "wire.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in (trimmed, other, rehead, edited, original)))
    out = tmp_path / "out"
    assert run_cli("--input", src, "--output", out)[0] == 0
    arts = read_table(out, "articles")
    links = dict(zip(arts.column("article_id").to_pylist(), arts.column("duplicate_of").to_pylist()))
    assert links == {"AP/orig": None, "Partner/copy": "AP/orig", "Wire/edit": "AP/orig", "Blog/trim": "AP/orig",
                     "AP/other": None}
    dups = read_table(out, "duplicates").to_pylist()
    kinds = {d["article_id"]: (d["kind"], d["canonical_id"]) for d in dups}
    # The wrapper (dateline, credit) is removed by normalization: the copy is then exact.
    assert kinds == {"Partner/copy": ("exact", "AP/orig"), "Wire/edit": ("near", "AP/orig"),
                     "Blog/trim": ("contained", "AP/orig")}
    assert manifest(out)["counts"]["duplicates"] == 3


@pytest.mark.skipif((__import__("os").cpu_count() or 1) < 2, reason="one core: nothing to spread")
def test_direct_runner_uses_all_cores_only_for_large_inputs(tmp_path):
    from wiredesk.pipeline.run import PARALLEL_FROM_BYTES, use_all_cores
    small = tmp_path / "small.jsonl"
    small.write_text("{}\n")
    big = tmp_path / "big.jsonl"
    big.write_bytes(b" " * PARALLEL_FROM_BYTES)
    assert use_all_cores(["--input", str(small)], [str(small)]) == ["--input", str(small)]
    assert "--direct_running_mode=multi_processing" in use_all_cores([], [str(big)])
    assert use_all_cores(["--direct_num_workers", "1"], [str(big)]) == ["--direct_num_workers", "1"]
    assert use_all_cores(["--runner", "DataflowRunner"], [str(big)]) == ["--runner", "DataflowRunner"]


def test_relative_input_output_paths_are_made_absolute():
    """Beam hands paths to the workers as written: a remote runner's workers resolve a relative one elsewhere."""
    import os

    from wiredesk.pipeline.run import absolute_paths
    here = os.getcwd()
    assert absolute_paths(["--input", "seeds/*.txt", "in/", "gs://b/x.jsonl", "/abs/y.jsonl", "--runner=R",
                           "--output", "out", "--table_root=root", "--state", "st", "--run_id", "x"]) == [
        "--input", f"{here}/seeds/*.txt", f"{here}/in/", "gs://b/x.jsonl", "/abs/y.jsonl", "--runner=R",
        "--output", f"{here}/out", f"--table_root={here}/root", "--state", f"{here}/st", "--run_id", "x"]
    assert absolute_paths(["--input=a.jsonl", "--output=s3://b/o", "--direct_num_workers", "2"]) == [
        f"--input={here}/a.jsonl", "--output=s3://b/o", "--direct_num_workers", "2"]


def test_relative_input_is_resolved_where_wiredesk_runs(tmp_path, monkeypatch, run_cli):
    import shutil

    from wiredesk.pipeline.options import default_input
    seeds = tmp_path / "feeds"
    seeds.mkdir()
    for path in sorted(__import__("glob").glob(default_input()))[:2]:
        shutil.copy(path, seeds)
    monkeypatch.chdir(tmp_path)
    code, printed = run_cli("--input", "feeds/*.txt", "--output", "out")
    assert code == 0, printed
    m = manifest(tmp_path / "out")
    assert m["inputs"] == [str(tmp_path / "feeds" / "*.txt")]
    assert m["options"]["input"] == [str(tmp_path / "feeds" / "*.txt")]
    assert m["options"]["output"] == str(tmp_path / "out")
    assert m["counts"]["records_read"] == 2
