"""Events: the pieces that keep the stage keyed and bounded: the df sketch, the
background, connected components by label propagation, the component cut."""
import pickle
import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from events_helpers import FAST, random_members
from hypothesis import given
from hypothesis import strategies as st

from wiredesk.transforms.events.background import MIN_SAMPLE, ReferenceSample, above_background
from wiredesk.transforms.events.blocking import block_entry
from wiredesk.transforms.events.clustering import cluster_component, cluster_edges
from wiredesk.transforms.events.components import (
    ConnectedComponents,
    components,
    propagate_labels,
    strong_edges,
)
from wiredesk.transforms.events.config import DEFAULT_CONFIG
from wiredesk.transforms.events.frequencies import DfSketch
from wiredesk.transforms.events.records import BlockMember, Edge, Label
from wiredesk.transforms.events.scoring import best_edges, block_edges, edge_rank, top_edges
from wiredesk.transforms.events.steps import ScoreBlocks
from wiredesk.transforms.events.vectors import pack_vector


def test_df_sketch_counts_articles_not_mentions_and_round_trips():
    sketch = DfSketch()
    docs = [["t:quake", "t:rescue", "t:quake"], ["t:quake", "e:mersinova"], ["t:vote"]]
    for features in docs:
        sketch.add(features)
    assert sketch.n_docs == 3
    assert [sketch.get(f) for f in ("t:quake", "t:rescue", "e:mersinova", "t:vote")] == [2, 1, 1, 1]
    assert sketch.get("t:absent", 7) == 7  # unseen: the default, like a dict
    back = pickle.loads(pickle.dumps(sketch))
    assert back.n_docs == 3 and np.array_equal(back.counts, sketch.counts)
    other = DfSketch()
    other.add(["t:quake"])
    assert sketch.merge(other).get("t:quake") == 3 and sketch.n_docs == 4


@given(st.lists(st.sets(st.integers(0, 3000), max_size=40), max_size=60))
@FAST
def test_df_sketch_is_never_below_the_true_count(docs):
    sketch = DfSketch()
    exact = {}
    for features in docs:
        names = [f"t:w{i}" for i in features]
        sketch.add(names)
        for f in names:
            exact[f] = exact.get(f, 0) + 1
    for f, n in exact.items():
        assert sketch.get(f) >= n
    # at this size no two features share both counters: the estimates are exact
    assert all(sketch.get(f) == n for f, n in exact.items())


def test_above_background():
    assert above_background(0.5, 0.0, 0.0) == 0.5
    assert above_background(0.5, 0.2, 0.2) == (0.5 - 0.2) / 0.8
    assert above_background(0.1, 0.2, 0.2) == 0.0          # below the background: no score
    assert above_background(1.0, 1.0, 1.0) == 0.0


def test_reference_background_leaves_itself_out_and_needs_a_sample():
    v = pack_vector({"t:a": 1.0})
    w = pack_vector({"t:b": 1.0})
    members = [BlockMember(f"r{i:02d}", None, v if i % 2 else w, []) for i in range(MIN_SAMPLE + 1)]
    ref = ReferenceSample(members)
    # 15 odd members share r01's vector, 16 even ones do not; r01 itself is left out
    assert ref.background("r01", v) == round(14 / MIN_SAMPLE, 6)
    assert ref.background("outsider", v) == round(15 / (MIN_SAMPLE + 1), 6)
    small = ReferenceSample(members[: MIN_SAMPLE - 1])
    assert small.background("x", v) == 0.0                 # too small a run to have a background


def random_graph(rnd, n, m):
    nodes = [f"n{i:03d}" for i in range(n)]
    edges = set()
    for _ in range(m):
        a, b = rnd.sample(nodes, 2)
        edges.add(Edge(min(a, b), max(a, b), round(rnd.random(), 3)))
    return sorted(edges)


def test_label_propagation_reaches_the_components():
    rnd = random.Random(4)
    for n, m in ((10, 8), (60, 70), (200, 150)):
        edges = random_graph(rnd, n, m)
        exact = components(edges)
        assert propagate_labels(edges, 12) == exact
        # a label is always a node of the same component, never smaller than its component's smallest id
        partial = propagate_labels(edges, 1)
        assert all(exact[node] <= label and exact[label] == exact[node] for node, label in partial.items())


def test_a_path_needs_more_rounds_and_unjoined_pieces_stay_apart():
    path = [Edge(f"p{i:02d}", f"p{i + 1:02d}", 1.0) for i in range(40)]
    assert set(propagate_labels(path, 12).values()) == {"p00"}
    few = propagate_labels(path, 2)
    assert len(set(few.values())) > 1                      # pieces, each a contiguous run of the path
    assert all(few[e.lo] <= e.lo for e in path)


def test_connected_components_in_beam_equal_the_reference():
    rnd = random.Random(9)
    edges = random_graph(rnd, 80, 90)
    strong = strong_edges(edges, 0.5)
    for rounds in (1, 4):
        want = [Label(n, lab) for n, lab in sorted(propagate_labels(strong, rounds).items())]
        with TestPipeline() as p:
            got = p | beam.Create(strong) | ConnectedComponents(rounds)
            assert_that(got, equal_to(want))


def test_cluster_component_cuts_past_the_limit():
    edges = [Edge(f"a{i:02d}", f"a{j:02d}", 0.9) for i in range(6) for j in range(i + 1, 6)]
    whole, parts = cluster_component(edges, 0.5, limit=10)
    assert parts == 1 and set(whole.values()) == {"a00"}
    assert whole == cluster_edges(sorted({x for e in edges for x in e[:2]}), edges, 0.5)
    cut, parts = cluster_component(edges, 0.5, limit=4)
    assert parts == 2
    assert {cut[f"a{i:02d}"] for i in range(4)} == {"a00"} and {cut["a04"], cut["a05"]} == {"a04"}


# -- the edge cap: at most node_edges edges chosen per article ---------------

EDGE_LISTS = st.lists(
    st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("abcdefgh"),
              st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.9])).filter(lambda t: t[0] < t[1]).map(lambda t: Edge(*t)),
    max_size=40)


@given(EDGE_LISTS, st.integers(1, 4))
def test_top_edges_keep_each_articles_best_and_nothing_else(edges, k):
    kept = top_edges(edges, k)
    best = best_edges(edges)
    assert kept == sorted(set(kept)) and set(kept) <= set(best)
    for node in {x for e in best for x in e[:2]}:
        mine = sorted((e for e in best if node in e[:2]), key=lambda e: edge_rank(e, node))
        # its k best are kept; any other kept edge of it was chosen by the other end
        assert set(mine[:k]) <= set(kept)
        for e in set(kept) & set(mine[k:]):
            other = e.hi if e.lo == node else e.lo
            theirs = sorted((x for x in best if other in x[:2]), key=lambda x: edge_rank(x, other))
            assert e in theirs[:k]
    assert top_edges(list(reversed(edges)), k) == kept  # the same in any order
    # what a block keeps of its own edges holds what the whole run keeps of them (blocks may cut first)
    half = edges[: len(edges) // 2]
    assert set(top_edges(half, k)) >= set(kept) & set(best_edges(half))


def test_top_edges_cap_a_dense_graph():
    # a star and a clique: the hub keeps its two best, the leaves keep their one edge each
    star = [Edge("hub", f"leaf{i}", 0.1 * (i + 1)) for i in range(5)]
    assert top_edges(star, 2) == sorted(star)  # every leaf keeps its only edge
    clique = [Edge(a, b, 0.5) for a in "abcde" for b in "abcde" if a < b]
    kept = top_edges(clique + clique[:3], 1)  # repeats are one pair; ties go to the smaller id
    assert kept == [Edge("a", "b", 0.5), Edge("a", "c", 0.5), Edge("a", "d", 0.5), Edge("a", "e", 0.5)]


@pytest.mark.parametrize("members, window, k", [
    (random_members(5, 14, 12), 100, 3),
    # windowed blocks (window 3 < block size) score some pairs in two blocks: the cap (best.BestDistinct) still
    # keeps each article's k best *other* articles
    (random_members(11, 16, 10, extra_keys=("k:also",)), 3, 4),
])
def test_score_blocks_cap_in_beam_equals_the_reference(members, window, k):
    config = DEFAULT_CONFIG.replace(edge_min=0.01, time_burst_boost=0.0, block_window=window)  # boost as given
    raw = [e for key, ms in sorted(_blocks(members).items()) for e in block_edges(key, ms, config)]
    assert (len(raw) > len(best_edges(raw))) == (window < len(members))  # pairs repeat where blocks are windowed
    expected = top_edges(raw, k)
    assert len(expected) < len(best_edges(raw))  # the cap drops edges here
    with TestPipeline() as p:
        boost = p | "Boost" >> beam.Create([0.0])
        got = (p | beam.Create(members), boost) | ScoreBlocks(config, node_edges=k)
        assert_that(got, equal_to(expected))


def _blocks(members):
    """block key -> its entries, as the blocks hold them (``blocking.block_entry``: float16 weights)."""
    out = {}
    for m in members:
        for k in m.keys:
            out.setdefault(k, []).append(block_entry(m))
    return out
