"""Background similarity: how alike an article is to the run's articles in
general, measured on the run, and a pair's score above it.

News of one kind shares vocabulary: two reports of different shootings, two
rate decisions, two speeches of one campaign are more alike than two random
stories, and how much more depends on the feed. Each article's background is
its mean similarity to a reference sample of the run (``background_sample``
articles, chosen by a hash of their ids: the same sample in any order and on
any split of the work, and a side input of constant size). A pair's score is
what its similarity has above the pair's background, as a share of what it
could have: ``max(0, (s - b) / (1 - b))`` with b the mean of the two
backgrounds. A threshold on that score means the same on a feed of one topic
as on a general one. A run too small to have a background (fewer than
``MIN_SAMPLE`` reference articles) is scored on its similarities alone.
"""
from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from wiredesk.transforms.events.records import BlockMember
from wiredesk.transforms.events.vectors import ID_DTYPE, unpack_vector

__all__ = ["MIN_SAMPLE", "sample_rank", "ReferenceSample", "above_background", "above_backgrounds"]

#: Fewer reference articles than this say nothing about a run's background
#: (a run of a handful of stories may all be one event): the background is 0.
MIN_SAMPLE = 30


def sample_rank(article_id: str) -> bytes:
    """Members with the smallest ranks form the reference sample."""
    return hashlib.blake2b(article_id.encode("utf-8"), digest_size=8, person=b"wd-sample").digest()


class ReferenceSample:
    """The reference vectors as one sparse matrix (columns: their features),
    and the background of any article against them (itself left out when it
    is in the sample)."""

    def __init__(self, members: Sequence[BlockMember]):
        from scipy import sparse

        members = sorted(members, key=lambda m: m.article_id)
        self.ids = [m.article_id for m in members]
        self.position = {a: i for i, a in enumerate(self.ids)}
        parts = [unpack_vector(m.vector) for m in members]
        ids = np.concatenate([i for i, _ in parts]) if parts else np.zeros(0, dtype=ID_DTYPE)
        self.columns, inverse = np.unique(ids, return_inverse=True)
        rows = np.repeat(np.arange(len(parts)), [len(i) for i, _ in parts])
        weights = np.concatenate([w for _, w in parts]).astype(np.float64) if parts else np.zeros(0)
        self.matrix = sparse.csc_matrix((weights, (rows, inverse)), shape=(len(parts), len(self.columns)))

    def similarities(self, vector: bytes) -> np.ndarray:
        """Similarity of ``vector`` to each reference member (ids order)."""
        ids, weights = unpack_vector(vector)
        if not len(self.ids) or not len(ids):
            return np.zeros(len(self.ids))
        pos = np.searchsorted(self.columns, ids)
        pos = np.minimum(pos, len(self.columns) - 1)
        hit = self.columns[pos] == ids
        if not hit.any():
            return np.zeros(len(self.ids))
        return self.matrix[:, pos[hit]] @ weights[hit].astype(np.float64)

    def background(self, article_id: str, vector: bytes) -> float:
        """Mean similarity of ``vector`` to the sample's other members,
        rounded to 1e-6 (the same on every worker)."""
        sims = self.similarities(vector)
        total, n = float(np.sum(sims)), len(self.ids)
        own = self.position.get(article_id)
        if own is not None:
            total, n = total - float(sims[own]), n - 1
        return round(total / n, 6) if n >= MIN_SAMPLE else 0.0


def above_background(sim: float, a: float, b: float) -> float:
    """A pair's similarity above its background (the mean of the two
    articles' backgrounds), as a share of what it could have, at least 0."""
    bg = 0.5 * (a + b)
    if bg >= 1.0:
        return 0.0
    return max(0.0, (sim - bg) / (1.0 - bg))


def above_backgrounds(sims: np.ndarray, a: float, b: np.ndarray) -> np.ndarray:
    """``above_background`` of one article against many."""
    bg = np.minimum(0.5 * (a + b), 1.0 - 1e-9)
    return np.maximum(0.0, (sims - bg) / (1.0 - bg))
