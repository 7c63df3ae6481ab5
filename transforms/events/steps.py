"""The Beam steps of the events stage that score: backgrounds, blocks, the
burst boost, neighbour expansion (clustering and the stage itself are in
``transforms``).

Each wraps the pure functions of its sibling modules in keyed Beam steps; the
vectors travel once per block key or per neighbour, never once per pair.
"""
from __future__ import annotations

import sys
from typing import Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.typehints import KV

from wiredesk.transforms.events.background import ReferenceSample, sample_rank
from wiredesk.transforms.events.best import BestDistinct
from wiredesk.transforms.events.blocking import block_entry
from wiredesk.transforms.events.config import EventConfig, with_burst_boost
from wiredesk.transforms.events.records import BlockEntry, BlockMember, Edge, Neighbour, NeighbourVector
from wiredesk.transforms.events.scoring import block_edges, kept_in_block, make_edge
from wiredesk.transforms.events.timing import burst_boost, close_pairs, time_bin
from wiredesk.transforms.events.vectors import expand_vector
from wiredesk.transforms.join import JoinByKey
from wiredesk.transforms.memory import ReleasingDoFn

__all__ = ["NAMESPACE", "EventStep", "SampleReference", "WithBackground", "ScoreBlocks", "BurstBoost",
           "BestNeighbours", "ExpandVectors"]

NAMESPACE = "wiredesk.events"

#: The key under which every article with a precise time (not a bare date)
#: is counted once (no blocking key is empty).
ALL_DATED = ""


class EventStep(beam.PTransform):
    """A composite step of the events stage, configured by an EventConfig."""

    def __init__(self, config: EventConfig):
        super().__init__()
        self.config = config


# -- backgrounds ---------------------------------------------------------------

def _rank(member: BlockMember) -> bytes:
    return sample_rank(member.article_id)


class SampleReference(EventStep):
    """Members -> one list: the ``background_sample`` members of smallest
    ``background.sample_rank`` (a combine; the same in any order)."""

    def expand(self, members):
        return members | "Smallest" >> beam.combiners.Top.Of(self.config.background_sample, key=_rank,
                                                             reverse=True)


class WithBackgroundFn(ReleasingDoFn):
    """A member with its background against the reference sample (a side
    input of constant size, turned into a matrix once per worker)."""

    def __init__(self):
        self._sample = None
        self._reference = None

    def process(self, member: BlockMember, sample: List[BlockMember]):
        if self._sample is not sample:
            self._sample, self._reference = sample, ReferenceSample(sample)
        yield member._replace(background=self._reference.background(member.article_id, member.vector))


class WithBackground(beam.PTransform):
    """(members, reference sample) -> members with their background."""

    def expand(self, inputs):
        members, sample = inputs
        return members | "Background" >> beam.ParDo(
            WithBackgroundFn(), sample=beam.pvalue.AsSingleton(sample)).with_output_types(BlockMember)


# -- scoring blocks ------------------------------------------------------------

def to_blocks(member: BlockMember) -> Iterable[Tuple[str, BlockEntry]]:
    """A member goes to each of its blocks, as the entry a block holds."""
    entry = block_entry(member)
    for key in member.keys:
        yield key, entry


class ScoreBlockFn(ReleasingDoFn):
    """(block key, members) -> edges, with the run's burst boost (a side input)."""

    def __init__(self, config: EventConfig, prefix: str = "", keep: Optional[int] = None):
        self.config = config
        self.keep = keep
        # prefix "cluster_": the second pass, whose members are clusters
        #: Blocks with two or more members (each is scored on one worker).
        self.blocks = Metrics.counter(NAMESPACE, prefix + "blocks")
        #: Blocks larger than block_window + 1: scored in a sliding window,
        #: not all pairs (what keeps the work linear).
        self.windowed = Metrics.counter(NAMESPACE, prefix + "windowed_blocks")
        #: Edges found (pairs scoring at least edge_min), each scoring round.
        self.edges = Metrics.counter(NAMESPACE, prefix + "block_edges")
        #: Edges of a block among the ``keep`` best of neither article there
        #: (so of neither article anywhere: ``scoring.top_edges``), dropped in the block.
        self.dropped = Metrics.counter(NAMESPACE, prefix + "block_dropped_edges")

    def process(self, element, boost: float):
        key, members = element
        members = list(members)
        if len(members) < 2:
            return
        self.blocks.inc()
        if len(members) > self.config.block_window + 1:
            self.windowed.inc()
        edges = block_edges(key, members, with_burst_boost(self.config, boost))
        self.edges.inc(len(edges))
        kept = kept_in_block(edges, len(members), self.keep)
        if kept is not edges:  # the block was cut
            self.dropped.inc(len(edges) - len(kept))
        yield from kept


def _by_ends(edge: Edge) -> Iterable[Tuple[str, Neighbour]]:
    """An edge as each of its articles sees it: the other article and the score."""
    yield edge.lo, Neighbour(edge.hi, edge.score)
    yield edge.hi, Neighbour(edge.lo, edge.score)


class KeptEdgesFn(ReleasingDoFn):
    """(article, its ``node_edges`` best neighbours) -> those edges (``scoring.top_edges``)."""

    def __init__(self, limit: int):
        self.limit = limit
        #: Articles that reached ``node_edges`` edges of their own choosing (past it, only their best were kept).
        self.capped = Metrics.counter(NAMESPACE, "edge_capped_articles")

    def process(self, element):
        article, best = element
        best = list(best)
        if len(best) >= self.limit:
            self.capped.inc()
        for other, score in best:
            yield make_edge(article, other, score)  # the score is already rounded: the same edge


class ScoreBlocks(EventStep):
    """(block members, burst boost) -> the scored pairs. With ``node_edges``,
    one edge per pair (its best score), only those among the ``node_edges``
    best of either of their articles (``scoring.top_edges``: a graph linear in
    the articles however dense the run). Without, one edge per pair when
    ``once`` (the default), else every scored edge, repeats of a pair from
    windowed blocks included, for a consumer that keeps one per pair itself
    (``BestNeighbours``). Counters of the second pass, whose members are
    clusters, are named with ``prefix`` ("cluster_")."""

    def __init__(self, config: EventConfig, prefix: str = "", node_edges: Optional[int] = None,
                 keep: Optional[int] = None, once: bool = True):
        super().__init__(config)
        self.prefix = prefix
        self.node_edges = node_edges
        #: Each block keeps only the edges among the ``keep`` best of one of their
        #: articles there (``node_edges`` when given): what the step's consumer needs.
        self.keep = keep or node_edges
        self.once = once

    def expand(self, inputs):
        members, boost = inputs
        edges = (
            members
            | "ToBlocks" >> beam.FlatMap(to_blocks).with_output_types(KV[str, BlockEntry])
            | "GroupBlocks" >> beam.GroupByKey()
            | "ScoreBlock" >> beam.ParDo(ScoreBlockFn(self.config, self.prefix, self.keep),
                                          boost=beam.pvalue.AsSingleton(boost)).with_output_types(Edge)
        )
        if self.node_edges:
            # the best per article, one per other article (best.BestDistinct: repeats merged in the combine)
            return (
                edges
                | "ByEnds" >> beam.FlatMap(_by_ends).with_output_types(KV[str, Neighbour])
                | "BestOfArticle" >> beam.CombinePerKey(BestDistinct(self.node_edges))
                | "KeptEdges" >> beam.ParDo(KeptEdgesFn(self.node_edges)).with_output_types(Edge)
                | "KeptOnce" >> _OncePerPair()  # an edge both of its articles kept
            )
        return edges | "OncePerPair" >> _OncePerPair() if self.once else edges


def _pair_and_score(edge: Edge) -> Tuple[Tuple[str, str], float]:
    """((lo, hi), score), the ids interned: a worker's combine table holds up to a million pairs, and the ids
    of decoded edges are new strings each (interned, one string per article in the worker)."""
    return (sys.intern(edge.lo), sys.intern(edge.hi)), edge.score


class _OncePerPair(beam.PTransform):
    """Edges -> one edge per pair, its best score."""

    def expand(self, edges):
        return (
            edges
            | "KeyByPair" >> beam.Map(_pair_and_score)
            | "BestPerPair" >> beam.CombinePerKey(max)
            | "Edge" >> beam.Map(lambda kv: Edge(kv[0][0], kv[0][1], kv[1])).with_output_types(Edge)
        )


# -- burst boost ---------------------------------------------------------------

def _bins(member: BlockMember, config: EventConfig):
    """(key, burst-scale time bin) of a member with a precise time: once
    under ALL_DATED, once per blocking key."""
    b = time_bin(member.time, config)
    if b is not None:
        yield ALL_DATED, b
        for key in member.keys:
            yield key, b


class CountBins(beam.CombineFn):
    """Time bins -> {bin: count}."""

    def create_accumulator(self):
        return {}

    def add_input(self, acc, b):
        acc[b] = acc.get(b, 0) + 1
        return acc

    def merge_accumulators(self, accs):
        out = {}
        for acc in accs:
            for b, c in acc.items():
                out[b] = out.get(b, 0) + c
        return out

    def extract_output(self, acc):
        return acc


def _close_and_all(kv):
    """(key, {bin: count}) -> (key close pairs, key pairs, all close pairs, all
    pairs), the key's numbers in the first two places or the last two."""
    key, counts = kv
    close, pairs = close_pairs(counts.values())
    return (0, 0, close, pairs) if key == ALL_DATED else (close, pairs, 0, 0)


class BurstBoostFn(beam.DoFn):
    """The four pair counts -> the burst boost (``timing.burst_boost``)."""

    def __init__(self, config: EventConfig):
        self.config = config
        #: The burst boost the run used, in thousandths (0: publication times
        #: did not cluster by story, or there were none).
        self.boost_permille = Metrics.counter(NAMESPACE, "burst_boost_permille")

    def process(self, totals):
        boost = burst_boost(*totals, self.config)
        self.boost_permille.inc(int(round(boost * 1000)))
        yield boost


class BurstBoost(EventStep):
    """Block members -> the burst boost the data supports (one number): bin
    counts per blocking key (a combine per key, one more key for all dated
    articles), then one global sum."""

    def expand(self, members):
        return (
            members
            | "Bins" >> beam.FlatMap(_bins, self.config)
            | "CountBins" >> beam.CombinePerKey(CountBins())
            | "CloseAndAll" >> beam.Map(_close_and_all)
            | "Sum" >> beam.CombineGlobally(beam.combiners.TupleCombineFn(sum, sum, sum, sum))
            | "Boost" >> beam.ParDo(BurstBoostFn(self.config)).with_output_types(float)
        )


# -- neighbour expansion -------------------------------------------------------

def neighbour_messages(edge: Edge, min_sim: float) -> Iterable[Tuple[str, Neighbour]]:
    """An edge tells each of its two articles that the other is a neighbour."""
    if edge.score >= min_sim:
        yield edge.hi, Neighbour(edge.lo, edge.score)
        yield edge.lo, Neighbour(edge.hi, edge.score)


def _ask_neighbours(element: Tuple[str, List[Neighbour]]) -> Iterable[Tuple[str, Neighbour]]:
    """(i, i's best neighbours) -> (j, Neighbour(i, s)): i asks j for its vector."""
    i, best = element
    for n in best:
        yield n.article_id, Neighbour(i, n.score)


class BestNeighbours(EventStep):
    """Edges (a pair may repeat) -> (j, Neighbour(i, s)): article i asks its
    neighbour j for its vector, for the ``expand_k`` best neighbours of each
    article, each at its best score (a combine per key, ties by id)."""

    def expand(self, edges):
        return (
            edges
            | "Neighbours" >> beam.FlatMap(neighbour_messages, self.config.expand_min_sim
                                           ).with_output_types(KV[str, Neighbour])
            | "BestNeighbours" >> beam.CombinePerKey(BestDistinct(self.config.expand_k))
            | "AskNeighbours" >> beam.FlatMap(_ask_neighbours).with_output_types(KV[str, Neighbour])
        )


def _send_vector(element) -> Iterable[Tuple[str, NeighbourVector]]:
    """(j, {"member": [member j], "asked_by": [Neighbour(i, s) ...]}) ->
    (i, NeighbourVector(s, j, vector of j))."""
    j, joined = element
    for member in joined["member"]:
        for asker in joined["asked_by"]:
            yield asker.article_id, NeighbourVector(asker.score, j, member.vector)


def _expand(element, config: EventConfig) -> Iterable[BlockMember]:
    """(i, {"member": [member i], "neighbour_vectors": [...]}) -> member i, expanded."""
    _, joined = element
    for member in joined["member"]:
        yield member._replace(vector=expand_vector(member.vector, joined["neighbour_vectors"], config))


class ExpandVectors(EventStep):
    """One round of neighbour expansion: (members, asks) -> members. Each
    article receives the vectors of the neighbours it asked for (one keyed
    join) and moves its own toward them (a second keyed join)."""

    def expand(self, inputs):
        members, asks = inputs
        by_id = members | "KeyMembers" >> beam.Map(lambda m: (m.article_id, m)).with_output_types(
            KV[str, BlockMember])
        vectors = (
            {"member": by_id, "asked_by": asks}
            | "JoinNeighbourVectors" >> JoinByKey()
            | "SendVectors" >> beam.FlatMap(_send_vector).with_output_types(KV[str, NeighbourVector])
        )
        return (
            {"member": by_id, "neighbour_vectors": vectors}
            | "JoinOwnVector" >> JoinByKey()
            | "Expand" >> beam.FlatMap(_expand, self.config).with_output_types(BlockMember)
        )
