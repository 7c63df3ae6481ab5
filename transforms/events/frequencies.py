"""Document frequencies in a fixed-size sketch: how many articles of the run
have each feature, in memory that does not grow with the data.

A count-min sketch (Cormode and Muthukrishnan, 2005): ``DEPTH`` rows of
``WIDTH`` counters; a feature adds 1 to one counter per row (chosen from its
stable 63-bit id, ``vectors.feature_id``) and its estimate is the smallest of
its counters. An estimate is never below the true count, and above it only
when the feature shares every one of its counters with others: with 2 rows of
2**21 counters and a run's few hundred thousand distinct features, about one
feature in 10**4 to 10**5 is overestimated at all, and by the count of another
feature. The sketch is 16 MB whatever the run's size; it is what every worker
receives (a side input of constant size), built by one associative combine.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Iterable, Optional

import apache_beam as beam
import numpy as np

__all__ = ["DEPTH", "WIDTH", "sketch_id", "DfSketch", "CountFrequencies", "MergeFrequencies"]

DEPTH = 2
WIDTH = 1 << 21
_MASK = WIDTH - 1


@lru_cache(maxsize=500_000)
def sketch_id(feature: str) -> int:
    """The 63-bit hash of a feature the sketch's cells come from (BLAKE2b,
    keyed, no salt: the same on every worker and run; vectors use a 32-bit
    one, too few bits for two independent rows)."""
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8, key=b"wiredesk-events-v1").digest()
    return int.from_bytes(digest, "little") >> 1


def _cells(fid):
    """The counter of each row for feature id(s) ``fid`` (independent bit
    ranges of the id; an int or an int64 array)."""
    return fid & _MASK, (fid >> 21) & _MASK


class DfSketch:
    """Document frequencies of a run (a count-min sketch) and its number of
    articles. ``get(feature, default)`` reads like a dict's, so the pure
    functions take a plain dict in tests and this in the pipeline."""

    __slots__ = ("counts", "n_docs")

    def __init__(self, counts: Optional[np.ndarray] = None, n_docs: int = 0):
        self.counts = np.zeros((DEPTH, WIDTH), dtype=np.uint32) if counts is None else counts
        self.n_docs = n_docs

    def add(self, features: Iterable[str]) -> None:
        """Count one article with these features (each distinct feature once)."""
        ids = np.fromiter((sketch_id(f) for f in set(features)), dtype=np.int64)
        if len(ids):
            for row, cells in zip(self.counts, _cells(ids)):
                np.add.at(row, cells, 1)
        self.n_docs += 1

    def merge(self, other: DfSketch) -> DfSketch:
        self.counts += other.counts
        self.n_docs += other.n_docs
        return self

    def get(self, feature: str, default: int = 0) -> int:
        a, b = _cells(sketch_id(feature))
        count = int(min(self.counts[0, a], self.counts[1, b]))
        return count if count else default

    def __getstate__(self):
        # only the counters in use travel (most are 0 in any run of news)
        nz = np.flatnonzero(self.counts)
        return nz.astype(np.int64), self.counts.ravel()[nz], self.n_docs

    def __setstate__(self, state):
        nz, values, n_docs = state
        counts = np.zeros(DEPTH * WIDTH, dtype=np.uint32)
        counts[nz] = values
        self.counts = counts.reshape(DEPTH, WIDTH)
        self.n_docs = n_docs


class CountFrequenciesFn(beam.CombineFn):
    """Feature lists (one per article) -> DfSketch."""

    def create_accumulator(self):
        return DfSketch()

    def add_input(self, sketch, features):
        sketch.add(features)
        return sketch

    def merge_accumulators(self, sketches):
        sketches = iter(sketches)
        out = next(sketches)
        for s in sketches:
            out.merge(s)
        return out

    def extract_output(self, sketch):
        return sketch


class CountFrequencies(beam.PTransform):
    """PCollection of feature lists (one per article) -> one DfSketch."""

    def expand(self, features):
        return features | "Sketch" >> beam.CombineGlobally(CountFrequenciesFn())


class MergeFrequenciesFn(CountFrequenciesFn):
    """DfSketches -> their sum (an earlier run's, ``--state``, and this run's): still one fixed-size sketch."""

    def add_input(self, sketch, other):
        return sketch.merge(other)


class MergeFrequencies(beam.PTransform):
    """PCollection of DfSketch -> one DfSketch, their sum."""

    def expand(self, sketches):
        return sketches | "Merge" >> beam.CombineGlobally(MergeFrequenciesFn())
