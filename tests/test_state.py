"""``wiredesk run --state``: dedup and events across runs, reruns, refusals, torn states, eviction."""
import json
import os

import pyarrow.parquet as pq
import pytest

from conftest import SHARED, read_table
from wiredesk.pipeline.run import InputError, run
from wiredesk.pipeline.state import CURRENT, MANIFEST, StateError, plan_state
from wiredesk.transforms.dedup.config import DedupConfig
from wiredesk.transforms.events.config import DEFAULT_CONFIG as EVENTS
from wiredesk.transforms.state.header import state_header

QUAKE = ("A powerful earthquake of magnitude 7.4 struck the eastern coast of Taiwan near Hualien on Wednesday "
         "morning, toppling buildings, cutting power to thousands of homes and setting off landslides along the "
         "mountain highways. Rescue teams from the national fire agency searched the rubble of a leaning "
         "apartment block in Hualien city while the central weather administration warned of strong aftershocks "
         "over the coming days. Officials said nine people were killed and more than eight hundred were injured, "
         "and that dozens of workers remained trapped in tunnels and quarries near the Taroko national park. "
         "Train services across the island were suspended while engineers inspected the tracks and bridges.")
QUAKE_RESENT = QUAKE.replace("Wednesday morning", "Wednesday") + " Schools in the county stayed closed."
FOLLOW_UP = ("Rescuers in Hualien pulled survivors from quarries and tunnels near Taroko national park on Thursday, "
             "a day after the magnitude 7.4 earthquake struck Taiwan. The death toll from the quake rose to twelve, "
             "the national fire agency said, with more than eight hundred injured. Aftershocks kept shaking the "
             "eastern coast, the central weather administration said, and landslides still blocked highways near "
             "Hualien. Engineers inspected the leaning apartment block in Hualien city before demolition.")
ELECTION = ("Voters in Iceland chose a new parliament on Saturday in an election dominated by the cost of living, "
            "housing prices and the management of the fishing quotas. The centre-right Independence Party and the "
            "Social Democratic Alliance were neck and neck in the final polls, and turnout in Reykjavik was "
            "reported to be higher than four years ago. Results were expected early on Sunday morning.")
MARKETS = ("Shares in Frankfurt and Paris fell sharply on Tuesday after the European Central Bank signalled that "
           "interest rates would stay high for longer, while bond yields rose to their highest level in a month. "
           "Carmakers and chip makers led the decline, and the euro gained against the dollar.")


def story(id_, headline, body, published):
    return {"id": id_, "source": "Wire", "headline": headline, "body": body, "published_at": published}


BATCHES = [
    [story("q1", "Quake hits Taiwan", QUAKE, "2024-04-03T01:00:00Z"),
     story("e1", "Iceland votes", ELECTION, "2024-04-03T09:00:00Z")],
    [story("m1", "European shares fall", MARKETS, "2024-04-03T15:00:00Z")],
    [story("q1-resent", "Taiwan earthquake kills nine", QUAKE_RESENT, "2024-04-03T18:00:00Z"),
     story("q2", "Rescuers reach trapped quarry workers", FOLLOW_UP, "2024-04-04T03:00:00Z")],
]


def write_batches(tmp_path, batches):
    paths = []
    for i, rows in enumerate(batches, 1):
        path = tmp_path / f"batch{i}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        paths.append(path)
    return paths


def run_batch(path, out, state, *extra):
    return run(["--input", str(path), "--output", str(out), "--state", str(state), *map(str, extra)])


def rows(out, table="articles", columns=("article_id", "duplicate_of", "event_id")):
    t = read_table(out, table)
    return sorted(tuple(r[c] for c in columns) for r in t.to_pylist())


def state_rows(state):
    version = (state / CURRENT).read_text().strip()
    files = sorted((state / version / "canonicals").glob("*.parquet"))
    out = []
    for f in files:
        out.extend(pq.read_table(f).to_pylist())
    return sorted((r["article_id"], r["event_id"], r["exact_key"], r["signature"], r["vector"]) for r in out)


def test_three_batches_resend_follow_up_and_rerun(tmp_path):
    b1, b2, b3 = write_batches(tmp_path, BATCHES)
    state = tmp_path / "state"
    run_batch(b1, tmp_path / "o1", state)
    first = dict((a, e) for a, _, e in rows(tmp_path / "o1"))
    assert set(first) == {"Wire/q1", "Wire/e1"}
    assert len(state_rows(state)) == 2

    run_batch(b2, tmp_path / "o2", state)
    once = rows(tmp_path / "o2")
    state_once = state_rows(state)
    assert [a for a, *_ in state_once] == ["Wire/e1", "Wire/m1", "Wire/q1"]
    # batch 2 again (a retry): the same rows, the same state
    result = run_batch(b2, tmp_path / "o2", state)
    assert result.manifest["state"]["retry"]
    assert rows(tmp_path / "o2") == once
    assert state_rows(state) == state_once

    run_batch(b3, tmp_path / "o3", state)
    third = {a: (d, e) for a, d, e in rows(tmp_path / "o3")}
    # earlier canonicals are not output again; the re-sent copy points to batch 1's story
    assert set(third) == {"Wire/q1-resent", "Wire/q2"}
    assert third["Wire/q1-resent"][0] == "Wire/q1"
    assert third["Wire/q1-resent"][1] == first["Wire/q1"]
    # the follow-up joins batch 1's event under its id
    assert third["Wire/q2"] == (None, first["Wire/q1"])
    events = read_table(tmp_path / "o3", "events").to_pylist()
    assert [e["event_id"] for e in events] == [first["Wire/q1"]]
    assert [a for a, *_ in state_rows(state)] == ["Wire/e1", "Wire/m1", "Wire/q1", "Wire/q2"]
    assert len([n for n in os.listdir(state) if n.startswith("v-")]) == 2  # the current version and its parent


def test_other_parameters_are_refused(tmp_path):
    (b1,) = write_batches(tmp_path, BATCHES[:1])
    state = tmp_path / "state"
    run_batch(b1, tmp_path / "o1", state)
    other = state_header(DedupConfig(num_perm=64, bands=21), EVENTS)
    with pytest.raises(StateError) as exc:
        plan_state(str(state), other, "r2", "fp")
    message = str(exc.value)
    assert "num_perm: state 128, this run 64" in message and "bands: state 42, this run 21" in message
    assert "new --state path" in message and "delete" in message
    with pytest.raises(InputError, match=r"jaccard_threshold: state 0.8, this run 0.7 \(set by --jaccard_threshold\)"):
        run_batch(b1, tmp_path / "o2", state, "--jaccard_threshold", "0.7")


def test_torn_state_is_refused(tmp_path):
    (b1,) = write_batches(tmp_path, BATCHES[:1])
    state = tmp_path / "state"
    run_batch(b1, tmp_path / "o1", state)
    version = state / (state / CURRENT).read_text().strip()
    header = state_header(DedupConfig(), EVENTS)
    plan_state(str(state), header, "r2", "fp")  # intact: accepted
    part = sorted((version / "canonicals").glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:-10])
    with pytest.raises(StateError, match="torn"):
        plan_state(str(state), header, "r2", "fp")
    (version / MANIFEST).unlink()
    with pytest.raises(StateError, match="torn"):
        plan_state(str(state), header, "r2", "fp")


def test_eviction_bounds_the_state(tmp_path):
    days = [[story(f"d{d}", f"Day {d} report", " ".join(f"w{d}x{k}" for k in range(30)), f"2024-04-{d:02d}T12:00:00Z"),
             story(f"d{d}-copy", f"Day {d} again", " ".join(f"w{d}x{k}" for k in range(30)),
                   f"2024-04-{d:02d}T13:00:00Z")]
            for d in range(1, 6)]
    state = tmp_path / "state"
    for i, path in enumerate(write_batches(tmp_path, days), 1):
        run_batch(path, tmp_path / f"o{i}", state, "--state_horizon_days", "2.5")
    kept = [a for a, *_ in state_rows(state)]
    assert kept == ["Wire/d3", "Wire/d4", "Wire/d5"]  # back 2.5 days from day 5
    manifest = json.loads((state / (state / CURRENT).read_text().strip() / MANIFEST).read_text())
    assert manifest["rows"]["canonicals"] == 3 and manifest["latest_seen_at"] is not None


ECB = SHARED / "data" / "ecbplus" / "articles.jsonl"


@pytest.mark.skipif(not ECB.exists(), reason="ECB+ not present")
def test_ecbplus_in_three_batches(tmp_path):
    lines = ECB.read_text().splitlines()[:60]
    batches = [[json.loads(x) for x in lines[i::3]] for i in range(3)]
    state = tmp_path / "state"
    ids = set()
    for i, path in enumerate(write_batches(tmp_path, batches), 1):
        run_batch(path, tmp_path / f"o{i}", state)
        ids |= {a for a, *_ in rows(tmp_path / f"o{i}")}
    assert len(ids) == 60  # every story once, in the batch that brought it
    assert len(state_rows(state)) == 60


def test_altered_file_of_the_same_size_is_refused_by_the_reader(tmp_path):
    from wiredesk.transforms.state.transforms import StateFileError, read_verified

    (b1,) = write_batches(tmp_path, BATCHES[:1])
    state = tmp_path / "state"
    run_batch(b1, tmp_path / "o1", state)
    version = state / (state / CURRENT).read_text().strip()
    manifest = json.loads((version / MANIFEST).read_text())
    entry = next(f for f in manifest["files"] if f["table"] == "canonicals")
    assert read_verified(str(version), entry)
    part = version / entry["name"]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(StateFileError, match="does not match its manifest"):
        read_verified(str(version), entry)


def test_merged_events_keep_the_earliest_id_and_record_the_others():
    from wiredesk.transforms.events.records import BlockMember, PriorMember
    from wiredesk.transforms.events.transforms import _event_identity, _merges

    def prior(id_, time, event):
        return PriorMember(BlockMember(id_, time, b"", []), event)

    priors = [prior("b", 200.0, "ev-later"), prior("a", 100.0, "ev-first"), prior("c", None, "ev-undated")]
    assert _event_identity([], [], priors) == ("ev-first", ["ev-later", "ev-undated"])
    assert _event_identity([], [], priors[:1]) == ("ev-later", [])
    joined = {"article": ["an article of this run"], "prior": priors}
    assert sorted(_merges(("key", joined))) == [("ev-later", "ev-first"), ("ev-undated", "ev-first")]
    assert _merges(("key", {"article": [], "prior": priors})) == []  # no story of this run: no merge
