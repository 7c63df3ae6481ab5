"""Events: the pieces that keep the stage keyed and bounded: the df sketch, the
background, connected components by label propagation, the component cut."""
import pickle
import random

import apache_beam as beam
import numpy as np
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from events_helpers import FAST
from hypothesis import given
from hypothesis import strategies as st

from wiredesk.transforms.events.background import MIN_SAMPLE, ReferenceSample, above_background
from wiredesk.transforms.events.clustering import cluster_component, cluster_edges
from wiredesk.transforms.events.components import (
    ConnectedComponents,
    components,
    propagate_labels,
    strong_edges,
)
from wiredesk.transforms.events.frequencies import DfSketch
from wiredesk.transforms.events.records import BlockMember, Edge, Label
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
