"""One article -> its exact-path key and what the near-duplicate path needs of it."""
from __future__ import annotations

from typing import Tuple

from wiredesk.transforms.cleaning.tokens import words
from wiredesk.transforms.dedup.canonical import body_key, exact_key, rank_key
from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig
from wiredesk.transforms.dedup.records import ExactMember, Features
from wiredesk.transforms.dedup.shingles import shingle_hashes
from wiredesk.transforms.dedup.signatures import pack_u32, signature_from_hashes
from wiredesk.transforms.dedup.verify import distinct_sorted

__all__ = ["article_features"]


def article_features(article, config: DedupConfig = DEFAULT_CONFIG) -> Tuple[str, ExactMember]:
    """``(exact key, member)``; ``member.features`` is None for a short body.

    The signature is computed over the distinct shingle hashes (a minimum over
    a set does not depend on repeats), and the verification sketch is their
    ``sketch_size`` smallest values.
    """
    rank = rank_key(article, config)
    hv = shingle_hashes(article.body, config)
    if len(hv) == 0:
        key = exact_key(article, config, tokens=words(article.body))
        return key, ExactMember(rank, article.article_id, None)
    uniq = distinct_sorted(hv)
    sig = signature_from_hashes(uniq, config)
    sketch = uniq[:config.sketch_size] if config.sketch_size else uniq[:0]
    feats = Features(article.article_id, rank, int(len(uniq)), pack_u32(sig), pack_u32(sketch))
    return body_key(article.body), ExactMember(rank, article.article_id, feats)
