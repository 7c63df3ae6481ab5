"""``cluster_articles``: every step of ``ClusterEvents`` in one process.

For tests (a test checks that it and the Beam steps group the same articles)
and for research on the algorithm without a pipeline.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from wiredesk.transforms.events.blocking import blocking_keys, group_blocks
from wiredesk.transforms.events.clustering import cluster_edges, cluster_member, merge_assignments
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.features import document_frequencies, weight_features
from wiredesk.transforms.events.records import BlockMember, Edge
from wiredesk.transforms.events.scoring import best_edges, block_edges
from wiredesk.transforms.events.timing import data_burst_boost
from wiredesk.transforms.events.vectors import expand_vector, neighbour_lists, pack_vector

__all__ = ["cluster_articles"]


def _score_blocks(blocks: Dict[str, List[BlockMember]], config: EventConfig) -> List[Edge]:
    """One edge per pair over all blocks (``steps.ScoreBlocks``)."""
    out: List[Edge] = []
    for k in sorted(blocks):
        out.extend(block_edges(k, blocks[k], config))
    return best_edges(out)


def cluster_articles(ids: Sequence[str], raws: Dict[str, Dict[str, float]],
                     times: Dict[str, Optional[float]], config: EventConfig = DEFAULT_CONFIG,
                     stats: Optional[dict] = None) -> Dict[str, str]:
    """article id -> cluster key (smallest member id), from each article's raw
    features (``features.raw_features``) and time. ``stats``, when given, is
    filled with block and edge counts."""
    df, n = document_frequencies(raws[i] for i in ids)
    df = {f: c for f, c in df.items() if c >= 2}
    vecs = {i: weight_features(raws[i], df, n, config) for i in ids}
    members = {i: BlockMember(i, times.get(i), pack_vector(vecs[i]), blocking_keys(vecs[i], df, n, config))
               for i in ids}
    blocks = group_blocks(members[i] for i in ids)
    config = config.replace(time_burst_boost=data_burst_boost(
        {i: times.get(i) for i in ids}, {k: [m.article_id for m in ms] for k, ms in blocks.items()}, config))

    edges = _score_blocks(blocks, config)
    if config.expand_rounds:
        nb = neighbour_lists(edges, config)
        for _ in range(config.expand_rounds):
            packed = {i: m.vector for i, m in members.items()}
            members = {i: m._replace(vector=expand_vector(
                packed[i], [(n.score, n.article_id, packed[n.article_id]) for n in nb.get(i, [])], config))
                for i, m in members.items()}
        blocks = group_blocks(members[i] for i in ids)
        edges = _score_blocks(blocks, config)
    if stats is not None:
        stats.update(blocks=len(blocks), max_block=max((len(m) for m in blocks.values()), default=0),
                     edges=len(edges))
    first = cluster_edges(ids, edges, config.threshold)
    if not config.merge_clusters:
        return first
    groups: Dict[str, List[BlockMember]] = {}
    for i in ids:
        groups.setdefault(first[i], []).append(members[i])
    large = [cluster_member(c, groups[c], config) for c in sorted(groups)
             if len(groups[c]) >= config.merge_min_size]
    cedges = _score_blocks(group_blocks(large), config)
    nodes = sorted({a for a, _, _ in cedges} | {b for _, b, _ in cedges})
    second = cluster_edges(nodes, cedges, config.threshold)
    if stats is not None:
        stats.update(clusters=len(large), cluster_edges=len(cedges))
    return merge_assignments(first, second)
