"""``wiredesk run --table_root``: many runs into one Iceberg table root, atomic, idempotent, upserted on the story
keys; ``wiredesk compact``; DuckDB reads the root with the README's recipes (no wiredesk import on that side).

Two small batches: batch 1 is test_recipes' hand-made wire (a story in two versions, an exact copy of it from
another wire, a broken line, a bank story); batch 2 sends the flood story again with an earlier publication from
a third wire, so the first story and its copy become copies of it and move to its event. Pipeline runs are
shared through module fixtures: root ``desk`` gets batch 1, batch 2 and batch 2 again; root ``killed`` gets
batch 1, then batch 2 failing at the commit, killed with SIGKILL, and at last run through.
"""
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time

import duckdb
import pyarrow.parquet as pq
import pytest
from test_recipes import BANK, FLOOD2, HAND_LINES, recipes

from wiredesk.pipeline import table_root
from wiredesk.pipeline.cli import main

TABLE_RECIPE = re.compile(r"```(sql)\n-- table_root recipe: (\w+)\n(.*?)```", re.S)
UTC = dt.timezone.utc
BATCH2 = [
    json.dumps({"id": "f0", "source": "Wire Three", "headline": "Valley braces for the flood", "body": FLOOD2,
                "published_at": "2019-05-14T06:00:00Z"}),
    HAND_LINES[1],  # Wire One/a1 version 2, sent again
    HAND_LINES[2],  # Wire Two/b7, its copy, sent again
]
KEYS = {"articles": "article_id", "duplicates": "article_id", "events": "event_id", "rejects": "position",
        "superseded": "position"}


def write_batch(path, lines, day):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mtime = dt.datetime(2019, 5, day, 6, 0, tzinfo=UTC).timestamp()
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    wire = tmp_path_factory.mktemp("wire")
    assert BANK in HAND_LINES[4]
    return write_batch(wire / "batch1.jsonl", HAND_LINES, 16), write_batch(wire / "batch2.jsonl", BATCH2, 17)


def run_into(root, batch):
    assert main(["run", "--quiet", "--input", str(batch), "--table_root", str(root)]) == 0


def rows(root, name, snapshot_id=None):
    """A table's current rows (or a snapshot's), sorted by key."""
    found = table_root.current_rows(str(root), name, snapshot_id).to_pylist()
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def state(root):
    """Every data table's rows and the snapshot ids of every table."""
    catalog = table_root.open_root(str(root))
    return ({name: rows(root, name) for name in table_root.DATA_TABLES},
            {name: [s.snapshot_id for s in table_root.load(catalog, name).snapshots()] for name in table_root.SCHEMAS})


@pytest.fixture(scope="module")
def desk(tmp_path_factory, batches):
    """Root ``base/desk``: batch 1, batch 2, batch 2 again; the state after each run."""
    base = tmp_path_factory.mktemp("root")
    root = base / "desk"
    states = []
    for batch in (batches[0], batches[1], batches[1]):
        run_into(root, batch)
        states.append(state(root))
    return base, root, states


@pytest.fixture(scope="module")
def killed(tmp_path_factory, batches, desk):
    """Root ``killed``: batch 1; batch 2 failing at the commit; batch 2 killed with SIGKILL; batch 2."""
    root = tmp_path_factory.mktemp("killed") / "desk"
    run_into(root, batches[0])
    after_one = state(root)

    failing = table_root._root_catalog_class()

    class FailingCatalog(failing):
        def _swap(self, pending):  # every table's new metadata is written: fail just before the pointers move
            raise RuntimeError("stopped before the commit")

    mp = pytest.MonkeyPatch()
    mp.setattr(table_root, "_root_catalog_class", lambda: FailingCatalog)
    try:
        with pytest.raises(RuntimeError, match="before the commit"):
            main(["run", "--quiet", "--input", str(batches[1]), "--table_root", str(root)])
    finally:
        mp.undo()
    after_failure = state(root)

    data = root / "data"
    before = set(os.listdir(data))
    proc = subprocess.Popen([sys.executable, "-m", "wiredesk.pipeline.cli", "run", "--quiet", "--input",
                             str(batches[1]), "--table_root", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline:
        new = [data / d for d in set(os.listdir(data)) - before]
        if any(n.endswith(".parquet") or "_temporary" in top for d in new for top, _, names in os.walk(d)
               for n in names):
            os.kill(proc.pid, signal.SIGKILL)  # Beam is writing the run's files: the commit has not started
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    after_kill = state(root)
    run_into(root, batches[1])
    return root, after_one, after_failure, after_kill, state(root)


def test_two_runs_into_one_root(desk, batches):
    _, root, [(one, _), (two, snaps), _] = desk
    assert [r["article_id"] for r in one["articles"]] == ["Wire One/a1", "Wire Two/b7", "Wire Two/c3"]
    assert sorted(r["article_id"] for r in two["articles"]) == [
        "Wire One/a1", "Wire Three/f0", "Wire Two/b7", "Wire Two/c3"]
    # what batch 2 did not touch stays: the bank story, batch 1's reject and superseded version
    assert [r["article_id"] for r in two["rejects"]] == [None] and two["rejects"] == one["rejects"]
    assert two["superseded"] == one["superseded"] and len(one["superseded"]) == 1
    runs = rows(root, "runs")
    assert len(runs) == 3 and {tuple(r["inputs"]) for r in runs} == {(str(batches[0]),), (str(batches[1]),)}
    assert all(json.loads(r["manifest"])["balanced"] for r in runs)


def test_rerun_of_the_same_input_leaves_one_runs_rows(desk):
    _, root, [_, (two, snaps_two), (again, snaps_again)] = desk
    assert again == two
    for name in table_root.DATA_TABLES:
        assert len({r[KEYS[name]] for r in again[name]}) == len(again[name]), name
    assert len(snaps_again["articles"]) > len(snaps_two["articles"])  # a new snapshot, the same rows


def test_a_story_moved_to_another_event_shows_only_its_current_row(desk):
    _, root, [(one, snaps_one), (two, _), _] = desk
    before = {r["article_id"]: r for r in one["articles"]}
    now = {r["article_id"]: r for r in two["articles"]}
    moved = now["Wire One/a1"]
    assert moved["duplicate_of"] == "Wire Three/f0" and moved["event_id"] == now["Wire Three/f0"]["event_id"]
    assert moved["event_id"] != before["Wire One/a1"]["event_id"]
    assert now["Wire Two/b7"]["duplicate_of"] == "Wire Three/f0"
    # the event nobody points at any more is gone; the duplicates follow the articles
    events = {e["event_id"] for e in two["events"]}
    assert events == {a["event_id"] for a in two["articles"]}
    assert before["Wire One/a1"]["event_id"] not in events
    assert {(d["article_id"], d["canonical_id"]) for d in two["duplicates"]} == {
        ("Wire One/a1", "Wire Three/f0"), ("Wire Two/b7", "Wire Three/f0")}
    # history: the first run's snapshot still has the story in its first event
    first = rows(root, "articles", snaps_one["articles"][-1])
    assert first == one["articles"]


def test_a_run_stopped_or_killed_before_its_commit_leaves_nothing_visible(killed, desk):
    root, after_one, after_failure, after_kill, final = killed
    assert after_failure == after_one
    assert after_kill == after_one
    # the rerun equals an uninterrupted run of the same batches
    assert final[0] == desk[2][1][0]
    assert len(rows(root, "runs")) == 2


def load_extensions(con):
    """DuckDB's avro and iceberg extensions from their PyPI packages, as the README says."""
    import duckdb_extension_avro
    import duckdb_extension_iceberg

    for package, name in ((duckdb_extension_avro, "avro"), (duckdb_extension_iceberg, "iceberg")):
        con.execute(f"LOAD '{package.__path__[0]}/extensions/v{duckdb.__version__}/{name}.duckdb_extension'")


def run_table_recipe(base, name):
    code = recipes(TABLE_RECIPE)[name]["sql"]
    cwd = os.getcwd()
    os.chdir(base)
    try:
        con = duckdb.connect()
        load_extensions(con)
        cur = con.execute(code)
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, row)) for row in cur.fetchall()]
    finally:
        os.chdir(cwd)


def test_duckdb_reads_the_table_root_with_the_readme_recipes(desk, monkeypatch):
    base, root, [(one, _), _, (current, _)] = desk
    assert set(recipes(TABLE_RECIPE)) == {"current_stories", "runs", "stories_after_first_run"}
    stories = run_table_recipe(base, "current_stories")
    titles = {e["event_id"]: e["title"] for e in current["events"]}
    assert stories == [{"article_id": a["article_id"], "source": a["source"], "headline": a["headline"],
                        "duplicate_of": a["duplicate_of"], "event": titles[a["event_id"]]}
                       for a in sorted(current["articles"], key=lambda a: a["article_id"])]
    runs = run_table_recipe(base, "runs")
    assert [(r["articles"], r["rejects"]) for r in runs] == [(3, 0), (3, 0), (3, 1)]
    # the same from a Python that has only duckdb and the extension packages imported
    script = ("import sys, duckdb, duckdb_extension_avro as a, duckdb_extension_iceberg as i\n"
              "con = duckdb.connect()\n"
              "for m, n in ((a, 'avro'), (i, 'iceberg')):\n"
              "    con.execute(f\"LOAD '{m.__path__[0]}/extensions/v1.5.5/{n}.duckdb_extension'\")\n"
              "rows = con.execute(sys.argv[1]).fetchall()\n"
              "assert not [m for m in sys.modules if m.startswith('wiredesk')]\n"
              "print(len(rows))\n")
    done = subprocess.run([sys.executable, "-c", script, recipes(TABLE_RECIPE)["current_stories"]["sql"]],
                          cwd=base, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(len(stories))
    # Polars, through the catalog, as the README shows
    import polars as pl
    from pyiceberg.catalog.sql import SqlCatalog

    monkeypatch.setenv("POLARS_ICEBERG_PLANNER", "pyiceberg")  # polars' own planner is a package not installed
    catalog = SqlCatalog("wiredesk", uri=f"sqlite:///{root}/catalog.db")
    articles = pl.scan_iceberg(catalog.load_table("wiredesk.articles")).collect()
    assert sorted(articles["article_id"].to_list()) == [a["article_id"] for a in stories]
    first = run_table_recipe(base, "stories_after_first_run")
    assert [(r["article_id"], r["event_id"], r["duplicate_of"]) for r in first] == [
        (a["article_id"], a["event_id"], a["duplicate_of"]) for a in one["articles"]]


def test_compact_keeps_the_current_rows_and_reduces_files_and_snapshots(desk, capsys):
    _, root, [_, _, (current, _)] = desk
    catalog = table_root.open_root(str(root))
    files = {n: len(table_root.load(catalog, n).inspect.files()) for n in ("articles", "runs")}
    snapshots = {n: len(table_root.load(catalog, n).snapshots()) for n in table_root.SCHEMAS}
    on_disk = sum(len(names) for _, _, names in os.walk(root / "data"))
    assert main(["compact", str(root), "--expire_older_than_hours", "0", "--orphan_older_than_hours", "0"]) == 0
    assert "snapshots" in capsys.readouterr().out
    assert state(root)[0] == current
    catalog = table_root.open_root(str(root))
    for name in ("articles", "runs"):
        assert files[name] > 1 and len(table_root.load(catalog, name).inspect.files()) == 1, name
    for name, count in snapshots.items():
        assert len(table_root.load(catalog, name).snapshots()) == min(count, 1), name
    assert sum(len(names) for _, _, names in os.walk(root / "data")) < on_disk
    for path in table_root.load(catalog, "articles").inspect.files().column("file_path").to_pylist():
        assert pq.read_metadata(path.removeprefix("file://")).num_rows == len(current["articles"])
    # DuckDB reads the compacted tables
    con = duckdb.connect()
    load_extensions(con)
    assert con.execute(f"select count(*) from iceberg_scan('{root}/wiredesk/articles')").fetchone()[0] == 4


def test_an_added_column_is_merged_into_the_tables_schema_in_the_runs_commit(tmp_path, monkeypatch):
    """A MINOR schema change (a new column in schemas/tables.py) reaches an existing root: older rows read null."""
    import pyarrow as pa

    from wiredesk.schemas import tables

    root = tmp_path / "desk"
    row = {"article_id": "a", "body": "b", "language_detected": False, "status": "usable", "content_hash": "h",
           "word_count": 1, "input_format": "jsonl", "origin": "o", "position": "line 1"}

    def commit(run, schema, rows):
        (root / "data" / run / "articles").mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), root / "data" / run / "articles" / "p.parquet")
        table_root.commit_run(str(root), str(root / "data" / run), {"articles": ["articles/p.parquet"]},
                              {"run_id": run})

    commit("one", tables.ARTICLES, [row])
    wider = tables.ARTICLES.append(tables.field("extra", pa.string(), "A column added later."))
    monkeypatch.setitem(table_root.SCHEMAS, "articles", wider)
    commit("two", wider, [dict(row, article_id="b", extra="x")])
    assert [(r["article_id"], r["extra"]) for r in rows(root, "articles")] == [("a", None), ("b", "x")]
    assert sorted(r["run_id"] for r in rows(root, "runs")) == ["one", "two"]


def test_a_table_root_is_a_local_directory_and_compact_refuses_what_is_not_one(tmp_path, capsys):
    with pytest.raises(table_root.TableRootError, match="only a local directory"):
        table_root.staging_dir("gs://bucket/desk", "run")
    assert main(["compact", str(tmp_path)]) == 2
    assert "not a wiredesk table root" in capsys.readouterr().err
