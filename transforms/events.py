"""Events stage: group canonical articles into events, copies inherit.

The algorithm (features, blocking, similarity, neighbour expansion, clustering)
is pure Python in ``transforms.events_core``; this module spreads it over Beam
keys:

1. entities (spaCy, ``transforms.entities``) on canonical articles only;
2. raw features per article; document frequencies by a combine over all
   articles (a side input of the features seen at least twice, and N);
3. a weighted vector per article, packed into bytes (sorted 64-bit feature
   ids + float32 weights), and its blocking keys (its highest-weighted
   shared entities and terms);
4. the burst boost the data supports (``BurstBoost``: time-bin counts by a
   combine per blocking key, one global sum, one number as a side input):
   how much likelier articles that share a key are to be published in the
   same few minutes than any two articles;
5. scoring per block: each article goes to its blocks (GroupByKey per key),
   and each block is scored where it lands, pairs in a capped sorted window
   (never all pairs; vectors travel once per block key, never per pair);
   one edge per pair is kept by a combine;
6. neighbour expansion: each article picks its ``expand_k`` best neighbours
   by the first scores (a combine per key); in each of ``expand_rounds``
   rounds it takes their current vectors (two keyed joins) and moves toward
   them; then the blocks are scored once more;
7. clustering over the edges in ONE worker: the only step that sees the whole
   graph. It holds edges (two ids and a float each, only pairs above
   ``edge_min``), not articles, so it stays small next to the data; average
   linkage over the sparse graph is what stops chaining (an article joins a
   cluster only if it is similar, on average, to the cluster's members; how
   far scores above 1 stretch that is bounded, see
   ``events_core.cluster_edges``), and that needs the connected graph in one
   place;
8. a second pass (``MergeClusters``): each cluster of two or more articles
   becomes one member (GroupByKey per cluster: mean vector, median time, most
   common keys), scored by blocks and clustered in one worker like the
   articles; the clusters are far fewer than the articles;
9. per event (GroupByKey by cluster; the article -> cluster assignments, ids
   only, reach the articles as side inputs): a stable ``event_id`` from the
   event's earliest canonical article, ``event_id`` on every article, copies
   included (a copy is keyed with its canonical and inherits its entities),
   and one ``Event`` row.

Batch runs give the same events for the same input in any order: every step
is keyed, sorted or order-free. The steps are written per key and per window,
but the stage has not yet been run on unbounded input (the global document
count and the burst-boost sums use global combines with their defaults,
which non-global windows will need ``without_defaults`` for).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from wiredesk.schemas.records import Article, Event
from wiredesk.transforms import event_summary
from wiredesk.transforms import events_core as ec
from wiredesk.transforms import typed
from wiredesk.transforms.entities import ExtractEntities

NAMESPACE = "wiredesk.events"


# -- pure helpers used by the steps ------------------------------------------

def article_features(article: Article, config: ec.EventConfig):
    """(article_id, (raw features, time)) of a canonical article."""
    raw = ec.raw_features(article.headline, article.body, article.entities or [], config)
    return article.article_id, (raw, ec.parse_time(article.published_at))


def vectorize(element, df: Dict[str, int], n_docs: int, config: ec.EventConfig) -> ec.BlockMember:
    """(article_id, (raw, time)) -> BlockMember: packed tf-idf vector and the
    article's blocking keys."""
    article_id, (raw, t) = element
    vec = ec.weight_features(raw, df, n_docs, config)
    keys = tuple(ec.blocking_keys(vec, df, n_docs, config))
    return ec.BlockMember(article_id, t, ec.pack_vector(vec), keys)


def to_blocks(member: ec.BlockMember):
    """A member goes to each of its blocks."""
    for key in member.keys:
        yield key, member


def neighbour_messages(edge, min_sim: float):
    """An edge (a, b, s) tells b that a is a neighbour and a that b is."""
    a, b, s = edge
    if s >= min_sim:
        yield b, (-s, a)
        yield a, (-s, b)


def _send_vector(element):
    """(j, {"m": [member j], "r": [(i, s), ...]}) -> (i, (s, j, vector j))."""
    j, joined = element
    for member in joined["m"]:
        for i, s in joined["r"]:
            yield i, (s, j, member.vector)


def _ask_neighbours(element):
    """(i, [(-s, j), ...] best first) -> (j, (i, s)): i asks j for its vector."""
    i, best = element
    for neg_s, j in best:
        yield j, (i, -neg_s)


def _by_cluster(member: ec.BlockMember, clusters: Dict[str, str], min_size: int):
    """member -> (its first-pass cluster, member). Only clustered articles are
    in ``clusters``; the rest are clusters of one, needed only when
    ``min_size`` is 1."""
    cluster = clusters.get(member.article_id)
    if cluster is not None or min_size <= 1:
        yield cluster or member.article_id, member


def _expand(element, config: ec.EventConfig):
    """(i, {"m": [member i], "n": [(s, j, vector j)]}) -> member i, expanded."""
    _, joined = element
    for member in joined["m"]:
        yield member._replace(vector=ec.expand_vector(member.vector, joined["n"], config))


# -- DoFns and composite steps -----------------------------------------------

class ScoreBlockFn(beam.DoFn):
    """(block key, members) -> edges (lo, hi, similarity)."""

    def __init__(self, config: ec.EventConfig, prefix: str = ""):
        self.config = config
        # prefix "cluster_": the second pass, whose members are clusters
        #: Blocks with two or more members (each is scored on one worker).
        self.blocks = Metrics.counter(NAMESPACE, prefix + "blocks")
        #: Blocks larger than block_window + 1: scored in a sliding window,
        #: not all pairs (what keeps the work linear).
        self.windowed = Metrics.counter(NAMESPACE, prefix + "windowed_blocks")
        #: Edges found (pairs scoring at least edge_min), each scoring round.
        self.edges = Metrics.counter(NAMESPACE, prefix + "block_edges")

    def process(self, element, boost):
        key, members = element
        members = list(members)
        if len(members) < 2:
            return
        self.blocks.inc()
        if len(members) > self.config.block_window + 1:
            self.windowed.inc()
        if boost != self.config.time_burst_boost:
            self.config = self.config._replace(time_burst_boost=boost)
        edges = ec.block_edges(key, members, self.config)
        self.edges.inc(len(edges))
        yield from edges


class _EventStep(beam.PTransform):
    """A composite step of the events stage, configured by an EventConfig."""

    def __init__(self, config: ec.EventConfig):
        super().__init__()
        self.config = config


class ScoreBlocks(_EventStep):
    """(block members, burst boost) -> one edge per scored pair (the best
    score). The boost is a one-number side input (``BurstBoost``). Counters
    of the second pass, whose members are clusters, are named with
    ``prefix`` ("cluster_")."""

    def __init__(self, config: ec.EventConfig, prefix: str = ""):
        super().__init__(config)
        self.prefix = prefix

    def expand(self, inputs):
        members, boost = inputs
        return (
            members
            | "ToBlocks" >> beam.FlatMap(to_blocks)
            | "GroupBlocks" >> beam.GroupByKey()
            | "ScoreBlock" >> beam.ParDo(ScoreBlockFn(self.config, self.prefix),
                                          boost=beam.pvalue.AsSingleton(boost))
            | "KeyByPair" >> beam.Map(lambda e: ((e[0], e[1]), e[2]))
            | "BestPerPair" >> beam.CombinePerKey(max)
            | "Edge" >> beam.Map(lambda kv: (kv[0][0], kv[0][1], kv[1]))
        )


#: The key under which every article with a precise time (not a bare date)
#: is counted once (no blocking key is empty).
ALL_DATED = ""


def _bins(member: ec.BlockMember, config: ec.EventConfig):
    """(key, burst-scale time bin) of a member with a precise time: once
    under ALL_DATED, once per blocking key."""
    b = ec.time_bin(member.time, config)
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
    close, pairs = ec.close_pairs(counts.values())
    return (0, 0, close, pairs) if key == ALL_DATED else (close, pairs, 0, 0)


#: The burst boost the run used, in thousandths (0: publication times did not
#: cluster by story, or there were none; see events_core.burst_boost).
BURST_BOOST = Metrics.counter(NAMESPACE, "burst_boost_permille")


def _boost(totals, config: ec.EventConfig) -> float:
    boost = ec.burst_boost(*totals, config)
    BURST_BOOST.inc(int(round(boost * 1000)))
    return boost


class BurstBoost(_EventStep):
    """Block members -> the burst boost the data supports (one number,
    ``events_core.burst_boost``): how much likelier two articles sharing a
    blocking key are to fall in one burst-scale time bin than any two
    articles with precise times. Bin counts per key (a combine per key, one
    more key for all such articles), then one global sum."""

    def expand(self, members):
        return (
            members
            | "Bins" >> beam.FlatMap(_bins, self.config)
            | "CountBins" >> beam.CombinePerKey(CountBins())
            | "CloseAndAll" >> beam.Map(_close_and_all)
            | "Sum" >> beam.CombineGlobally(beam.combiners.TupleCombineFn(sum, sum, sum, sum))
            | "Boost" >> beam.Map(_boost, config=self.config)
        )


class BestNeighbours(_EventStep):
    """Edges -> (j, (i, s)): article i asks its neighbour j for its vector,
    for the ``expand_k`` best neighbours of each article (a combine per key,
    ties by id)."""

    def expand(self, edges):
        return (
            edges
            | "Neighbours" >> beam.FlatMap(neighbour_messages, self.config.expand_min_sim)
            | "BestNeighbours" >> beam.combiners.Top.SmallestPerKey(self.config.expand_k)
            | "AskNeighbours" >> beam.FlatMap(_ask_neighbours)
        )


class ExpandVectors(_EventStep):
    """One round of neighbour expansion: (members, asks) -> members.

    Each article receives the vectors of the neighbours it asked for (one
    keyed join) and moves its own vector toward theirs (a second keyed join):
    ``expand_k`` vectors travel per article, never one per pair."""

    def expand(self, inputs):
        members, asks = inputs
        by_id = members | "KeyMembers" >> beam.Map(lambda m: (m.article_id, m))
        vectors = (
            {"m": by_id, "r": asks}
            | "JoinNeighbourVectors" >> beam.CoGroupByKey()
            | "SendVectors" >> beam.FlatMap(_send_vector)
        )
        return (
            {"m": by_id, "n": vectors}
            | "JoinOwnVector" >> beam.CoGroupByKey()
            | "Expand" >> beam.FlatMap(_expand, self.config)
        )


class ClusterEdgesFn(beam.DoFn):
    """All edges (one key) -> (node, cluster key) for nodes in a cluster of two
    or more. Nodes are articles in the first pass, first-pass clusters in the
    second (``merge=True``)."""

    def __init__(self, config: ec.EventConfig, merge: bool = False):
        self.config = config
        if merge:
            #: Edges between first-pass clusters seen by the second pass.
            self.edges = Metrics.counter(NAMESPACE, "cluster_edges")
            #: First-pass clusters the second pass merged with another.
            self.clustered = Metrics.counter(NAMESPACE, "merged_clusters")
        else:
            #: Edges (scored candidate pairs above edge_min) seen by the clustering step.
            self.edges = Metrics.counter(NAMESPACE, "edges")
            #: Articles that share an event with at least one other canonical article.
            self.clustered = Metrics.counter(NAMESPACE, "clustered_articles")

    def process(self, element):
        _, edges = element
        edges = sorted(edges)
        self.edges.inc(len(edges))
        nodes = sorted({a for a, _, _ in edges} | {b for _, b, _ in edges})
        assignment = ec.cluster_edges(nodes, edges, self.config.threshold)
        sizes: Dict[str, int] = {}
        for cluster in assignment.values():
            sizes[cluster] = sizes.get(cluster, 0) + 1
        for node, cluster in sorted(assignment.items()):
            if sizes[cluster] > 1:
                self.clustered.inc()
                yield node, cluster


class ClusterGraph(_EventStep):
    """Edges -> (node, cluster key) by average linkage, in ONE worker (the
    graph must be whole; it holds ids and scores only, see module doc)."""

    def __init__(self, config: ec.EventConfig, merge: bool = False):
        super().__init__(config)
        self.merge = merge

    def expand(self, edges):
        return (
            edges
            | "EdgesToOneWorker" >> beam.Map(lambda e: (0, e))
            | "GatherEdges" >> beam.GroupByKey()
            | "ClusterEdges" >> beam.ParDo(ClusterEdgesFn(self.config, self.merge))
        )


class MergeClusters(_EventStep):
    """Second pass: (members, first-pass clusters, burst boost) -> (cluster,
    merged cluster) for the clusters the pass merges.

    Each cluster of at least ``merge_min_size`` articles becomes one member
    (``events_core.cluster_member``: its mean vector, median time and most
    common keys), grouped per cluster key (the article -> cluster
    assignments, ids only, arrive as a side input); the members are blocked
    and scored as articles are, and clustered by average linkage at the same
    threshold.
    """

    def expand(self, inputs):
        members, clusters, boost = inputs
        cfg = self.config
        cluster_members = (
            members
            | "KeyByCluster" >> beam.FlatMap(_by_cluster, clusters=beam.pvalue.AsDict(clusters),
                                             min_size=cfg.merge_min_size)
            | "GroupClusters" >> beam.GroupByKey()
            # a grouped value may be a lazy iterable (portable runners): a list has a length
            | "Listed" >> beam.MapTuple(lambda cluster, ms: (cluster, list(ms)))
            | "LargeEnough" >> beam.Filter(lambda kv: len(kv[1]) >= cfg.merge_min_size)
            | "ClusterVector" >> beam.MapTuple(ec.cluster_member, config=cfg)
        )
        return (
            (cluster_members, boost)
            | "ScoreClusters" >> ScoreBlocks(cfg, prefix="cluster_")
            | "ClusterClusters" >> ClusterGraph(cfg, merge=True)
        )


class AssignEventsFn(beam.DoFn):
    """(cluster key, articles of the cluster, copies included) -> articles with
    event_id, and one Event row (tagged "events")."""

    EVENTS = "events"

    def __init__(self):
        #: Events found (singletons included).
        self.events = Metrics.counter(NAMESPACE, "events")
        #: Events reported by a single canonical article.
        self.singletons = Metrics.counter(NAMESPACE, "singleton_events")

    def process(self, element, df, n_docs):
        _, members = element
        members = inherit_entities(sorted(members, key=lambda a: (a.article_id, a.source or "", a.content_hash)))
        canonicals = [a for a in members if a.duplicate_of is None]
        event_id = event_summary.event_id([(a.published_at, a.article_id) for a in canonicals or members])
        self.events.inc()
        if len(canonicals) <= 1:
            self.singletons.inc()
        for article in members:
            yield article._replace(event_id=event_id)
        yield beam.pvalue.TaggedOutput(self.EVENTS, event_summary.summarize_event(event_id, members, df, n_docs))


def event_key(article: Article, clusters: Dict[str, str],
              merged: Optional[Dict[str, str]] = None) -> Tuple[str, Article]:
    """(cluster key, article): a copy goes with its canonical article; a
    first-pass cluster the second pass merged goes with the merged one."""
    own = article.duplicate_of or article.article_id
    key = clusters.get(own, own)
    return (merged or {}).get(key, key), article


def inherit_entities(members: List[Article]) -> List[Article]:
    """Copies take the entities of their canonical article (in the same event)."""
    found = {a.article_id: a.entities for a in members if a.duplicate_of is None}
    return [a if a.duplicate_of is None else a._replace(entities=found.get(a.duplicate_of, a.entities))
            for a in members]


class ClusterEvents(beam.PTransform):
    """Articles (``duplicate_of`` set by near-duplicate detection) ->
    ``articles`` (every article with ``entities`` and ``event_id``) and
    ``events`` (one Event per event)."""

    def __init__(self, config: ec.EventConfig = ec.DEFAULT_CONFIG, model_name: Optional[str] = None):
        super().__init__()
        self.config = config
        self.model_name = model_name

    def expand(self, articles):
        cfg = self.config
        canonicals = articles | "Canonicals" >> beam.Filter(lambda a: a.duplicate_of is None)
        copies = articles | "Copies" >> beam.Filter(lambda a: a.duplicate_of is not None)
        canonicals = canonicals | "Entities" >> ExtractEntities(self.model_name, cfg.ner_max_chars)

        feats = canonicals | "RawFeatures" >> beam.Map(article_features, cfg)
        n_docs = feats | "CountDocs" >> beam.combiners.Count.Globally()
        df = (
            feats
            | "DfFeatures" >> beam.FlatMap(lambda kv: ec.df_features(kv[1][0]))
            | "CountDf" >> beam.combiners.Count.PerElement()
            | "SharedOnly" >> beam.Filter(lambda kv: kv[1] >= 2)
        )
        members = feats | "Vectorize" >> beam.Map(
            vectorize, df=beam.pvalue.AsDict(df), n_docs=beam.pvalue.AsSingleton(n_docs), config=cfg)
        boost = members | "BurstBoost" >> BurstBoost(cfg)
        edges = (members, boost) | "Score" >> ScoreBlocks(cfg)
        if cfg.expand_rounds:
            asks = edges | "BestNeighbours" >> BestNeighbours(cfg)
            for round_ in range(cfg.expand_rounds):
                members = (members, asks) | f"Expand{round_ + 1}" >> ExpandVectors(cfg)
            edges = (members, boost) | "Rescore" >> ScoreBlocks(cfg)

        clusters = edges | "Cluster" >> ClusterGraph(cfg)
        if cfg.merge_clusters:
            merged = (members, clusters, boost) | "MergeClusters" >> MergeClusters(cfg)
        else:
            merged = articles.pipeline | "NoMerges" >> beam.Create([])
        # The assignments are ids only (clustered articles, not all): small
        # enough for a side input, which saves a shuffle of whole articles.
        assigned = (
            (canonicals, copies)
            | "AllArticles" >> beam.Flatten()
            | "KeyByEvent" >> beam.Map(event_key, clusters=beam.pvalue.AsDict(clusters),
                                       merged=beam.pvalue.AsDict(merged))
            | "GroupEvents" >> beam.GroupByKey()
            | "AssignEvents" >> beam.ParDo(
                AssignEventsFn(), df=beam.pvalue.AsDict(df), n_docs=beam.pvalue.AsSingleton(n_docs)
            ).with_outputs(AssignEventsFn.EVENTS, main="articles")
        )
        return {"articles": typed(assigned.articles, Article),
                "events": typed(assigned[AssignEventsFn.EVENTS], Event)}
