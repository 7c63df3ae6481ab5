"""``BASE/_counts.json``: the size of each named collection, read by the runner for the manifest."""
from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems


class WriteCounts(beam.PTransform):
    """{name: PCollection} -> ``BASE/_counts.json`` with each collection's size."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def expand(self, named):
        # One keyed combine for all collections (one shuffle, a few transforms), not a global count each:
        # a collection with no elements has no key, so the names are filled in with 0 when written.
        names = sorted(named)
        keyed = [
            named[name] | f"Key[{name}]" >> beam.Map(lambda _, name=name: (name, 1))
            for name in names
        ]
        base = self.base

        def write(counts):
            found = dict(counts)
            full = {name: found.get(name, 0) for name in names}
            with FileSystems.create(FileSystems.join(base, "_counts.json")) as fh:
                fh.write(json.dumps(full, indent=2).encode("utf-8"))
            return full

        return (
            keyed
            | "FlattenCounts" >> beam.Flatten()
            | "CountPerName" >> beam.CombinePerKey(sum)
            | "CollectCounts" >> beam.combiners.ToList()
            | "WriteCountsFile" >> beam.Map(write)
        )
