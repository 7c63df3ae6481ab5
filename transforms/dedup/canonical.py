"""Which copy is canonical: the rank order, exact-path keys, groups without chaining.

The rank (:func:`rank_key`) is a total order, so every decision is
deterministic whatever order the input arrives in: earliest ``published_at``
(missing last), then the longest body, then ``source_priority``, then the
smallest ``article_id``.
"""
from __future__ import annotations

import hashlib
import unicodedata
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from wiredesk.transforms.cleaning.timestamps import epoch_micros
from wiredesk.transforms.cleaning.tokens import words
from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig
from wiredesk.transforms.dedup.records import Assignment, Edge, Rank
from wiredesk.transforms.dedup.shingles import ENCODING

__all__ = ["rank_key", "body_key", "exact_key", "resolve_groups"]


def _epoch_us(ts: str) -> Optional[int]:
    try:
        return epoch_micros(ts)
    except ValueError:
        return None


def rank_key(article, config: DedupConfig = DEFAULT_CONFIG) -> Rank:
    """The article's place in the canonical order: smaller is better.

    An unparseable ``published_at`` sorts after every parseable one and before
    a missing one, by its text, so a bad timestamp never wins nor crashes.
    """
    ts = article.published_at
    us = _epoch_us(ts) if ts else None
    if ts is None:
        undated, epoch_us, text = 2, 0, ""
    elif us is None:
        undated, epoch_us, text = 1, 0, str(ts)
    else:
        undated, epoch_us, text = 0, us, ""
    prio = config.source_priority
    try:
        src = prio.index(article.source)
    except ValueError:
        src = len(prio)
    return Rank(undated, epoch_us, text, -len(article.body or ""), src, article.article_id)


def body_key(body: str) -> str:
    """Exact-path key of a shingled body: BLAKE2b of the normalized body in NFKC (as ``content_hash``), so
    copies that differ only in compatibility characters (ligatures, full-width forms) stay exact copies."""
    return "b:" + hashlib.blake2b(unicodedata.normalize("NFKC", body).encode(*ENCODING), digest_size=16).hexdigest()


def exact_key(article, config: DedupConfig = DEFAULT_CONFIG, tokens: Optional[List[str]] = None) -> str:
    """Key of the exact-duplicate path.

    Long bodies: :func:`body_key`. Short bodies (fewer than ``shingle_size``
    words, e.g. headline-only records): BLAKE2b of the headline's and body's
    words, or the article's own id when both are empty, so short articles
    never share one bucket.
    """
    body = article.body or ""
    if tokens is None:
        tokens = words(body)
    if len(tokens) >= config.shingle_size:
        return body_key(body)
    head = words(article.headline)
    if not head and not tokens:
        return "i:" + article.article_id
    text = " ".join(head) + "\n" + " ".join(tokens)
    return "s:" + hashlib.blake2b(text.encode(*ENCODING), digest_size=16).hexdigest()


def resolve_groups(edges: Iterable[Edge]) -> Iterator[Tuple[str, Assignment]]:
    """Verified edges -> ``(copy_id, Assignment)``, groups without chaining.

    Articles are visited in rank order; one becomes a copy of the best-ranked
    *canonical* it has a verified edge to, else it is a canonical itself. So
    A~B, B~C, A!~C leaves C out of A's group. Deterministic for any edge order.
    """
    rank: Dict[str, Rank] = {}
    adj: Dict[str, list] = {}
    for e in edges:
        rank[e.better_id], rank[e.worse_id] = e.better_rank, e.worse_rank
        adj.setdefault(e.worse_id, []).append((e.better_rank, e.better_id, e))
        adj.setdefault(e.better_id, []).append((e.worse_rank, e.worse_id, e))
    canonical = set()
    for x in sorted(rank, key=lambda i: (rank[i], i)):
        best = None
        for ry, y, e in adj.get(x, ()):
            if y in canonical and (ry, y) < (rank[x], x):
                if best is None or (ry, y) < best[:2]:
                    best = (ry, y, e)
        if best is None:
            canonical.add(x)
        else:
            e = best[2]
            yield x, Assignment(best[1], e.kind, e.jaccard, e.containment)
