"""``cluster_articles``: every step of ``ClusterEvents`` in one process.

For tests (a test checks that it and the Beam steps group the same articles)
and for research on the algorithm without a pipeline. Document frequencies
are exact here and a count-min sketch in the pipeline (``frequencies``),
which agree unless a feature's counters all collide.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from wiredesk.transforms.events.background import ReferenceSample, sample_rank
from wiredesk.transforms.events.blocking import blocking_keys, group_blocks
from wiredesk.transforms.events.clustering import cluster_component, cluster_member, merge_assignments
from wiredesk.transforms.events.components import propagate_labels, strong_edges
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.features import document_frequencies, weight_features
from wiredesk.transforms.events.records import BlockMember, Edge
from wiredesk.transforms.events.scoring import best_edges, block_edges, kept_in_block, top_edges
from wiredesk.transforms.events.timing import data_burst_boost
from wiredesk.transforms.events.vectors import expand_vector, neighbour_lists, pack_vector

__all__ = ["cluster_articles", "with_backgrounds", "cluster_graph"]


def _score_blocks(blocks: Dict[str, List[BlockMember]], config: EventConfig,
                  node_edges: Optional[int] = None, keep: Optional[int] = None) -> List[Edge]:
    """One edge per pair over all blocks, each block's cut to the ``keep`` best
    of its articles there, with ``node_edges`` only those among the best of
    either article (``steps.ScoreBlocks``)."""
    keep = keep or node_edges
    out: List[Edge] = []
    for k in sorted(blocks):
        edges = block_edges(k, blocks[k], config)
        out.extend(kept_in_block(edges, len(blocks[k]), keep))
    return top_edges(out, node_edges) if node_edges else best_edges(out)


def with_backgrounds(members: Dict[str, BlockMember], reference: ReferenceSample) -> Dict[str, BlockMember]:
    """Each member with its background against the reference sample."""
    return {i: m._replace(background=reference.background(i, m.vector)) for i, m in members.items()}


def reference_sample(members: Sequence[BlockMember], config: EventConfig) -> ReferenceSample:
    """The ``background_sample`` members of smallest ``sample_rank``."""
    chosen = sorted(members, key=lambda m: sample_rank(m.article_id))[: config.background_sample]
    return ReferenceSample(chosen)


def cluster_graph(edges: Sequence[Edge], threshold: float, config: EventConfig,
                  stats: Optional[dict] = None, prefix: str = "") -> Dict[str, str]:
    """node -> cluster for nodes on a strong edge: components by label
    propagation, each clustered with its own edges (``ClusterGraph``)."""
    labels = propagate_labels(strong_edges(edges, threshold), config.component_rounds)
    per: Dict[str, List[Edge]] = {}
    unjoined = 0
    for e in edges:
        la, lb = labels.get(e.lo), labels.get(e.hi)
        if la is not None and la == lb:
            per.setdefault(la, []).append(e)
        elif la is not None and lb is not None and e.score >= threshold:
            unjoined += 1
    out: Dict[str, str] = {}
    cut = 0
    for label in sorted(per):
        assignment, parts = cluster_component(per[label], threshold, config.max_component)
        cut += parts > 1
        out.update(assignment)
    if stats is not None:
        stats[prefix + "components"] = len(per)
        stats[prefix + "largest_component"] = max((len({x for e in es for x in e[:2]}) for es in per.values()),
                                                  default=0)
        stats[prefix + "unjoined_edges"] = unjoined
        stats[prefix + "cut_components"] = cut
    return out


def cluster_articles(ids: Sequence[str], raws: Dict[str, Dict[str, float]],
                     times: Dict[str, Optional[float]], config: EventConfig = DEFAULT_CONFIG,
                     stats: Optional[dict] = None) -> Dict[str, str]:
    """article id -> cluster key (smallest member id), from each article's raw
    features (``features.raw_features``) and time. ``stats``, when given, is
    filled with block, edge and component counts."""
    df, n = document_frequencies(raws[i] for i in ids)
    vecs = {i: weight_features(raws[i], df, n, config) for i in ids}
    members = {i: BlockMember(i, times.get(i), pack_vector(vecs[i]), blocking_keys(vecs[i], df, n, config))
               for i in ids}
    blocks = group_blocks(members[i] for i in ids)
    config = config.replace(time_burst_boost=data_burst_boost(
        {i: times.get(i) for i in ids}, {k: [m.article_id for m in ms] for k, ms in blocks.items()}, config))

    if config.expand_rounds:
        members = with_backgrounds(members, reference_sample(list(members.values()), config))
        edges = _score_blocks(group_blocks(members[i] for i in ids), config, keep=config.expand_k)
        nb = neighbour_lists(edges, config)
        for _ in range(config.expand_rounds):
            packed = {i: m.vector for i, m in members.items()}
            members = {i: m._replace(vector=expand_vector(
                packed[i], [(n.score, n.article_id, packed[n.article_id]) for n in nb.get(i, [])], config))
                for i, m in members.items()}
    reference = reference_sample(list(members.values()), config)
    members = with_backgrounds(members, reference)
    edges = _score_blocks(group_blocks(members[i] for i in ids), config, config.node_edges)
    if stats is not None:
        stats.update(blocks=len(blocks), max_block=max((len(m) for m in blocks.values()), default=0),
                     edges=len(edges))
    clusters = cluster_graph(edges, config.threshold, config, stats)
    first = {i: clusters.get(i, i) for i in ids}
    if not config.merge_clusters:
        return first
    groups: Dict[str, List[BlockMember]] = {}
    for i in ids:
        groups.setdefault(first[i], []).append(members[i])
    large = {c: cluster_member(c, groups[c], config) for c in sorted(groups)
             if len(groups[c]) >= config.merge_min_size}
    large = with_backgrounds(large, reference)
    cedges = _score_blocks(group_blocks(large[c] for c in sorted(large)), config)
    second = cluster_graph(cedges, config.merge_threshold, config, stats, prefix="cluster_")
    if stats is not None:
        stats.update(clusters=len(large), cluster_edges=len(cedges))
    return merge_assignments(first, second)
