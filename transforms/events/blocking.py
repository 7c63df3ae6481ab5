"""Blocking: which articles are compared at all.

Each article goes to the blocks of its highest-weighted shared features (its
blocking keys); pairs are scored only inside a block (``scoring``), so the
work never grows with the square of the number of articles.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Dict, Iterable, List, Set, Union

import numpy as np

from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.records import BlockEntry, BlockMember
from wiredesk.transforms.events.vectors import half_vector

__all__ = ["max_block_df", "ranked_features", "keys_from_candidates", "blocking_keys", "block_order", "group_blocks",
           "key_id", "pack_keys", "key_id_set", "block_entry"]


def max_block_df(n_docs: int, config: EventConfig = DEFAULT_CONFIG) -> int:
    """Features in more articles than this are too common to block on:
    ``block_max_df`` of the articles (at least ``block_min_max_df``), never
    more than ``block_max_df_abs``. Blocks below the cap can still be large;
    ``scoring.block_edges`` bounds their cost with its window."""
    return min(config.block_max_df_abs, max(config.block_min_max_df, int(config.block_max_df * n_docs)))


def ranked_features(vec: Dict[str, float]) -> List[str]:
    """The vector's features that may be blocking keys (not headline terms),
    highest-weighted first, ties by feature."""
    return [f for _, f in sorted((-w, f) for f, w in vec.items() if not f.startswith("h:"))]


def keys_from_candidates(candidates: Iterable[str], df, n_docs: int,
                         config: EventConfig = DEFAULT_CONFIG) -> List[str]:
    """The first ``block_keys`` candidates that are shared (df >= 2) and not
    common (df <= max_block_df). ``df``: a dict or the run's sketch."""
    hi = max_block_df(n_docs, config)
    return [f for f in candidates if 2 <= df.get(f, 0) <= hi][: config.block_keys]


def blocking_keys(vec: Dict[str, float], df, n_docs: int,
                  config: EventConfig = DEFAULT_CONFIG) -> List[str]:
    """The article's blocking keys: its highest-weighted features that are
    shared and not common (``keys_from_candidates`` of ``ranked_features``)."""
    return keys_from_candidates(ranked_features(vec), df, n_docs, config)


@lru_cache(maxsize=200_000)
def key_id(key: str) -> int:
    """Stable 32-bit id of a blocking key (BLAKE2b, keyed): what a block entry
    carries of its keys. Two keys of one id only make one pair's scoring block
    another of the blocks it shares."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=4, key=b"wiredesk-blocks").digest(),
                          "little")


def pack_keys(keys: Iterable[str]) -> bytes:
    """Keys -> their sorted distinct ids, 4 bytes each."""
    return np.unique(np.fromiter((key_id(k) for k in keys), dtype=np.int64)).astype("<u4").tobytes()


def key_id_set(member: Union[BlockMember, BlockEntry]) -> Set[int]:
    """The ids of a member's or entry's blocking keys (by field, not by
    class: a runner may decode a BlockEntry as another class of its schema)."""
    packed = getattr(member, "key_ids", None)
    if packed is not None:
        return set(np.frombuffer(packed, dtype="<u4").tolist())
    return {key_id(k) for k in member.keys}


def block_entry(member: BlockMember) -> BlockEntry:
    """What each of a member's blocks holds of it: its vector with float16 weights (``vectors.half_vector``)."""
    return BlockEntry(member.article_id, member.time, half_vector(member.vector), pack_keys(member.keys),
                      member.background)


def block_order(members: Iterable[BlockMember]) -> List[BlockMember]:
    """Members sorted by (time, id), undated last: the sorted neighbourhood."""
    return sorted(members, key=lambda m: (m.time is None, m.time or 0.0, m.article_id))


def group_blocks(members: Iterable[BlockMember]) -> Dict[str, List[BlockEntry]]:
    """block key -> its members' entries, in one process (``steps.ScoreBlocks``
    groups them by key)."""
    blocks: Dict[str, List[BlockEntry]] = {}
    for m in members:
        entry = block_entry(m)
        for k in m.keys:
            blocks.setdefault(k, []).append(entry)
    return blocks
