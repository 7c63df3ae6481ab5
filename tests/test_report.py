"""``wiredesk report``: the HTML page of a run, pinned on a hand-made table set and on the seeds."""
from __future__ import annotations

import json
import random
import re
from datetime import datetime, timezone

import lxml.html
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wiredesk.pipeline.cli import main
from wiredesk.pipeline.report import write_report
from wiredesk.pipeline.report.data import load_report
from wiredesk.schemas.tables import TABLES

XSS = "<script>alert(1)</script>"
INGEST = datetime(2024, 3, 13, 6, 0, tzinfo=timezone.utc)


def t(day: int, hour: int = 8) -> datetime:
    return datetime(2024, 3, day, hour, 0, tzinfo=timezone.utc)


def art(article_id, event_id, published_at, headline="", source=None, duplicate_of=None, **extra):
    return {"article_id": article_id, "source": source or article_id.split("/")[0], "headline": headline,
            "body": f"Body of {headline or article_id}.", "published_at": published_at, "ingested_at": INGEST,
            "status": "usable", "word_count": 12, "duplicate_of": duplicate_of, "event_id": event_id, **extra}


ARTICLES = [
    art("AP/1", "ev-a", t(11, 8), "Quake hits the coast"),
    art("Reuters/2", "ev-a", t(11, 9), "Quake hits coast, Reuters", duplicate_of="AP/1"),
    art("Blog/3", "ev-a", t(11, 10), "Quake (short)", duplicate_of="AP/1"),
    art("AFP/4", "ev-a", t(11, 11), "Aftershocks follow the quake"),
    art("Local/5", "ev-a", None, "Local view of the quake"),
    art("AP/6", "ev-b", t(12, 8), "Election called"),
    art("X/7", "ev-b", t(12, 9), XSS, source='Evil & "Co"', url="javascript:alert(3)"),
    art("AP/8", "ev-c", t(10, 8), "Ferry strike begins", url="https://example.com/ferry"),
    art("AP/9", "ev-c", t(10, 20), "Ferry strike ends"),
    art("ECB/10", "ev-d", None, "Rates unchanged"),
    art("Q/11", None, t(12, 7), "A story without an event"),
]
EVENTS = [  # out of order on purpose
    {"event_id": "ev-d", "title": "Rates unchanged", "first_seen": INGEST, "last_seen": INGEST, "article_count": 1,
     "canonical_count": 1, "source_count": 1, "sources": ["ECB"], "top_entities": [],
     "representative_article_id": "ECB/10"},
    {"event_id": "ev-c", "title": "Ferry strike", "first_seen": t(10, 8), "last_seen": t(10, 20), "article_count": 2,
     "canonical_count": 2, "source_count": 1, "sources": ["AP"], "top_entities": [],
     "representative_article_id": "AP/8"},
    {"event_id": "ev-a", "title": "Quake hits the coast", "first_seen": t(11, 8), "last_seen": t(11, 11),
     "article_count": 5, "canonical_count": 3, "source_count": 5, "sources": ["Reuters", "AP", "Blog", "AFP", "Local"],
     "top_entities": [{"text": "Coast <City>", "label": "GPE", "count": 4}], "representative_article_id": "AP/1"},
    {"event_id": "ev-b", "title": XSS, "first_seen": t(12, 8), "last_seen": t(12, 9), "article_count": 2,
     "canonical_count": 2, "source_count": 2, "sources": ["AP", 'Evil & "Co"'], "top_entities": [],
     "representative_article_id": "AP/6"},
]
DUPLICATES = [
    {"article_id": "Reuters/2", "canonical_id": "AP/1", "kind": "exact", "jaccard": 1.0, "containment": 1.0},
    {"article_id": "Blog/3", "canonical_id": "AP/1", "kind": "contained", "jaccard": 0.5, "containment": 0.95},
]
REJECTS = [
    {"stage": "read", "reason": "invalid JSON: Unterminated string", "origin": "in/wire.jsonl", "position": "line 7",
     "raw": '{"id": "7", "headline": "<img src=x onerror=alert(2)>', "raw_length": 52},
    {"stage": "read", "reason": "invalid JSON: Unterminated string", "origin": "in/wire.jsonl", "position": "line 3",
     "raw": '{"id": "3", "head', "raw_length": 17},
    {"stage": "normalize", "reason": "empty body", "origin": "in/feed.rss", "position": "entry 2",
     "raw": "junk\x00\x01 bytes", "raw_length": 12},
]


def table(name, rows):
    """Rows as the table's schema: columns not given are null, or empty/zero when the schema forbids null."""
    schema = TABLES[name]
    blank = {pa.string(): "", pa.bool_(): False}
    full = [{f.name: row.get(f.name, None if f.nullable else blank.get(f.type, 0)) for f in schema} for row in rows]
    return pa.Table.from_pylist(full, schema=schema)


def write(out, name, rows, files=1, partition=None, shuffle=None):
    rows = list(rows)
    if shuffle is not None:
        shuffle.shuffle(rows)
    groups = {}
    for row in rows:
        key = partition(row) if partition else None
        groups.setdefault(key, []).append(row)
    for key, members in groups.items():
        folder = out / name / (f"dt={key}" if key else "")
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(files):
            pq.write_table(table(name, members[i::files]), folder / f"part-{i:05d}-of-{files:05d}.parquet")


def dt(row):
    return (row["published_at"] or row["ingested_at"]).strftime("%Y-%m-%d")


def make_run(out, rejects=True, duplicates=True, manifest=True, shuffle=None):
    write(out, "articles", ARTICLES, files=2, partition=dt, shuffle=shuffle)
    write(out, "events", EVENTS, files=2, shuffle=shuffle)
    if duplicates:
        write(out, "duplicates", DUPLICATES, shuffle=shuffle)
    if rejects:
        write(out, "rejects", REJECTS, partition=lambda r: "2024-03-13", shuffle=shuffle)
    if manifest:
        counts = {"records_read": 14 if rejects else 11, "articles": 11, "rejects": 3 if rejects else 0,
                  "rejects_by_stage": {"read": 2, "normalize": 1} if rejects else {"read": 0, "normalize": 0},
                  "superseded": 0, "duplicates": 2 if duplicates else 0, "events": 4}
        (out / "_manifest.json").write_text(json.dumps({
            "run_id": "20240313T060000Z-abcdef", "started_at": "2024-03-13T06:00:00Z",
            "finished_at": "2024-03-13T06:00:05Z", "inputs": ["in/"], "counts": counts, "balanced": True}))
    return out


@pytest.fixture
def run_dir(tmp_path):
    return make_run(tmp_path / "out")


def page(out):
    path = write_report(str(out))
    return open(path, encoding="utf-8").read(), lxml.html.parse(path).getroot()


def texts(root, xpath):
    return [" ".join(" ".join(e.itertext()).split()) for e in root.xpath(xpath)]


def test_written_beside_the_tables_and_several_files_per_partition_read(run_dir):
    assert len(list((run_dir / "articles" / "dt=2024-03-11").glob("*.parquet"))) == 2
    path = write_report(str(run_dir))
    assert path == str(run_dir / "report.html")
    report = load_report(str(run_dir))
    assert report.article_count == len(ARTICLES)
    assert sum(1 + len(s.copies) for e in report.events for s in e.stories) + len(report.loose_stories) == 11


def test_events_largest_first_then_most_recent(run_dir):
    _, root = page(run_dir)
    assert root.xpath("//li[@class='event']/@data-event-id") == ["ev-a", "ev-b", "ev-c", "ev-d"]
    assert root.xpath("//li[@class='event']/@id") == ["ev-1", "ev-2", "ev-3", "ev-4"]
    first = root.get_element_by_id("ev-1")
    assert texts(first, ".//summary") == [
        "#1 Quake hits the coast 5 stories (2 copies) 2024-03-11 08:00–11:00 UTC · 5 sources · 1 undated story"]
    assert texts(first, ".//div[@class='body']/div[1]") == ["Sources: AFP, AP, Blog, Local, Reuters"]
    assert texts(first, ".//span[@class='chip']") == ["Coast <City> GPE ×4"]
    assert texts(root.get_element_by_id("ev-3"), ".//summary//div[@class='sub']") == [
        "2024-03-10 08:00–20:00 UTC · 1 source"]


def test_every_input_text_is_escaped(run_dir):
    html, root = page(run_dir)
    assert XSS not in html and "<img" not in html and "\x00" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # event title, story headline, timeline tooltip
    assert len(root.xpath("//script")) == 1  # the page's own
    assert "Evil &amp; &quot;Co&quot;" in html
    assert texts(root.get_element_by_id("ev-2"), ".//span[@class='title']") == [XSS]
    assert not root.xpath("//a[starts-with(@href, 'javascript')]")  # a non-http URL is text, not a link
    assert root.xpath("//a[@href='https://example.com/ferry']")


def test_self_contained(run_dir):
    html, root = page(run_dir)
    assert not root.xpath("//*[@src] | //link | //iframe | //object | //img")
    assert "url(" not in html and "@import" not in html
    external = set(re.findall(r"https?://[^\"'<> ]+", html))
    assert external == {"http://www.w3.org/2000/svg", "https://example.com/ferry"}
    csp = root.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert csp.startswith("default-src 'none'") and "unsafe-inline" not in csp


def test_copies_grouped_under_their_canonical(run_dir):
    _, root = page(run_dir)
    event = root.get_element_by_id("ev-1")
    top = event.xpath("./details/div/ol[@class='stories']/li[@class='story']/@data-article")
    assert top == ["AP/1", "AFP/4", "Local/5"]  # chronological, undated last
    canonical = event.xpath(".//li[@data-article='AP/1']")[0]
    copies = canonical.xpath("./ul[@class='copies']/li[@class='copy']")
    assert [c.get("data-article") for c in copies] == ["Reuters/2", "Blog/3"]
    assert [" ".join(c.xpath("./span")[0].text_content().split()) for c in copies] == ["exact", "contained"]
    assert "Jaccard 0.500 containment 0.950" in copies[1].text_content()
    assert not event.xpath(".//li[@data-article='AFP/4']/ul")


def test_undated_stories_and_events_are_shown(run_dir):
    _, root = page(run_dir)
    assert texts(root, "//header/p") == ["4 events from 11 stories; 2 stories without a publication time"]
    local = root.xpath("//li[@data-article='Local/5']")[0]
    assert local.xpath("./div[1]/span[@class='undated-tag']/text()") == ["undated"]
    undated_lane = root.xpath("//svg[@id='timeline']//g[@class='undated']")
    assert [a.get("data-event") for a in undated_lane[0].xpath(".//a")] == ["4"]
    dated = root.xpath("//svg[@id='timeline']/a[@class='mark']/@data-event")
    assert sorted(dated) == ["1", "2", "3"]
    assert texts(root.get_element_by_id("ev-4"), ".//div[@class='sub']") == [
        "undated (ingested 2024-03-13 06:00 UTC) · 1 source"]
    assert texts(root, "//section[@id='loose']/h2") == ["Stories without an event (1)"]
    assert root.xpath("//section[@id='loose']//li/@data-article") == ["Q/11"]


def test_rejects_summary(run_dir):
    html, root = page(run_dir)
    summary = {r[0]: r[1] for r in (texts(row, "./td") for row in root.xpath("//section[@id='summary']/table[1]//tr"))}
    assert summary["records read"] == "14" and summary["rejects"] == "3" and summary["balanced"] == "yes"
    assert texts(root, "//section[@id='summary']/table//tr[td='rejects']/td[3]") == [
        "by stage: normalize 1, read 2"]
    rows = root.xpath("//tr[@class='reject']")
    assert [(texts(r, "./td[1]")[0], texts(r, ".//summary")[0], texts(r, "./td[3]")[0]) for r in rows] == [
        ("read", "invalid JSON: Unterminated string", "2"), ("normalize", "empty body", "1")]
    examples = rows[0].xpath(".//pre/text()")
    assert examples == ['{"id": "3", "head', '{"id": "7", "headline": "<img src=x onerror=alert(2)>']
    assert texts(rows[0], ".//div[@class='meta']") == [
        "in/wire.jsonl line 3 (17 chars)", "in/wire.jsonl line 7 (52 chars)"]
    assert rows[1].xpath(".//pre/text()") == ["junk\ufffd\ufffd bytes"]


def test_a_run_without_rejects_or_duplicates_directories(tmp_path):
    out = make_run(tmp_path / "out", rejects=False, duplicates=False)
    assert not (out / "rejects").exists() and not (out / "duplicates").exists()
    _, root = page(out)
    assert texts(root, "//section[@id='summary']/p[last()]") == ["No rejects."]
    event = root.get_element_by_id("ev-1")
    # Without the duplicates table, copies still hang under their canonical (articles.duplicate_of), kind unknown.
    copies = event.xpath(".//li[@data-article='AP/1']/ul/li")
    assert [c.get("data-article") for c in copies] == ["Reuters/2", "Blog/3"]
    assert [c.xpath("./span")[0].text_content() for c in copies] == ["copy", "copy"]


def test_a_run_without_manifest_counts_from_the_tables(tmp_path):
    out = make_run(tmp_path / "out", manifest=False)
    _, root = page(out)
    assert texts(root, "//section[@id='summary']/p[1]") == [
        "No readable _manifest.json: counts below are from the tables."]
    assert texts(root, "//section[@id='summary']/table[1]//tr") == ["articles 11", "rejects 3", "events 4"]


def test_same_tables_same_page_whatever_the_file_and_row_order(tmp_path):
    first = write_report(str(make_run(tmp_path / "a")), str(tmp_path / "a.html"))
    second = write_report(str(make_run(tmp_path / "b", shuffle=random.Random(7))), str(tmp_path / "b.html"))
    again = write_report(str(tmp_path / "a"), str(tmp_path / "a2.html"))
    a, b, c = (open(p, encoding="utf-8").read() for p in (first, second, again))
    assert a == c
    assert a == b


def test_cli_report(run_dir, tmp_path, capsys):
    assert main(["report", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"wiredesk report -> {run_dir / 'report.html'}"
    target = tmp_path / "pages" / "r.html"
    assert main(["report", str(run_dir), "--html", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == (run_dir / "report.html").read_text(encoding="utf-8")
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "not a wiredesk output" in capsys.readouterr().err


def test_seeds_report(tmp_path, run_cli):
    out = tmp_path / "out"
    assert run_cli("--output", out)[0] == 0
    _, root = page(out)
    events = root.xpath("//li[@class='event']")
    assert len(events) == 1
    assert texts(events[0], ".//span[@class='title']") == ["US begins evacuating the Green Zone in Iraq"]
    assert texts(events[0], ".//span[@class='count']") == ["5 stories"]
    assert texts(events[0], ".//span[@class='src']") == ["CGTN", "The Anti-Media", "Reuters", "Despardes", "AFP"]
    assert root.xpath("//svg[@id='timeline']/a[@class='mark']/@data-event") == ["1"]
    assert texts(root, "//svg[@id='sources']//text[@class='label']") == [
        "AFP", "CGTN", "Despardes", "Reuters", "The Anti-Media"]


def test_cli_report_on_a_broken_table_is_a_clear_error(run_dir, capsys):
    (run_dir / "articles" / "dt=2024-03-11" / "part-00009-of-00010.parquet").write_bytes(b"not parquet")
    (run_dir / "articles" / "_SUCCESS").write_bytes(b"")  # files named _* or .* are not tables' files
    assert main(["report", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wiredesk: ") and "part-00009-of-00010.parquet" in err
