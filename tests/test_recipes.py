"""The README's recipes (blocks marked ``recipe: NAME``), run as written against the seeds' output and a small
hand-made output with a copy, a reject and a superseded version: DuckDB and Polars give the same rows, pinned."""
import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from wiredesk.pipeline.cli import main
from wiredesk.schemas import tables

RECIPE = re.compile(r"```(sql|python)\n(?:--|#) recipe: (\w+)\n(.*?)```", re.S)
NAMES = {"biggest_events", "event_stories", "sources_per_event", "rejects_by_reason", "latest_story_rows"}
UTC = dt.timezone.utc

FLOOD = ("Storm floods the river valley as residents flee their homes. Heavy rain fell for three days across the "
         "northern hills, and the river rose above its banks on Monday night. Emergency crews moved hundreds of "
         "families to schools and sports halls, and the regional governor asked the army for boats and trucks. "
         "Forecasters expect more rain on Wednesday before the weather clears at the weekend.")
FLOOD2 = FLOOD + " Two bridges were closed and the railway line to the coast was cut near the town of Millford."
BANK = ("The central bank held interest rates at four percent on Thursday, saying inflation was falling more slowly "
        "than it had hoped. The governor told reporters that wages and services prices were still rising quickly, "
        "and that the bank would not cut rates until it saw clear signs of a slowdown. Markets had expected the "
        "decision, and the currency barely moved after the announcement.")
#: A story in two versions, an exact copy of its second version from another wire, a broken line, another story.
HAND_LINES = [
    json.dumps({"id": "a1", "source": "Wire One", "headline": "River floods valley", "body": FLOOD,
                "published_at": "2019-05-14T08:00:00Z", "version": 1}),
    json.dumps({"id": "a1", "source": "Wire One", "headline": "River floods valley, bridges closed", "body": FLOOD2,
                "published_at": "2019-05-14T08:00:00Z", "version": 2}),
    json.dumps({"id": "b7", "source": "Wire Two", "headline": "Floods in the valley", "body": FLOOD2,
                "published_at": "2019-05-14T09:30:00Z"}),
    '{"id": "x9", "source": "Wire Two", "headline": "broken',
    json.dumps({"id": "c3", "source": "Wire Two", "headline": "Central bank holds rates", "body": BANK,
                "published_at": "2019-05-15T12:00:00Z"}),
]


def recipes(pattern=RECIPE):
    """{name: {"sql": code, "python": code}} from README.md (blocks ``pattern`` finds: (language, name, code))."""
    found = {}
    for lang, name, code in pattern.findall((REPO / "README.md").read_text(encoding="utf-8")):
        assert lang not in found.setdefault(name, {}), f"recipe {name} has two {lang} blocks"
        found[name][lang] = code
    return found


def bump(run_dir, article_id, headline):
    """A later run's output, by hand: ``article_id`` came again as a higher version with a new headline."""
    for path in sorted((run_dir / "articles").rglob("*.parquet")):
        rows = pq.read_table(path).to_pylist()
        for row in rows:
            if row["article_id"] == article_id:
                row.update(version=(row["version"] or 0) + 1, headline=headline)
        pq.write_table(pa.Table.from_pylist(rows, schema=tables.ARTICLES), path)


def make_output(base, *args):
    """Run wiredesk into base/output, and keep two runs side by side in base/runs/ (the second by hand)."""
    out = base / "output"
    assert main(["run", "--quiet", "--output", str(out), *args]) == 0
    shutil.copytree(out, base / "runs" / "2019-05-15")
    shutil.copytree(out, base / "runs" / "2019-05-16")
    return out


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    base = tmp_path_factory.mktemp("seeds")
    make_output(base)
    bump(base / "runs" / "2019-05-16", "001_73184ad874ed781a", "Updated headline")
    return base


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    base = tmp_path_factory.mktemp("hand")
    wire = base / "in" / "wire.jsonl"
    wire.parent.mkdir()
    wire.write_text("\n".join(HAND_LINES) + "\n", encoding="utf-8")
    mtime = dt.datetime(2019, 5, 16, 6, 0, tzinfo=UTC).timestamp()
    os.utime(wire, (mtime, mtime))
    make_output(base, "--input", str(wire))
    bump(base / "runs" / "2019-05-16", "Wire One/a1", "River floods valley, railway cut")
    return base


def run_recipe(base, name):
    """(columns, rows) of the recipe's SQL and of its Python, run from ``base`` as the README says."""
    code = recipes()[name]
    cwd = os.getcwd()
    os.chdir(base)
    try:
        cur = duckdb.connect().execute(code["sql"])
        sql = ([d[0] for d in cur.description], cur.fetchall())
        namespace = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code["python"], f"README.md recipe {name}", "exec"), namespace)
        result = namespace["result"]
        py = (result.columns, result.rows())
    finally:
        os.chdir(cwd)
    assert sql[0] == py[0], f"{name}: DuckDB and Polars columns differ"
    assert sql[1] == py[1], f"{name}: DuckDB and Polars rows differ"
    return [dict(zip(sql[0], row)) for row in sql[1]]


def test_readme_has_every_recipe_in_both_languages():
    found = recipes()
    assert set(found) == NAMES
    assert all(set(langs) == {"sql", "python"} for langs in found.values()), found


def test_biggest_events(seeds, hand):
    [event] = run_recipe(seeds, "biggest_events")
    assert (event["article_count"], event["source_count"]) == (5, 5)
    assert event["last_seen"].astimezone(UTC).date() == dt.date(2019, 5, 15)
    # the hand-made output's latest day holds only the bank story; the flood was the day before
    assert [(e["title"], e["article_count"]) for e in run_recipe(hand, "biggest_events")] == \
        [("Central bank holds rates", 1)]


def test_event_stories(seeds, hand):
    rows = run_recipe(seeds, "event_stories")
    assert sorted(r["source"] for r in rows) == ["AFP", "CGTN", "Despardes", "Reuters", "The Anti-Media"]
    assert not any(r["is_copy"] for r in rows) and [r["story"] for r in rows] == [r["article_id"] for r in rows]
    rows = run_recipe(hand, "event_stories")
    assert [(r["story"], r["article_id"], r["is_copy"], r["source"], r["headline"]) for r in rows] == [
        ("Wire One/a1", "Wire One/a1", False, "Wire One", "River floods valley, bridges closed"),
        ("Wire One/a1", "Wire Two/b7", True, "Wire Two", "Floods in the valley")]


def test_sources_per_event(seeds, hand):
    rows = run_recipe(seeds, "sources_per_event")
    assert len({r["event_id"] for r in rows}) == 1
    assert [(r["source"], r["stories"], r["copies"]) for r in rows] == [
        (s, 1, 0) for s in ("AFP", "CGTN", "Despardes", "Reuters", "The Anti-Media")]
    assert [(r["title"], r["source"], r["stories"], r["copies"]) for r in run_recipe(hand, "sources_per_event")] == [
        ("Central bank holds rates", "Wire Two", 1, 0),
        ("River floods valley, bridges closed", "Wire One", 1, 0),
        ("River floods valley, bridges closed", "Wire Two", 1, 1)]


def test_rejects_by_reason(seeds, hand):
    [row] = run_recipe(hand, "rejects_by_reason")
    assert (row["stage"], row["rejects"]) == ("read", 1)
    assert row["reason"].startswith("invalid JSON") and row["example"].endswith("wire.jsonl line 4")
    # A run without rejects writes no rejects/: the recipe then fails, as the README says.
    assert not (seeds / "output" / "rejects").exists()
    with pytest.raises(duckdb.Error):
        duckdb.connect().execute(recipes()["rejects_by_reason"]["sql"].replace("'output/", f"'{seeds}/output/"))


def test_latest_story_rows(seeds, hand):
    rows = run_recipe(seeds, "latest_story_rows")
    assert len(rows) == 5 and len({r["article_id"] for r in rows}) == 5
    latest = {r["article_id"]: (r["version"], r["headline"]) for r in rows}
    assert latest["001_73184ad874ed781a"] == (1, "Updated headline")
    assert all(v is None for a, (v, _) in latest.items() if a != "001_73184ad874ed781a")
    rows = run_recipe(hand, "latest_story_rows")
    assert [(r["article_id"], r["version"], r["headline"]) for r in rows] == [
        ("Wire One/a1", 3, "River floods valley, railway cut"),
        ("Wire Two/b7", None, "Floods in the valley"),
        ("Wire Two/c3", None, "Central bank holds rates")]
    assert {str(r["dt"]) for r in rows} == {"2019-05-14", "2019-05-15"}


def test_outputs_carry_the_schema_version(seeds, hand):
    for base in (seeds, hand):
        manifest = json.loads((base / "output" / "_manifest.json").read_text())
        assert manifest["schema_version"] == tables.SCHEMA_VERSION
        for table, files in manifest["tables"].items():
            for rel in files:
                meta = pq.read_schema(base / "output" / rel).metadata
                assert meta[b"wiredesk.schema_version"] == tables.SCHEMA_VERSION.encode()
                assert meta[b"wiredesk.table"] == table.encode()
    assert set(json.loads((hand / "output" / "_manifest.json").read_text())["tables"]) == set(tables.TABLES)
