"""``ClusterEvents``, the events stage: canonical articles -> entities ->
features -> vectors -> scored blocks -> clusters -> events; copies inherit
their canonical article's entities and event.

The steps that score (blocks, burst boost, expansion) are in ``steps``; the
clustering steps here run in ONE worker over the edges (ids and scores
only), the one place that sees the whole graph. The algorithm and why it is
built this way: README, "Events".
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.typehints import KV

from wiredesk.schemas.records import Article, Event
from wiredesk.transforms import entities, typed  # the module: entities imports this package's pure modules
from wiredesk.transforms.cleaning.timestamps import epoch_seconds
from wiredesk.transforms.events.blocking import blocking_keys
from wiredesk.transforms.events.clustering import cluster_edges, cluster_member
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.features import df_features, raw_features, weight_features
from wiredesk.transforms.events.records import ArticleFeatures, BlockMember, Edge
from wiredesk.transforms.events.steps import (
    NAMESPACE,
    BestNeighbours,
    BurstBoost,
    EventStep,
    ExpandVectors,
    ScoreBlocks,
)
from wiredesk.transforms.events.summary import event_id, summarize_event
from wiredesk.transforms.events.vectors import pack_vector

__all__ = ["ClusterEvents", "ClusterGraph", "MergeClusters", "article_features", "vectorize", "event_key",
           "inherit_entities"]


def article_features(article: Article, config: EventConfig) -> ArticleFeatures:
    """A canonical article's raw features and time."""
    raw = raw_features(article.headline, article.body, article.entities or [], config)
    return ArticleFeatures(article.article_id, epoch_seconds(article.published_at), raw)


def vectorize(feats: ArticleFeatures, df: Dict[str, int], n_docs: int, config: EventConfig) -> BlockMember:
    """Raw features -> BlockMember: packed tf-idf vector and blocking keys."""
    vec = weight_features(feats.features, df, n_docs, config)
    keys = blocking_keys(vec, df, n_docs, config)
    return BlockMember(feats.article_id, feats.time, pack_vector(vec), keys)


# -- clustering --------------------------------------------------------------

class ClusterEdgesFn(beam.DoFn):
    """All edges (one key) -> (node, cluster key) for nodes in a cluster of two
    or more. Nodes are articles in the first pass, first-pass clusters in the
    second (``merge=True``)."""

    def __init__(self, config: EventConfig, merge: bool = False):
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
        nodes = sorted({e.lo for e in edges} | {e.hi for e in edges})
        assignment = cluster_edges(nodes, edges, self.config.threshold)
        sizes: Dict[str, int] = {}
        for cluster in assignment.values():
            sizes[cluster] = sizes.get(cluster, 0) + 1
        for node, cluster in sorted(assignment.items()):
            if sizes[cluster] > 1:
                self.clustered.inc()
                yield node, cluster


class ClusterGraph(EventStep):
    """Edges -> (node, cluster key) by average linkage, in ONE worker: the
    graph must be whole, and it holds ids and scores only."""

    def __init__(self, config: EventConfig, merge: bool = False):
        super().__init__(config)
        self.merge = merge

    def expand(self, edges):
        return (
            edges
            | "EdgesToOneWorker" >> beam.Map(lambda e: (0, e)).with_output_types(KV[int, Edge])
            | "GatherEdges" >> beam.GroupByKey()
            | "ClusterEdges" >> beam.ParDo(ClusterEdgesFn(self.config, self.merge)).with_output_types(KV[str, str])
        )


def _by_cluster(member: BlockMember, clusters: Dict[str, str], min_size: int):
    """member -> (its first-pass cluster, member). Only clustered articles are
    in ``clusters``; the rest are clusters of one, needed only when
    ``min_size`` is 1."""
    cluster: Optional[str] = clusters.get(member.article_id)
    if cluster is not None or min_size <= 1:
        yield cluster or member.article_id, member


class MergeClusters(EventStep):
    """Second pass: (members, first-pass clusters, burst boost) -> (cluster,
    merged cluster) for the clusters the pass merges. Each cluster of at least
    ``merge_min_size`` articles becomes one member (``clustering.cluster_member``),
    and the members are blocked, scored and clustered as articles are."""

    def expand(self, inputs):
        members, clusters, boost = inputs
        cfg = self.config
        cluster_members = (
            members
            | "KeyByCluster" >> beam.FlatMap(_by_cluster, clusters=beam.pvalue.AsDict(clusters),
                                             min_size=cfg.merge_min_size).with_output_types(KV[str, BlockMember])
            | "GroupClusters" >> beam.GroupByKey()
            # a grouped value may be a lazy iterable (portable runners): a list has a length
            | "Listed" >> beam.MapTuple(lambda cluster, ms: (cluster, list(ms)))
            | "LargeEnough" >> beam.Filter(lambda kv: len(kv[1]) >= cfg.merge_min_size)
            | "ClusterVector" >> beam.MapTuple(cluster_member, config=cfg).with_output_types(BlockMember)
        )
        return (
            (cluster_members, boost)
            | "ScoreClusters" >> ScoreBlocks(cfg, prefix="cluster_")
            | "ClusterClusters" >> ClusterGraph(cfg, merge=True)
        )


# -- events --------------------------------------------------------------------

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
        eid = event_id([(a.published_at, a.article_id) for a in canonicals or members])
        self.events.inc()
        if len(canonicals) <= 1:
            self.singletons.inc()
        for article in members:
            yield article._replace(event_id=eid)
        yield beam.pvalue.TaggedOutput(self.EVENTS, summarize_event(eid, members, df, n_docs))


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

    def __init__(self, config: EventConfig = DEFAULT_CONFIG, model_name: Optional[str] = None):
        super().__init__()
        self.config = config
        self.model_name = model_name

    def expand(self, articles):
        cfg = self.config
        canonicals = articles | "Canonicals" >> beam.Filter(lambda a: a.duplicate_of is None)
        copies = articles | "Copies" >> beam.Filter(lambda a: a.duplicate_of is not None)
        canonicals = canonicals | "Entities" >> entities.ExtractEntities(self.model_name, cfg.ner_max_chars)

        feats = canonicals | "RawFeatures" >> beam.Map(article_features, cfg).with_output_types(ArticleFeatures)
        n_docs = feats | "CountDocs" >> beam.combiners.Count.Globally()
        df = (
            feats
            | "DfFeatures" >> beam.FlatMap(lambda f: df_features(f.features)).with_output_types(str)
            | "CountDf" >> beam.combiners.Count.PerElement()
            | "SharedOnly" >> beam.Filter(lambda kv: kv[1] >= 2)
        )
        members = feats | "Vectorize" >> beam.Map(
            vectorize, df=beam.pvalue.AsDict(df), n_docs=beam.pvalue.AsSingleton(n_docs), config=cfg
        ).with_output_types(BlockMember)
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
            merged = articles.pipeline | "NoMerges" >> beam.Create([]).with_output_types(KV[str, str])
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
