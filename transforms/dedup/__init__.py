"""Exact and near-duplicate detection (MinHash + LSH, datasketch compatible).

One module per concern: ``config`` (the shared DedupConfig), ``records``
(typed records between steps), ``shingles``, ``signatures``, ``lsh``,
``verify``, ``canonical``, ``features`` and the Beam steps in ``transforms``.
Design and parameter choices: ``docs/dedup.md``.
"""
from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig
from wiredesk.transforms.dedup.transforms import NearDuplicates

__all__ = ["NearDuplicates", "DedupConfig", "DEFAULT_CONFIG"]
