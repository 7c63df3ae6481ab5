"""Publication times in similarity: the time factor of a pair, and the burst
boost a run's own times support.

Coverage of one story comes in bursts: articles minutes apart score up to
(1 + boost) times their content similarity, where the boost is measured on the
run (``burst_boost``), so times that say nothing about stories give none.
"""
from __future__ import annotations

import math
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig

__all__ = ["DAY_SECONDS", "is_precise", "burst_seconds", "horizon_days", "time_factor", "time_factors", "time_bin",
           "close_pairs", "burst_boost", "data_burst_boost"]

DAY_SECONDS = 86400.0


def is_precise(t: Optional[float]) -> bool:
    """A time of day, not a bare date (a date parses to midnight UTC)."""
    return t is not None and t % DAY_SECONDS != 0.0


def burst_seconds(config: EventConfig = DEFAULT_CONFIG) -> float:
    """The burst time scale in seconds."""
    return 60.0 * config.time_burst_minutes


def horizon_days(config: EventConfig = DEFAULT_CONFIG) -> float:
    """Publication gap past which a pair cannot reach ``edge_min`` (its
    content score is at most 1): pairs further apart are never compared."""
    return config.time_grace_days + config.time_scale_days * math.log(1.0 / config.edge_min)


def time_factor(ta: Optional[float], tb: Optional[float],
                config: EventConfig = DEFAULT_CONFIG) -> float:
    """How much the publication gap changes a pair's similarity: 1 when
    either time is unknown or the gap is within the grace; beyond it
    exp(-(days - grace) / time_scale_days), 0 past the horizon; times
    (1 + boost * exp(-gap / burst)) when both times are precise (not a bare
    date), for articles of one burst of coverage."""
    if ta is None or tb is None:
        return 1.0
    gap = abs(ta - tb)
    days = gap / DAY_SECONDS
    if days > horizon_days(config):
        return 0.0
    f = math.exp(-max(0.0, days - config.time_grace_days) / config.time_scale_days)
    if config.time_burst_boost > 0 and is_precise(ta) and is_precise(tb):
        f *= 1.0 + config.time_burst_boost * math.exp(-gap / burst_seconds(config))
    return f


def time_factors(ta: np.ndarray, tb: np.ndarray, config: EventConfig = DEFAULT_CONFIG) -> np.ndarray:
    """``time_factor`` over arrays of times (NaN = unknown)."""
    gap = np.abs(ta - tb)
    days = gap / DAY_SECONDS
    known = ~np.isnan(days)
    d = np.where(known, np.maximum(0.0, days - config.time_grace_days), 0.0)
    out = np.exp(-d / config.time_scale_days)
    if config.time_burst_boost > 0:
        # is_precise over arrays (fmod of NaN is NaN, and ``known`` drops it)
        precise = known & (np.fmod(ta, DAY_SECONDS) != 0.0) & (np.fmod(tb, DAY_SECONDS) != 0.0)
        burst = np.exp(-np.where(precise, gap, np.inf) / burst_seconds(config))
        out = out * (1.0 + config.time_burst_boost * burst)
    out[known & (days > horizon_days(config))] = 0.0
    return out


def time_bin(t: Optional[float], config: EventConfig = DEFAULT_CONFIG) -> Optional[int]:
    """The burst-scale bin of a precise time (None for no time or a bare date)."""
    if not is_precise(t):
        return None
    return int(math.floor(t / burst_seconds(config)))


def close_pairs(bin_counts: Iterable[int]) -> Tuple[int, int]:
    """(pairs in one bin, all pairs) among articles counted per time bin."""
    counts = list(bin_counts)
    n = sum(counts)
    return sum(c * (c - 1) // 2 for c in counts), n * (n - 1) // 2


def burst_boost(key_close: int, key_pairs: int, all_close: int, all_pairs: int,
                config: EventConfig = DEFAULT_CONFIG) -> float:
    """The burst boost the data supports, at most ``time_burst_boost``.

    The lift is how much likelier two articles that share a blocking key are
    to fall in one burst-scale bin than any two articles with a precise time
    (the first counts summed over blocks, the second over all articles); the
    boost is ``lift - 1`` (a likelihood ratio: about 0 when times say nothing
    about stories), rounded to 1e-6.
    """
    if config.time_burst_boost <= 0 or key_pairs <= 0 or all_pairs <= 0 or all_close <= 0 or key_close <= 0:
        return 0.0
    lift = (key_close / key_pairs) / (all_close / all_pairs)
    return round(min(config.time_burst_boost, max(0.0, lift - 1.0)), 6)


def data_burst_boost(times: Dict[str, Optional[float]], blocks: Dict[str, List[str]],
                     config: EventConfig = DEFAULT_CONFIG) -> float:
    """``burst_boost`` from article times and blocks (key -> article ids), in
    one process (what ``steps.BurstBoost`` computes over Beam keys)."""
    def bin_counts(ids):
        counts: Dict[int, int] = {}
        for i in ids:
            b = time_bin(times.get(i), config)
            if b is not None:
                counts[b] = counts.get(b, 0) + 1
        return counts.values()

    key_close = key_pairs = 0
    for k in sorted(blocks):
        c, p = close_pairs(bin_counts(blocks[k]))
        key_close += c
        key_pairs += p
    all_close, all_pairs = close_pairs(bin_counts(sorted(times)))
    return burst_boost(key_close, key_pairs, all_close, all_pairs, config)
