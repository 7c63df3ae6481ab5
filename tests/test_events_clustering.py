"""Events: average-link clustering against a naive reference, the reference driver, second-pass members."""
import math
import random
from collections import defaultdict

import pytest
from events_helpers import (
    DAY,
    EXPAND_FEATURES,
    FAST,
    MIDNIGHT,
    NO_BURST,
    T0,
    burst_headlines,
    unpacked_dict,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from wiredesk.transforms.events.clustering import cluster_edges, cluster_member
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.features import raw_features
from wiredesk.transforms.events.records import BlockMember
from wiredesk.transforms.events.reference import cluster_articles
from wiredesk.transforms.events.timing import (
    time_factor,
)
from wiredesk.transforms.events.vectors import pack_vector


def test_cluster_edges_no_chaining_through_bridge():
    a, b = ["a1", "a2", "a3"], ["b1", "b2", "b3"]
    edges = [(x, y, 0.9) for g in (a, b) for i, x in enumerate(g) for y in g[i + 1:]]
    edges += [("a1", "x", 0.85), ("x", "b1", 0.85)]   # one strong link each way via "x"
    nodes = a + b + ["x"]
    out = cluster_edges(nodes, edges, 0.5)
    assert {out[n] for n in a} == {"a1"}
    assert {out[n] for n in b} == {"b1"}
    assert out["x"] == "x"
    # single linkage would have chained everything; above 0.9 nothing merges
    assert len(set(cluster_edges(nodes, edges, 0.91).values())) == len(nodes)


def reference_average_link(nodes, edges, threshold):
    """Naive UPGMA over all cluster pairs (missing edge = 0; duplicate edges:
    the highest), best first, ties by (smaller name, larger name)."""
    sim = {}
    for a, b, s in edges:
        if a != b:
            k = frozenset((a, b))
            sim[k] = max(sim.get(k, 0.0), s)
    clusters = {n: [n] for n in set(nodes) | {x for a, b, _ in edges for x in (a, b)}}
    while True:
        best = None
        names = sorted(clusters)
        for i, x in enumerate(names):
            for y in names[i + 1:]:
                total = sum(sim.get(frozenset((p, q)), 0.0) for p in clusters[x] for q in clusters[y])
                if total == 0.0:
                    continue
                link = round(total / (len(clusters[x]) * len(clusters[y])), 12)
                if link >= threshold and (best is None or (-link, x, y) < best):
                    best = (-link, x, y)
        if best is None:
            break
        _, x, y = best
        clusters[x].extend(clusters.pop(y))
    return {m: min(ms) for ms in clusters.values() for m in ms}


NODE_NAMES = [f"n{i}" for i in range(9)]
GRAPHS = st.lists(  # no self-loops: block_edges never emits them
    st.tuples(st.lists(st.sampled_from(NODE_NAMES), min_size=2, max_size=2, unique=True),
              st.sampled_from([0.25, 0.5, 0.625, 0.75, 0.875, 1.0]))  # exact sums: real ties
    .map(lambda e: (e[0][0], e[0][1], e[1])),
    max_size=25,
)


@given(st.sets(st.sampled_from(NODE_NAMES)), GRAPHS, st.randoms(use_true_random=False),
       st.sampled_from([0.5, 0.6, 0.7]))
@settings(max_examples=150, deadline=None)
def test_cluster_edges_matches_reference_and_ignores_order(nodes, edges, rnd, threshold):
    nodes = sorted(nodes)
    out = cluster_edges(nodes, edges, threshold)
    assert out == reference_average_link(nodes, edges, threshold)
    # names are the smallest member id, and a name is in its own cluster
    groups = defaultdict(list)
    for n, c in out.items():
        groups[c].append(n)
    assert all(c == min(ms) for c, ms in groups.items())
    # any order of nodes and edges, either orientation of an edge
    nodes2, edges2 = list(nodes), [(b, a, s) if rnd.random() < 0.5 else (a, b, s) for a, b, s in edges]
    rnd.shuffle(nodes2)
    rnd.shuffle(edges2)
    assert cluster_edges(nodes2, edges2, threshold) == out


# -- cluster_articles (reference driver) -------------------------------------

STORIES = {
    "quake": [
        ("Strong earthquake shakes Mersinova",
         "A magnitude 6.8 earthquake struck near Mersinova early Tuesday, collapsing buildings and "
         "sending residents into the streets, seismologists at the Kandilo observatory said."),
        ("Rescuers search rubble after Mersinova quake",
         "Rescue teams dug through collapsed buildings in Mersinova after Tuesday's 6.8 magnitude "
         "earthquake, and the Kandilo observatory recorded dozens of aftershocks."),
        ("Aftershocks rattle Mersinova",
         "Aftershocks kept rattling Mersinova a day after the earthquake; the Kandilo observatory "
         "warned residents to stay away from damaged buildings."),
        ("Death toll rises in Mersinova earthquake",
         "Officials in Mersinova said the toll from the magnitude 6.8 earthquake rose to 40 as "
         "rescuers searched collapsed buildings near the Kandilo observatory."),
    ],
    "election": [
        ("Marchetti wins Veltravia presidential election",
         "Ilsa Marchetti won Veltravia's presidential election on Sunday with 54 percent of the vote, "
         "the electoral commission announced in the capital Oruna."),
        ("Veltravia elects Marchetti as president",
         "Voters in Veltravia elected opposition leader Ilsa Marchetti president, the electoral "
         "commission in Oruna said after counting ballots."),
        ("Marchetti promises reforms after Veltravia vote",
         "President-elect Ilsa Marchetti thanked voters in Oruna and promised economic reforms after "
         "her victory in Veltravia's presidential election."),
        ("Rival concedes to Marchetti in Veltravia",
         "The ruling party candidate conceded defeat to Ilsa Marchetti after Sunday's presidential "
         "election in Veltravia, electoral officials in Oruna said."),
    ],
}


def story_inputs():
    raws, times = {}, {}
    for name, texts in STORIES.items():
        for i, (headline, body) in enumerate(texts):
            aid = f"{name}-{i}"
            raws[aid] = raw_features(headline, body, entities=[])
            times[aid] = None if i == 3 else T0 + i * DAY / 2
    return raws, times


@pytest.mark.parametrize("config", [
    DEFAULT_CONFIG,
    DEFAULT_CONFIG.replace(merge_clusters=False),  # no second pass
    DEFAULT_CONFIG.replace(threshold=0.2),        # a low threshold still keeps the stories apart
], ids=["default", "one-pass", "low-threshold"])
def test_cluster_articles_two_stories_any_order(config):
    raws, times = story_inputs()
    ids = sorted(raws)
    stats = {}
    out = cluster_articles(ids, raws, times, config, stats=stats)
    assert out.keys() == set(ids)
    assert {out[i] for i in ids if i.startswith("quake")} == {"quake-0"}
    assert {out[i] for i in ids if i.startswith("election")} == {"election-0"}
    # every pair within a story scores an edge (6 + 6), none across the two: two components of 4
    assert {k: stats[k] for k in ("blocks", "max_block", "edges", "components", "largest_component",
                                   "unjoined_edges", "cut_components")} == {
        "blocks": 26, "max_block": 4, "edges": 12, "components": 2, "largest_component": 4,
        "unjoined_edges": 0, "cut_components": 0}
    if config.merge_clusters:
        assert (stats["clusters"], stats["cluster_edges"]) == (2, 0)
    for seed in range(3):
        rnd = random.Random(seed)
        shuffled = list(ids)
        rnd.shuffle(shuffled)
        raws2 = {i: raws[i] for i in shuffled}
        assert cluster_articles(shuffled, raws2, times, config) == out


def test_cluster_articles_time_gap_splits_a_story():
    """Reports a month apart still join (follow-ups); a year apart they are
    two events (the same kind of event again)."""
    raws, times = story_inputs()
    ids = [i for i in sorted(raws) if i.startswith("quake")]
    month = {i: T0 + (0 if n < 2 else 30 * DAY) for n, i in enumerate(ids)}
    out = cluster_articles(ids, {i: raws[i] for i in ids}, month)
    assert len(set(out.values())) == 1
    year = {i: T0 + (0 if n < 2 else 365 * DAY) for n, i in enumerate(ids)}
    out = cluster_articles(ids, {i: raws[i] for i in ids}, year)
    assert out[ids[0]] == out[ids[1]] != out[ids[2]] == out[ids[3]]


# -- bursts and the second pass ---------------------------------------------




#: (events with the burst boost, events without) per seed: 60 headlines of 5 stories.
BURST_EVENTS = {0: (9, 19), 1: (6, 16), 2: (6, 16), 3: (7, 15), 4: (8, 20)}


@pytest.mark.parametrize("seed", range(5))
def test_bursts_hold_short_stories_together(seed):
    """Two-word headlines of one story rarely share a word; published in one
    burst they form far fewer events than without the boost, never mixing
    stories; with the times unknown they split as they did without it."""
    raws, times = burst_headlines(seed)
    ids = sorted(raws)

    def events(config, times=times):
        return cluster_articles(ids, raws, times, config)

    assign = events(DEFAULT_CONFIG)
    story = {i: i.split("-")[0] for i in ids}
    assert all(len({story[i] for i in ids if assign[i] == e}) == 1 for e in set(assign.values())), \
        "an event mixes two stories"
    with_burst = len(set(assign.values()))
    without = len(set(events(NO_BURST).values()))
    assert (with_burst, without) == BURST_EVENTS[seed]
    undated = {i: None for i in ids}
    assert events(DEFAULT_CONFIG, undated) == events(NO_BURST, undated)


def reference_cluster_member(members, config):
    """(unit mean over the expand_top heaviest, whether a tie straddles the cut)."""
    acc = defaultdict(float)
    for m in members:
        v = unpacked_dict(m.vector)
        n = math.sqrt(sum(w * w for w in v.values())) or 1.0
        for f, w in v.items():
            acc[f] += w / n
    ranked = sorted(acc, key=lambda f: (-acc[f], f))
    k = config.expand_top
    tie = len(ranked) > k and abs(acc[ranked[k - 1]] - acc[ranked[k]]) <= 1e-6
    top = ranked[:k]
    norm = math.sqrt(sum(acc[f] ** 2 for f in top)) or 1.0
    return {f: acc[f] / norm for f in top}, tie


@given(st.lists(st.dictionaries(st.sampled_from(EXPAND_FEATURES), st.floats(0.01, 2.0), min_size=1, max_size=8),
                min_size=1, max_size=6),
       st.lists(st.one_of(st.none(), st.floats(0.0, 5 * DAY)), min_size=6, max_size=6))
@FAST
def test_cluster_member_is_the_unit_mean(vectors, offsets):
    """cluster_member against a dict reference: the unit mean of unit vectors
    over the heaviest features, the lower median time, the commonest keys."""
    config = EventConfig(expand_top=10, block_keys=3)
    members = [BlockMember(f"a{i}", None if offsets[i] is None else T0 + offsets[i], pack_vector(v),
                           tuple(sorted(v)[:3])) for i, v in enumerate(vectors)]
    got = cluster_member("c", list(reversed(members)), config)
    assert got == cluster_member("c", members, config)           # member order does not matter
    want, tie = reference_cluster_member(members, config)
    vec = unpacked_dict(got.vector)
    assert len(vec) == len(want)
    if not tie:                                                  # float32 may order a near-tie either way
        assert set(vec) == set(want)
    for f in set(vec) & set(want):
        assert abs(vec[f] - want[f]) <= 1e-5
    known = sorted(m.time for m in members if m.time is not None)
    assert got.time == (None if not known else known[(len(known) - 1) // 2])  # one of the members' times
    counts = defaultdict(int)
    for m in members:
        for k in m.keys:
            counts[k] += 1
    assert list(got.keys) == sorted(counts, key=lambda k: (-counts[k], k))[:3]


def test_a_cluster_of_bare_dates_keeps_a_bare_date():
    """The median of two midnights is one of them, not a precise noon that would
    earn the burst boost."""
    v = pack_vector({"t:x": 1.0})
    members = [BlockMember("a", MIDNIGHT, v, ("k",)), BlockMember("b", MIDNIGHT + DAY, v, ("k",))]
    got = cluster_member("a", members)
    assert got.time == MIDNIGHT
    assert time_factor(got.time, got.time) == 1.0
