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
"""
from __future__ import annotations

from typing import Callable, Dict, Generic, Hashable, List, TypeVar

import apache_beam as beam

T = TypeVar("T")


def best_distinct(items: Dict[Hashable, T], limit: int, rank: Callable[[T], tuple]) -> List[T]:
    """The ``limit`` best of one item per other article, best first."""
    return sorted(items.values(), key=rank)[:limit]


class BestDistinct(beam.CombineFn, Generic[T]):
    """Items of one key -> its ``limit`` best (smallest ``rank``), at most one per ``other(item)``,
    best first (the shape of ``Top.SmallestPerKey``'s output)."""

    def __init__(self, limit: int, other: Callable[[T], Hashable], rank: Callable[[T], tuple]):
        if limit < 1:
            raise ValueError(f"limit must be 1 or more, got {limit!r}")
        self.limit = limit
        self.other = other
        self.rank = rank

    def create_accumulator(self) -> Dict[Hashable, T]:
        return {}

    def _keep(self, acc: Dict[Hashable, T], item: T) -> None:
        o = self.other(item)
        old = acc.get(o)
        if old is None or self.rank(item) < self.rank(old):
            acc[o] = item

    def _bounded(self, acc: Dict[Hashable, T]) -> Dict[Hashable, T]:
        # prune only past twice the limit, so adding stays amortized O(log limit) per item
        return acc if len(acc) <= 2 * self.limit else self.compact(acc)

    def add_input(self, acc: Dict[Hashable, T], item: T) -> Dict[Hashable, T]:
        self._keep(acc, item)
        return self._bounded(acc)

    def merge_accumulators(self, accs) -> Dict[Hashable, T]:
        merged: Dict[Hashable, T] = {}
        for acc in accs:
            for item in acc.values():
                self._keep(merged, item)
            merged = self._bounded(merged)
        return merged

    def compact(self, acc: Dict[Hashable, T]) -> Dict[Hashable, T]:
        return {self.other(i): i for i in best_distinct(acc, self.limit, self.rank)}

    def extract_output(self, acc: Dict[Hashable, T]) -> List[T]:
        return best_distinct(acc, self.limit, self.rank)
