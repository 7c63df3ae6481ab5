"""Clustering over the scored edges: average linkage on the sparse graph, and
the second pass, where each first-pass cluster becomes one member.

Average linkage (a missing edge counts as 0) is what stops chaining: an
article joins a group only if it is similar, on average, to its members.
"""
from __future__ import annotations

import heapq
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.records import BlockMember, Edge
from wiredesk.transforms.events.vectors import pack_ids, sum_heaviest, unpack_vector, vector_length

__all__ = ["cluster_edges", "cut_component", "cluster_component", "median_time", "cluster_member",
           "merge_assignments"]


def cluster_edges(nodes: Iterable[str], edges: Iterable[Edge], threshold: float) -> Dict[str, str]:
    """Agglomerative clustering over a sparse similarity graph.

    Average linkage (UPGMA) where a missing edge counts as similarity 0.
    Scores above 1 (short texts' longer vectors, bursts) let strong evidence
    make up for missing pairs: one link of score s can bring in an article
    that has no edge to up to s / threshold - 1 members of the other group.
    Merges go best-first with ties broken by ids, so the result does not
    depend on the order of nodes or edges. Returns node -> smallest node id
    of its cluster.
    """
    size: Dict[str, int] = {}
    for n in nodes:
        size[n] = 1
    adj: Dict[str, Dict[str, float]] = {n: {} for n in size}
    for a, b, s in edges:
        if a == b:
            continue
        for x in (a, b):
            if x not in size:
                size[x] = 1
                adj[x] = {}
        adj[a][b] = max(adj[a].get(b, 0.0), s)
        adj[b][a] = adj[a][b]
    members: Dict[str, List[str]] = {n: [n] for n in size}

    heap = []
    for a, nb in adj.items():
        for b, s in nb.items():
            if a < b:
                link = s / (size[a] * size[b])
                if link >= threshold:
                    heap.append((-round(link, 12), a, b, 1, 1))
    heapq.heapify(heap)
    while heap:
        _, a, b, sa, sb = heapq.heappop(heap)
        if a not in adj or b not in adj or size[a] != sa or size[b] != sb:
            continue
        # merge b into a (a < b), keeping the smaller id as the cluster name
        na, nb_ = adj.pop(a), adj.pop(b)
        na.pop(b, None)
        nb_.pop(a, None)
        merged = dict(na)
        for c, s in nb_.items():
            merged[c] = merged.get(c, 0.0) + s
        size[a] = size[a] + size.pop(b)
        members[a].extend(members.pop(b))
        for c in na:
            adj[c].pop(a, None)
        for c in nb_:
            adj[c].pop(b, None)
        adj[a] = merged
        for c, s in merged.items():
            adj[c][a] = s
            link = s / (size[a] * size[c])
            if link >= threshold:
                x, y = (a, c) if a < c else (c, a)
                heapq.heappush(heap, (-round(link, 12), x, y, size[x], size[y]))
    out = {}
    for ms in members.values():
        name = min(ms)
        for m in ms:
            out[m] = name
    return out


def cut_component(nodes: Iterable[str], limit: int) -> List[List[str]]:
    """A component's nodes in parts of at most ``limit``, in id order: one
    part when it is small enough."""
    order = sorted(nodes)
    return [order[i:i + limit] for i in range(0, len(order), limit)]


def cluster_component(edges: Iterable[Edge], threshold: float, limit: int) -> Tuple[Dict[str, str], int]:
    """One component's edges -> (node -> cluster, parts it was cut into).
    Past ``limit`` nodes the component is cut (``cut_component``) and edges
    between parts are dropped, so the cost of one worker stays bounded."""
    edges = sorted(edges)
    nodes = sorted({e.lo for e in edges} | {e.hi for e in edges})
    if len(nodes) <= limit:
        return cluster_edges(nodes, edges, threshold), 1
    parts = cut_component(nodes, limit)
    part_of = {n: i for i, part in enumerate(parts) for n in part}
    out: Dict[str, str] = {}
    for i, part in enumerate(parts):
        out.update(cluster_edges(part, [e for e in edges if part_of[e.lo] == i == part_of[e.hi]], threshold))
    return out, len(parts)


def median_time(times: Iterable[Optional[float]]) -> Optional[float]:
    """Lower median of the known times (None when none is known): always one
    of the members' own times, so a cluster of bare dates keeps a bare date
    (an average of two midnights would be a precise noon)."""
    known = sorted(t for t in times if t is not None)
    if not known:
        return None
    return known[(len(known) - 1) // 2]


def cluster_member(cluster: str, members: Iterable[BlockMember],
                   config: EventConfig = DEFAULT_CONFIG) -> BlockMember:
    """One cluster of the first pass as one member of the second.

    Its vector is the unit-length mean of its members' unit vectors (the
    ``expand_top`` heaviest features), its time the lower median of their
    known times, its blocking keys the ``block_keys`` keys most common among
    its members (ties by key). Many short texts of one story are rarely alike
    pair by pair; their means, which hold the story's whole vocabulary, are.
    """
    members = sorted(members, key=lambda m: m.article_id)
    parts = [unpack_vector(m.vector) for m in members]
    cols, acc, norm = sum_heaviest([i for i, _ in parts],
                                   [w.astype(np.float64) / vector_length(w) for _, w in parts],
                                   config.expand_top)
    vector = pack_ids(cols, acc / norm)
    counts: Dict[str, int] = {}
    for m in members:
        for k in m.keys:
            counts[k] = counts.get(k, 0) + 1
    keys = sorted(counts, key=lambda k: (-counts[k], k))[: config.block_keys]
    return BlockMember(cluster, median_time(m.time for m in members), vector, keys)


def merge_assignments(first: Dict[str, str], second: Dict[str, str]) -> Dict[str, str]:
    """article -> final cluster: the second pass's cluster of the article's
    first-pass cluster. Clusters are named by their smallest article id at
    both passes, so the name is the smallest article id of the whole group."""
    return {a: second.get(c, c) for a, c in first.items()}
