"""The graph cut into independent pieces: connected components of the edges
that can merge two groups, found by label propagation over keyed joins.

Average linkage merges two groups only if some edge between them scores at
least the threshold (an average is never above its largest term), so every
cluster lies inside one connected component of the graph of such edges
("strong" edges). Each component is clustered on its own, with all its edges,
in one worker; no worker holds the run's whole graph.

Components are found by min-label propagation with pointer jumping: every
node starts with the smallest id among itself and its neighbours; each round
it takes the smallest label of its neighbours, then the label of its label.
``component_rounds`` rounds join every component whose nodes are at most
about 2 ** rounds steps apart; a piece not joined by then is clustered as two
pieces (never merged wrongly), and the strong edges left between pieces are
counted (``unjoined_edges``). A component of more than ``max_component``
nodes is cut in id order and each part clustered apart (counted:
``cut_components``).
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.typehints import KV

from wiredesk.transforms.events.records import Edge, Label
from wiredesk.transforms.join import JoinByKey

__all__ = ["strong_edges", "propagate_labels", "components", "ConnectedComponents", "LabelEdges"]


def strong_edges(edges: Iterable[Edge], threshold: float) -> List[Edge]:
    """The edges that can merge two groups by themselves."""
    return [e for e in edges if e.score >= threshold]


def _initial(edges: Iterable[Edge]) -> Dict[str, str]:
    labels: Dict[str, str] = {}
    for a, b, _ in edges:
        low = min(a, b)
        for x in (a, b):
            labels[x] = min(labels.get(x, low), low)
    return labels


def propagate_labels(edges: Iterable[Edge], rounds: int) -> Dict[str, str]:
    """What ``ConnectedComponents`` computes, in one process: node -> label
    after ``rounds`` rounds (for tests, and the reference implementation)."""
    edges = list(edges)
    labels = _initial(edges)
    for _ in range(rounds):
        new = dict(labels)
        for a, b, _ in edges:
            for x, y in ((a, b), (b, a)):
                if labels[y] < new[x]:
                    new[x] = labels[y]
        labels = {n: min(lab, new.get(lab, lab)) for n, lab in new.items()}
    return labels


def components(edges: Iterable[Edge]) -> Dict[str, str]:
    """Exact connected components (union-find): node -> smallest node id."""
    parent: Dict[str, str] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in list(parent)}


# -- Beam ----------------------------------------------------------------------

def _directed(edge: Edge) -> Iterable[Tuple[str, str]]:
    yield edge.lo, edge.hi
    yield edge.hi, edge.lo


def _initial_labels(edge: Edge) -> Iterable[Tuple[str, str]]:
    yield edge.lo, edge.lo
    yield edge.hi, edge.lo


def _spread(element) -> Iterable[Tuple[str, str]]:
    """(node, {"label": [l], "out": [neighbours]}) -> its label to itself and each neighbour."""
    node, joined = element
    for label in joined["label"]:
        yield node, label
        for other in joined["out"]:
            yield other, label


def _jump(element) -> Iterable[Tuple[str, str]]:
    """(label l, {"asked": [nodes labelled l], "label": [label of l]}) -> each node's min(l, label of l)."""
    label, joined = element
    best = min([label] + list(joined["label"]))
    for node in joined["asked"]:
        yield node, best


class ConnectedComponents(beam.PTransform):
    """Strong edges -> Label(node, component label) for every node on one."""

    def __init__(self, rounds: int):
        super().__init__()
        self.rounds = rounds

    def expand(self, edges):
        out = edges | "Directed" >> beam.FlatMap(_directed).with_output_types(KV[str, str])
        labels = (edges
                  | "Initial" >> beam.FlatMap(_initial_labels).with_output_types(KV[str, str])
                  | "SmallestInitial" >> beam.CombinePerKey(min))
        for r in range(self.rounds):
            spread = (
                {"label": labels, "out": out}
                | f"JoinNeighbours{r + 1}" >> JoinByKey()
                | f"Spread{r + 1}" >> beam.FlatMap(_spread).with_output_types(KV[str, str])
                | f"Smallest{r + 1}" >> beam.CombinePerKey(min)
            )
            asked = spread | f"AskLabel{r + 1}" >> beam.KvSwap().with_output_types(KV[str, str])
            labels = (
                {"asked": asked, "label": spread}
                | f"JoinLabelOfLabel{r + 1}" >> JoinByKey()
                | f"Jump{r + 1}" >> beam.FlatMap(_jump).with_output_types(KV[str, str])
            )
        return labels | "Label" >> beam.MapTuple(Label).with_output_types(Label)


def _with_lo_label(element) -> Iterable[Tuple[str, Tuple[str, Edge]]]:
    _, joined = element
    for label in joined["label"]:
        for edge in joined["edges"]:
            yield edge.hi, (label, edge)


class SameLabelFn(beam.DoFn):
    """(hi, {"label": [label of hi], "edges": [(label of lo, edge)]}) ->
    (label, edge) when both ends carry it."""

    def __init__(self, namespace: str, threshold: float, prefix: str = ""):
        self.threshold = threshold
        #: Strong edges left between two pieces the propagation did not join
        #: in ``component_rounds`` rounds (the pieces are clustered apart).
        self.unjoined = Metrics.counter(namespace, prefix + "unjoined_edges")

    def process(self, element):
        _, joined = element
        for label in joined["label"]:
            for lo_label, edge in joined["edges"]:
                if lo_label == label:
                    yield label, edge
                elif edge.score >= self.threshold:
                    self.unjoined.inc()


class LabelEdges(beam.PTransform):
    """(edges, labels) -> (component label, edge) for every edge whose two
    nodes carry one label (edges of nodes without a label, which have no
    strong edge, are left out: those nodes stay alone)."""

    def __init__(self, namespace: str, threshold: float, prefix: str = ""):
        super().__init__()
        self.fn = SameLabelFn(namespace, threshold, prefix)

    def expand(self, inputs):
        edges, labels = inputs
        label_kv = labels | "LabelKV" >> beam.Map(tuple).with_output_types(KV[str, str])
        by_lo = edges | "ByLo" >> beam.Map(lambda e: (e.lo, e)).with_output_types(KV[str, Edge])
        with_lo = (
            {"label": label_kv, "edges": by_lo}
            | "JoinLoLabel" >> JoinByKey()
            | "WithLoLabel" >> beam.FlatMap(_with_lo_label).with_output_types(KV[str, Tuple[str, Edge]])
        )
        return (
            {"label": label_kv, "edges": with_lo}
            | "JoinHiLabel" >> JoinByKey()
            | "SameLabel" >> beam.ParDo(self.fn).with_output_types(KV[str, Edge])
        )
