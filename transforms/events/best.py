"""``BestDistinct``: an article's ``limit`` best items, one per other article, as one combine per key.

A pair of articles can reach an article more than once (windowed blocks score
some pairs in two blocks), so "the k best neighbours" must be k *other
articles*, each at its best score. The stage used to group every edge by its
pair first (one more shuffle of all edges) and then take the k best per
article; this combine does both in one, and Beam lifts it before the shuffle.

Exact, however the runner splits and merges accumulators: an accumulator keeps,
for each other article, its best item, and drops the ones outside its ``limit``
best. An item dropped from one accumulator is outranked there by ``limit``
items of other articles, each at most as good as that article's best overall,
so it could not be among the ``limit`` best of the whole key either; an item
that is, survives in every accumulator that holds it.

Items are ``Neighbour(other article, score)``, ranked best first by ``(-score, other)`` (``scoring.edge_rank``).
An accumulator is a plain ``{other: best score}``: the runner holds every
partial accumulator of the shuffle in memory (the FnApiRunner decoded, in its
own process), so it carries no more than the two values an item is.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import apache_beam as beam

from wiredesk.transforms.events.records import Neighbour


def _rank(kv: Tuple[str, float]) -> Tuple[float, str]:
    return -kv[1], kv[0]


def best_distinct(best: Dict[str, float], limit: int) -> List[Tuple[str, float]]:
    """The ``limit`` best (other, score) of ``{other: best score}``, best first, ties by id."""
    return sorted(best.items(), key=_rank)[:limit]


class BestDistinct(beam.CombineFn):
    """Neighbour items of one key -> its ``limit`` best, at most one per other article (at its best score),
    best first (the shape of ``Top.SmallestPerKey``'s output)."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError(f"limit must be 1 or more, got {limit!r}")
        self.limit = limit

    def create_accumulator(self) -> Dict[str, float]:
        return {}

    @staticmethod
    def _keep(acc: Dict[str, float], other: str, score: float) -> None:
        old = acc.get(other)
        if old is None or score > old:
            acc[other] = score

    def _bounded(self, acc: Dict[str, float]) -> Dict[str, float]:
        # prune only past twice the limit, so adding stays amortized O(log limit) per item
        return acc if len(acc) <= 2 * self.limit else self.compact(acc)

    def add_input(self, acc: Dict[str, float], item: Neighbour) -> Dict[str, float]:
        self._keep(acc, item[0], item[1])
        return self._bounded(acc)

    def merge_accumulators(self, accs) -> Dict[str, float]:
        merged: Dict[str, float] = {}
        for acc in accs:
            for other, score in acc.items():
                self._keep(merged, other, score)
            merged = self._bounded(merged)
        return merged

    def compact(self, acc: Dict[str, float]) -> Dict[str, float]:
        return dict(best_distinct(acc, self.limit))

    def extract_output(self, acc: Dict[str, float]) -> List[Neighbour]:
        return [Neighbour(other, score) for other, score in best_distinct(acc, self.limit)]
