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
        counted = [
            pcoll | f"Count[{name}]" >> beam.combiners.Count.Globally()
            | f"Name[{name}]" >> beam.Map(lambda n, name=name: (name, n))
            for name, pcoll in sorted(named.items())
        ]
        base = self.base

        def write(counts):
            with FileSystems.create(FileSystems.join(base, "_counts.json")) as fh:
                fh.write(json.dumps(dict(sorted(counts)), indent=2).encode("utf-8"))
            return dict(counts)

        return (
            counted
            | "FlattenCounts" >> beam.Flatten()
            | "CollectCounts" >> beam.combiners.ToList()
            | "WriteCountsFile" >> beam.Map(write)
        )
