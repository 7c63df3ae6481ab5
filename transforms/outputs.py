"""``ParDoOutputs``: a DoFn with tagged outputs, as one single-output ParDo and one typed pick per output.

``beam.ParDo(fn).with_outputs(...)`` is Beam's way, but Beam 2.77's Dask runner hands every output of such a
ParDo to the consumers of each of them (its ParDo collects main and tagged outputs into one Dask bag, and a
consumer of ``out[TAG]`` reads that bag): the rejects table would get the records, and a join downstream
fails on the wrong records (``takes 2 positional arguments but 5 were given``). Here the DoFn runs unchanged
inside a wrapper whose single output carries every element in a typed tuple ``(index, slot_0, ..., slot_n)``
(only ``slot_index`` set, each slot ``Optional[T_i]``, so RowCoder records stay schema-encoded), and one
``FlatMap`` per output picks its own. On every runner the result equals ``with_outputs``; runners that fuse
(Beam's Python runners, Dataflow, Flink) run the picks in the same stage, so nothing extra is shuffled.

Side inputs are passed as to ``beam.ParDo``: ``ParDoOutputs(fn, types, beam.pvalue.AsSingleton(n), df=AsDict(d))``.
Limits: the wrapped DoFn's ``process`` takes no DoFn parameters (``TimestampParam``, ``WindowParam``, ...), and
its ``finish_bundle`` must not output: wiredesk's DoFns with outputs do neither.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Tuple

import apache_beam as beam
from apache_beam import typehints

__all__ = ["ParDoOutputs"]


class _Tagged(beam.DoFn):
    """Runs ``fn``; every output -> (index of its output, its slots)."""

    def __init__(self, fn: beam.DoFn, index: Mapping[str, int], main: str):
        self.fn = fn
        self.index = dict(index)
        self.main = main

    def setup(self):
        self.fn.setup()

    def start_bundle(self):
        self.fn.start_bundle()

    def process(self, element, *args, **kwargs):
        width = len(self.index)
        for out in self.fn.process(element, *args, **kwargs) or ():
            if isinstance(out, beam.pvalue.TaggedOutput):
                index, value = self.index[out.tag], out.value
            else:
                index, value = self.index[self.main], out
            slots = [None] * width
            slots[index] = value
            yield (index, *slots)

    def finish_bundle(self):
        if self.fn.finish_bundle():
            raise ValueError(f"ParDoOutputs: {type(self.fn).__name__}.finish_bundle may not output")

    def teardown(self):
        self.fn.teardown()


def _pick(tagged: Tuple, index: int) -> Iterable[Any]:
    if tagged[0] == index:
        yield tagged[1 + index]


class ParDoOutputs(beam.PTransform):
    """``pcoll | ParDoOutputs(fn, {"articles": Article, REJECTS: Reject})`` -> ``{"articles": PCollection[Article],
    REJECTS: PCollection[Reject]}``: the first name is the main output (what ``fn`` yields untagged), the others
    the tags of its ``TaggedOutput``s, each with its element type; ``args`` and ``kwargs`` (side inputs) go to
    ``fn.process`` after the element, as with ``beam.ParDo``."""

    def __init__(self, fn: beam.DoFn, types: Mapping[str, Any], *args, label=None, **kwargs):
        super().__init__(label)
        if len(types) < 2:
            raise ValueError("ParDoOutputs: name the main output and at least one tagged output")
        self.fn = fn
        self.types = dict(types)
        self.args = args
        self.kwargs = kwargs

    def expand(self, pcoll):
        names = list(self.types)
        index = {name: i for i, name in enumerate(names)}
        slots = typehints.Tuple[(int, *(typehints.Optional[self.types[n]] for n in names))]
        tagged = pcoll | "Run" >> beam.ParDo(_Tagged(self.fn, index, names[0]), *self.args,
                                           **self.kwargs).with_output_types(slots)
        return {name: tagged | f"Pick[{name}]" >> beam.FlatMap(_pick, index[name]).with_output_types(
                    self.types[name])
                for name in names}
