"""Story identity: one key per story across sources and folders (transforms.identity)."""
import json

import pytest

from conftest import manifest, read_table
from wiredesk.pipeline.evaluate import GoldError, evaluate
from wiredesk.transforms.formats.common import path_id
from wiredesk.transforms.identity import story_key

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
    (("business/001", "BBC", "business/001.txt"), "business/001"),
    (("1234", None, None), "1234"),
])
def test_story_key(args, key):
    assert story_key(*args) == key


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


def test_two_folders_reusing_a_file_name_stay_two_stories(tmp_path, run_cli):
    """business/001.txt and sport/001.txt, as archives are laid out: two stories, nothing superseded."""
    archive = tmp_path / "archive"
    (archive / "business").mkdir(parents=True)
    (archive / "sport").mkdir()
    (archive / "business" / "001.txt").write_text("Central bank raises rates\n\n" + RATES + "\n")
    (archive / "sport" / "001.txt").write_text("Harbour bridge closes\n\n" + HARBOUR + "\n")
    out = tmp_path / "out"
    code, printed = run_cli("--input", archive, "--output", out)
    assert code == 0, printed
    rows = {r["article_id"]: r for r in read_table(out, "articles").to_pylist()}
    assert sorted(rows) == ["archive/business/001", "archive/sport/001"]
    assert len({r["event_id"] for r in rows.values()}) == 2
    assert manifest(out)["counts"]["superseded"] == 0
