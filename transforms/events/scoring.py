"""Scoring inside one block: the candidate pairs of a block, each with its
score (the similarity of the packed vectors above the pair's background,
``background.above_background``, times the time factor).

Small blocks are scored pair by pair; larger ones as sparse matrix products in
a sorted (time, id) window, so a block of m articles costs at most
m * block_window pairs however common its key.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from wiredesk.transforms.events.background import above_background, above_backgrounds
from wiredesk.transforms.events.blocking import block_order, key_id, key_id_set
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.records import BlockMember, Edge
from wiredesk.transforms.events.timing import time_factor, time_factors
from wiredesk.transforms.events.vectors import sparse_matrix, unpack_half_vector, unpack_vector

__all__ = ["SMALL_BLOCK", "block_edges", "best_edges", "make_edge", "edge_rank", "top_edges", "kept_in_block"]

#: Blocks up to this size are scored pair by pair (numpy on the two packed
#: vectors); larger ones as one sparse matrix product per slice of rows.
SMALL_BLOCK = 12


def make_edge(a: str, b: str, sim: float) -> Edge:
    """The edge of a pair, ids in order, score rounded to 1e-6 (so that it
    does not depend on the order of floating-point sums). Not capped at 1: a
    short text's vector is longer than unit and a burst multiplies a score."""
    sim = round(sim, 6)
    return Edge(a, b, sim) if a < b else Edge(b, a, sim)


def _arrays(member) -> Tuple[np.ndarray, np.ndarray]:
    """(ids, weights) of a block entry (float16 weights, ``blocking.block_entry``) or of a member."""
    if getattr(member, "key_ids", None) is not None:
        return unpack_half_vector(member.vector)
    return unpack_vector(member.vector)


def _scored_here(kid: int, akeys: set, bkeys: set) -> bool:
    """True when ``kid`` is the smallest blocking-key id two articles share:
    the one block of all-pairs scoring where their pair is scored."""
    return min(akeys & bkeys, default=kid) == kid


def block_edges(key: str, members: Iterable[BlockMember],
                config: EventConfig = DEFAULT_CONFIG) -> List[Edge]:
    """Scored candidate pairs of one block, those scoring at least ``edge_min``.

    Each member is paired with the next ``block_window`` members in (time, id)
    order, and never across more than ``timing.horizon_days``. In a block small
    enough to pair everyone, a pair is scored only if ``key`` is the first
    blocking key the two articles share, so pairs sharing several small
    blocks are scored once (pairs from windowed blocks may repeat;
    ``best_edges`` keeps one). "First" is by key id (``blocking.key_id``);
    members are BlockEntry (what a block holds) or BlockMember.
    """
    order = block_order(members)
    m = len(order)
    if m < 2:
        return []
    kid = key_id(key)
    keysets = [key_id_set(o) for o in order]
    if m <= min(SMALL_BLOCK, config.block_window + 1):
        return _small_block_edges(kid, order, keysets, config)
    window = config.block_window
    full = m <= window + 1
    X = sparse_matrix([_arrays(o) for o in order])
    times = np.array([np.nan if o.time is None else o.time for o in order], dtype=np.float64)
    bgs = np.array([o.background for o in order], dtype=np.float64)
    out: List[Edge] = []
    step = max(1, 2048 // max(1, window))
    for start in range(0, m, step):
        stop = min(m, start + step)
        hi = min(m, stop + window)
        sims = (X[start:stop] @ X[start:hi].T).toarray()
        for r in range(stop - start):
            i = start + r
            j0, j1 = i + 1, min(m, i + 1 + window)
            if j0 >= j1:
                continue
            s = above_backgrounds(sims[r, j0 - start:j1 - start], bgs[i], bgs[j0:j1])
            s = s * time_factors(np.full(j1 - j0, times[i]), times[j0:j1], config)
            hits = np.nonzero((s >= config.edge_min) & (s > 0.0))[0].tolist()
            if not hits:
                continue
            a = order[i]
            for h in hits:
                b = order[j0 + h]
                if full and not _scored_here(kid, keysets[i], keysets[j0 + h]):
                    continue
                out.append(make_edge(a.article_id, b.article_id, float(s[h])))
    return out


def _small_block_edges(kid: int, order: list, keysets: List[set], config: EventConfig) -> List[Edge]:
    """All pairs of a small block, each scored only in the block of the first
    key its two articles share (the same edges as the matrix path)."""
    out: List[Edge] = []
    vecs: List[Optional[Tuple[np.ndarray, np.ndarray]]] = [None] * len(order)
    for i, a in enumerate(order):
        for j in range(i + 1, len(order)):
            b = order[j]
            if not _scored_here(kid, keysets[i], keysets[j]):
                continue
            f = time_factor(a.time, b.time, config)
            if f == 0.0:
                continue
            if vecs[i] is None:
                vecs[i] = _arrays(a)
            if vecs[j] is None:
                vecs[j] = _arrays(b)
            (ia, wa), (ib, wb) = vecs[i], vecs[j]
            _, xa, xb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
            s = above_background(float(np.dot(wa[xa].astype(np.float64), wb[xb].astype(np.float64))),
                                 a.background, b.background) * f
            if s >= config.edge_min and s > 0.0:
                out.append(make_edge(a.article_id, b.article_id, s))
    return out


def best_edges(edges: Iterable[Edge]) -> List[Edge]:
    """One edge per pair (the highest score), sorted."""
    best: Dict[Tuple[str, str], float] = {}
    for a, b, s in edges:
        if s > best.get((a, b), -1.0):
            best[(a, b)] = s
    return sorted(Edge(a, b, s) for (a, b), s in best.items())


def edge_rank(edge: Edge, node: str) -> Tuple[float, str]:
    """The order in which ``node`` keeps its edges: best score first, then the
    other article's id (as ``steps.BestNeighbours`` ranks neighbours)."""
    return -edge.score, edge.hi if edge.lo == node else edge.lo


def top_edges(edges: Iterable[Edge], k: int) -> List[Edge]:
    """The edges among ``edges`` that are among the ``k`` best (``edge_rank``) of
    either of their two articles, once each, sorted: at most ``k`` edges per
    article are chosen, so a dense run's graph stays linear in its articles
    (``steps.ScoreBlocks``). Repeats of a pair (windowed blocks) are merged
    first (``best_edges``), so each of the ``k`` is another article.

    Applied to one block's edges it keeps every edge it keeps on all blocks'
    edges together (an article's edges in a block are some of its edges, ranked
    the same), which is why a block can cut its output first."""
    per: Dict[str, List[Edge]] = {}
    for e in best_edges(edges):
        per.setdefault(e.lo, []).append(e)
        per.setdefault(e.hi, []).append(e)
    kept = set()
    for node, node_edges in per.items():
        kept.update(sorted(node_edges, key=lambda e: edge_rank(e, node))[:k])
    return sorted(kept)


def kept_in_block(edges: List[Edge], block_size: int, keep: Optional[int]) -> List[Edge]:
    """The edges of one block a consumer of each article's ``keep`` best can use: ``top_edges(edges, keep)``
    when an article could have more than ``keep`` edges in this block (``block_size - 1 > keep``), else all of
    them (no cut: nothing to drop)."""
    return top_edges(edges, keep) if keep and block_size - 1 > keep else edges
