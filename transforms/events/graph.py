"""The graph steps of the events stage: edges -> clusters, one connected
component at a time (``ClusterGraph``), and the second pass over the
first-pass clusters (``MergeClusters``)."""
from __future__ import annotations

from typing import List, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.typehints import KV

from wiredesk.transforms.events.clustering import cluster_component, cluster_member
from wiredesk.transforms.events.components import ConnectedComponents, LabelEdges
from wiredesk.transforms.events.config import EventConfig
from wiredesk.transforms.events.records import BlockMember
from wiredesk.transforms.events.steps import NAMESPACE, EventStep, ScoreBlocks, WithBackground
from wiredesk.transforms.join import JoinByKey
from wiredesk.transforms.memory import ReleasingDoFn

__all__ = ["ClusterComponentFn", "ClusterGraph", "MergeClusters"]


class ClusterComponentFn(ReleasingDoFn):
    """(component label, its edges) -> (node, cluster key) for nodes in a
    cluster of two or more. Nodes are articles in the first pass, first-pass
    clusters in the second (``prefix`` "cluster_")."""

    def __init__(self, threshold: float, limit: int, prefix: str = ""):
        self.threshold = threshold
        self.limit = limit
        #: Connected components clustered (each in one worker).
        self.components = Metrics.counter(NAMESPACE, prefix + "components")
        #: Edges inside components (what the clustering steps hold, all workers together).
        self.edges = Metrics.counter(NAMESPACE, prefix + "component_edges")
        #: Components of more than max_component nodes, cut in id order.
        self.cut = Metrics.counter(NAMESPACE, prefix + "cut_components")
        #: Nodes that share a cluster with at least one other.
        self.clustered = Metrics.counter(NAMESPACE, prefix + "clustered_nodes")

    def process(self, element):
        _, edges = element
        edges = list(edges)
        self.components.inc()
        self.edges.inc(len(edges))
        assignment, parts = cluster_component(edges, self.threshold, self.limit)
        if parts > 1:
            self.cut.inc()
        sizes: dict = {}
        for cluster in assignment.values():
            sizes[cluster] = sizes.get(cluster, 0) + 1
        for node, cluster in sorted(assignment.items()):
            if sizes[cluster] > 1:
                self.clustered.inc()
                yield node, cluster


class ClusterGraph(EventStep):
    """Edges -> (node, cluster key) by average linkage at ``threshold``, one
    connected component of the strong edges at a time (``components``)."""

    def __init__(self, config: EventConfig, threshold: float, prefix: str = ""):
        super().__init__(config)
        self.threshold = threshold
        self.prefix = prefix

    def expand(self, edges):
        threshold = self.threshold
        labels = (
            edges
            | "Strong" >> beam.Filter(lambda e: e.score >= threshold)
            | "Components" >> ConnectedComponents(self.config.component_rounds)
        )
        return (
            (edges, labels)
            | "EdgesByComponent" >> LabelEdges(NAMESPACE, threshold, self.prefix)
            | "GatherComponents" >> beam.GroupByKey()
            | "ClusterComponent" >> beam.ParDo(ClusterComponentFn(
                threshold, self.config.max_component, self.prefix)).with_output_types(KV[str, str])
        )


def _member_by_cluster(element, min_size: int) -> List[Tuple[str, BlockMember]]:
    """(article, {"member": [m], "cluster": [c]}) -> (c, m) for clustered
    members; an unclustered one is a cluster of its own, needed only when
    ``min_size`` is 1."""
    article, joined = element
    clusters = joined["cluster"] or ([article] if min_size <= 1 else [])
    return [(c, m) for m in joined["member"] for c in clusters]


class MergeClusters(EventStep):
    """Second pass: (members, first-pass clusters, burst boost, reference
    sample) -> (cluster, merged cluster) for the clusters the pass merges.
    Each cluster of at least ``merge_min_size`` articles becomes one member
    (``clustering.cluster_member``), with its background, and the members are
    blocked, scored and clustered at ``merge_threshold``."""

    def expand(self, inputs):
        members, clusters, boost, sample = inputs
        cfg = self.config
        by_id = members | "KeyMembers" >> beam.Map(lambda m: (m.article_id, m)).with_output_types(
            KV[str, BlockMember])
        cluster_members = (
            {"member": by_id, "cluster": clusters}
            | "JoinClusters" >> JoinByKey()
            | "ByCluster" >> beam.FlatMap(_member_by_cluster, cfg.merge_min_size).with_output_types(
                KV[str, BlockMember])
            | "GroupClusters" >> beam.GroupByKey()
            # a grouped value may be a lazy iterable (portable runners): a list has a length
            | "Listed" >> beam.MapTuple(lambda cluster, ms: (cluster, list(ms)))
            | "LargeEnough" >> beam.Filter(lambda kv: len(kv[1]) >= cfg.merge_min_size)
            | "ClusterVector" >> beam.MapTuple(cluster_member, config=cfg).with_output_types(BlockMember)
        )
        cluster_members = (cluster_members, sample) | "ClusterBackground" >> WithBackground()
        return (
            (cluster_members, boost)
            | "ScoreClusters" >> ScoreBlocks(cfg, prefix="cluster_")
            | "ClusterClusters" >> ClusterGraph(cfg, cfg.merge_threshold, prefix="cluster_")
        )
