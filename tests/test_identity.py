"""Story identity: one key per story across sources and folders (transforms.identity)."""
import json

import pytest

from conftest import manifest, read_table
from wiredesk.pipeline.evaluate import GoldError, evaluate
from wiredesk.transforms.formats.common import path_id
from wiredesk.transforms.identity import is_global_id, story_key
from wiredesk.transforms.read import input_name, name_root

HARBOUR = ("The harbour bridge in Kingsport closed on Monday after engineers found cracks in two of its steel "
           "cables. Ferries will carry commuters across the river while crews inspect the span, the port "
           "authority said, and the bridge may stay shut for three weeks.")
RATES = ("The central bank raised its main interest rate by half a point to 4.5 percent on Tuesday, its third "
         "increase this year, saying inflation had not cooled fast enough. Economists had expected a smaller "
         "move, and the currency rose against the dollar after the decision.")


@pytest.mark.parametrize("args, key", [
    (("urn:newsml:apnews.com:2024:quake", "AP", "ap/a.xml"), "urn:newsml:apnews.com:2024:quake"),
    (("1234", "Feed A", "a.jsonl"), "Feed A/1234"),
    (("1234", "Feed B", "a.jsonl"), "Feed B/1234"),
    (("1234", "a/b", "a.jsonl"), "a%2Fb/1234"),
    (("1234", None, "wire/a.jsonl"), "wire/a.jsonl#1234"),
    (("1234", None, "wire/a#1.jsonl"), "wire/a%231.jsonl#1234"),
    (("business/001", "BBC", "business/001.txt", True), "business/001"),
    # A one-story-per-file feed whose file names are its ids is still qualified by its source.
    (("1234", "Feed A", "a/1234.json"), "Feed A/1234"),
    (("1234", None, None), "1234"),
])
def test_story_key(args, key):
    assert story_key(*args) == key


def test_is_global_id():
    assert is_global_id("urn:newsml:reuters.com:20190515:nL5N22R3OH")
    assert is_global_id("https://ninjs.example.com/items/1") and is_global_id("tag:example.org,2019:1")
    assert not is_global_id("1234") and not is_global_id("seed_001") and not is_global_id("AP: story")


@pytest.mark.parametrize("paths, file_path, name", [
    (["archive"], "archive/business/001.txt", "archive/business/001.txt"),
    (["archive/"], "archive/business/001.txt", "archive/business/001.txt"),
    (["./archive"], "./archive/business/001.txt", "archive/business/001.txt"),
    (["/data/archive"], "/data/archive/business/001.txt", "archive/business/001.txt"),
    (["archive/*/001.txt"], "archive/business/001.txt", "business/001.txt"),
    (["*/001.txt"], "business/001.txt", "business/001.txt"),
    (["/data/feed.jsonl"], "/data/feed.jsonl", "feed.jsonl"),
    (["feed1/*.jsonl", "feed2/*.jsonl"], "feed2/2024-03-11.jsonl", "feed2/2024-03-11.jsonl"),
    (["/data/x/f.jsonl", "/data/y/f.jsonl"], "/data/y/f.jsonl", "y/f.jsonl"),
    (["gs://bucket/wire/*.jsonl"], "gs://bucket/wire/a.jsonl", "a.jsonl"),
    (["gs://bucket/"], "gs://bucket/wire/a.jsonl", "bucket/wire/a.jsonl"),
    (["C:\\wire\\in"], "C:\\wire\\in\\a.txt", "in/a.txt"),
])
def test_input_names_keep_the_folders_that_tell_files_apart(paths, file_path, name):
    """Names are relative to the deepest folder holding every input, however a path is spelled."""
    assert input_name(file_path, name_root(paths)) == name


def test_path_id_drops_extension_and_compression_only():
    assert path_id("business/001.txt") == path_id("business/001.txt.gz") == "business/001"
    assert path_id("sport/001.txt") == "sport/001"
    assert path_id("notes") == "notes"


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_two_feeds_reusing_a_plain_id_stay_two_stories(tmp_path, run_cli):
    """Feed A's "1234" (a bridge) and Feed B's "1234" (a rate rise): separate stories and events, and a
    copy of Feed B's story points at Feed B's row, unambiguously."""
    inp = tmp_path / "in"
    inp.mkdir()
    write_jsonl(inp / "feed-a.jsonl", [{"id": "1234", "source": "Feed A", "headline": "Harbour bridge closes",
                                        "body": HARBOUR, "published_at": "2024-03-11T08:00:00Z"}])
    write_jsonl(inp / "feed-b.jsonl", [{"id": "1234", "source": "Feed B", "headline": "Central bank raises rates",
                                        "body": RATES, "published_at": "2024-03-12T09:00:00Z"}])
    write_jsonl(inp / "feed-c.jsonl", [{"id": "77", "source": "Feed C", "headline": "Rates up again",
                                        "body": RATES, "published_at": "2024-03-12T11:00:00Z"}])
    out = tmp_path / "out"
    code, printed = run_cli("--input", inp, "--output", out)
    assert code == 0, printed
    rows = {r["article_id"]: r for r in read_table(out, "articles").to_pylist()}
    assert sorted(rows) == ["Feed A/1234", "Feed B/1234", "Feed C/77"]
    assert rows["Feed A/1234"]["source_article_id"] == rows["Feed B/1234"]["source_article_id"] == "1234"
    assert rows["Feed C/77"]["duplicate_of"] == "Feed B/1234"
    assert rows["Feed A/1234"]["duplicate_of"] is None and rows["Feed B/1234"]["duplicate_of"] is None
    assert rows["Feed A/1234"]["event_id"] != rows["Feed B/1234"]["event_id"]
    assert rows["Feed C/77"]["event_id"] == rows["Feed B/1234"]["event_id"]
    dups = read_table(out, "duplicates").to_pylist()
    assert [(d["article_id"], d["canonical_id"], d["kind"]) for d in dups] == [("Feed C/77", "Feed B/1234", "exact")]
    events = read_table(out, "events").to_pylist()
    assert sorted(e["representative_article_id"] for e in events) == ["Feed A/1234", "Feed B/1234"]

    # evaluate: a gold id that two sources use is refused unless the line says which source it means.
    ambiguous = tmp_path / "gold-ambiguous.jsonl"
    write_jsonl(ambiguous, [{"id": "1234", "event": "bridge"}, {"id": "77", "event": "rates"}])
    with pytest.raises(GoldError, match=r"'1234' names 2 stories .*add \"source\""):
        evaluate(str(ambiguous), str(out))
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, [{"id": "1234", "source": "Feed A", "event": "bridge"},
                       {"id": "Feed B/1234", "event": "rates"}, {"id": "77", "event": "rates"}])
    scores = evaluate(str(gold), str(out))
    assert (scores["articles_scored"], scores["gold_only"], scores["bcubed_f1"]) == (3, 0, 1.0)
    # A key with another line's source is not that story; two lines naming one story are refused.
    wrong_source = tmp_path / "gold-wrong-source.jsonl"
    write_jsonl(wrong_source, [{"id": "Feed B/1234", "source": "Feed A", "event": "x"}])
    assert evaluate(str(wrong_source), str(out))["gold_only"] == 1
    twice = tmp_path / "gold-twice.jsonl"
    write_jsonl(twice, [{"id": "77", "event": "rates"}, {"id": "Feed C/77", "event": "rates"}])
    with pytest.raises(GoldError, match=r"gold ids '77' and 'Feed C/77' both name story 'Feed C/77'"):
        evaluate(str(twice), str(out))


@pytest.mark.parametrize("spelling", ["absolute", "relative"])
def test_two_folders_reusing_a_file_name_stay_two_stories(tmp_path, run_cli, monkeypatch, spelling):
    """business/001.txt and sport/001.txt, as archives are laid out: two stories, nothing superseded,
    the same keys whether the folder is given as an absolute or a relative path."""
    monkeypatch.chdir(tmp_path)
    archive = tmp_path / "archive"
    (archive / "business").mkdir(parents=True)
    (archive / "sport").mkdir()
    (archive / "business" / "001.txt").write_text("Central bank raises rates\n\n" + RATES + "\n")
    (archive / "sport" / "001.txt").write_text("Harbour bridge closes\n\n" + HARBOUR + "\n")
    out = tmp_path / "out"
    code, printed = run_cli("--input", archive if spelling == "absolute" else "archive", "--output", out)
    assert code == 0, printed
    rows = {r["article_id"]: r for r in read_table(out, "articles").to_pylist()}
    assert sorted(rows) == ["archive/business/001", "archive/sport/001"]
    assert len({r["event_id"] for r in rows.values()}) == 2
    assert manifest(out)["counts"]["superseded"] == 0


def test_one_file_per_story_feeds_reusing_names_stay_apart(tmp_path, run_cli, monkeypatch):
    """Two feeds that name each story's file after its id (a/1234.json, b/1234.json): qualified by source."""
    monkeypatch.chdir(tmp_path)
    for feed, source, body in (("a", "Feed A", HARBOUR), ("b", "Feed B", RATES)):
        (tmp_path / feed).mkdir()
        (tmp_path / feed / "1234.json").write_text(json.dumps(
            {"id": "1234", "source": source, "headline": "Story", "body": body}))
    out = tmp_path / "out"
    code, printed = run_cli("--input", "a/1234.json", "b/1234.json", "--output", out)
    assert code == 0, printed
    assert sorted(read_table(out, "articles").column("article_id").to_pylist()) == ["Feed A/1234", "Feed B/1234"]
