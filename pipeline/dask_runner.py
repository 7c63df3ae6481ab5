"""Beam's Dask runner with a Flatten that does not add up its inputs' partitions, and a ``Top.Of`` that works.

Beam 2.77's Dask runner (``apache_beam.runners.dask``) turns a Flatten into ``dask.bag.concat`` of its inputs,
which has as many partitions as all of them together, and a GroupByKey into ``Bag.groupby`` (a task shuffle with
at least its input's partitions, ``groupby_tasks`` ignores ``npartitions``). No step it translates (Create, ParDo,
GroupByKey, Flatten) ever lowers the count, so every ``JoinByKey`` (Flatten of the tagged inputs, GroupByKey) has
as many partitions as its inputs together, and a step that joins in rounds (the events stage's connected
components) doubles them each round: 5 partitions after the NER step became 76,832 at ``Events/MergeClusters``
with the seeds as input, a graph the launcher could not build (23 GB, then the OOM killer).

``DaskRunner`` here is Beam's, with one change: a Flatten's bag is repartitioned (``Bag.repartition``: neighbouring
partitions concatenated, no shuffle) to as many partitions as its widest input, so a join has the partitions of its
widest input and chained joins keep the count the pipeline started with (a GroupByKey of more than 32 partitions
rounds up to a power of its shuffle's branching, once). Everything else is Beam's runner as it is: the same
translation of each step, the same options (``--dask_client_address`` ...), the same result object. A Flatten's
elements are the same (a PCollection has no order), so a run's output is too.

Also, Beam's ``Top.Of`` in the global window emits each bundle's best from ``finish_bundle``, which the Dask
runner drops (it gave ``[]``, and the events stage's background sample was empty): this runner gives ``Top.Of``'s merge
step each element as a bundle of its own, the same top ``n`` without ``finish_bundle`` (``TopPerElement``).

Used by ``wiredesk run`` when ``--runner`` names Beam's Dask runner (``pipeline/run.py``, ``local_runner``), or
directly with ``--runner=wiredesk.pipeline.dask_runner.DaskRunner``. Nothing of this module runs on the Dask
workers (the repartition is dask's own task), so they need no wiredesk beyond what the steps need.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor, PTransformOverride
from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner
from apache_beam.runners.dask.overrides import _Flatten
from apache_beam.transforms.combiners import _TopPerBundle

__all__ = ["DaskRunner"]


def widest_input(node: AppliedPTransform, bags) -> int:
    """The most partitions among the bags of ``node``'s inputs (0 when none was translated)."""
    return max((bags[pcoll.producer].npartitions for pcoll in node.inputs
                if getattr(pcoll, "producer", None) in bags), default=0)


class BoundedFlattenVisitor(PipelineVisitor):
    """Beam's ``DaskBagVisitor`` (it does every translation), then each Flatten's bag cut to its widest input."""

    def __init__(self, beam_visitor: PipelineVisitor):
        self.beam_visitor = beam_visitor
        #: The same dict as Beam's visitor's: ``run_pipeline`` computes its last bag.
        self.bags = beam_visitor.bags

    def visit_transform(self, transform_node: AppliedPTransform) -> None:
        self.beam_visitor.visit_transform(transform_node)
        if isinstance(transform_node.transform, _Flatten):
            bag = self.bags[transform_node]
            widest = widest_input(transform_node, self.bags)
            if 0 < widest < bag.npartitions:
                self.bags[transform_node] = bag.repartition(npartitions=widest)


class EachAsBundle(beam.DoFn):
    """An element -> ``(None, [element])``: what ``_TopPerBundle`` gives for a bundle of one, from ``process``."""

    def process(self, element):
        yield None, [element]


class TopPerElement(PTransformOverride):
    """``Top.Of``'s ``ParDo(_TopPerBundle)`` -> ``ParDo(EachAsBundle)``.

    In the global window Beam's ``Top.Of`` keeps each bundle's best in ``_TopPerBundle``, which outputs them from
    ``finish_bundle``; the Dask runner drops that output, so ``Top.Of`` gave ``[]`` (the events stage's background
    sample: other scores, other events than the DirectRunner's). Each element as a bundle of its own gives
    ``_MergeTopPerBundle`` (the step after the GroupByKey, unchanged) the same candidates, so the same top ``n``.
    The leaf is matched, not ``Top.Of``: the pipeline the runner gets was rebuilt from its proto, where a
    composite without a URN is no longer a ``Top.Of``.
    """

    def matches(self, applied_ptransform: AppliedPTransform) -> bool:
        transform = applied_ptransform.transform
        return isinstance(transform, beam.ParDo) and isinstance(transform.fn, _TopPerBundle)

    def get_replacement_transform_for_applied_ptransform(self, applied_ptransform: AppliedPTransform):
        output = applied_ptransform.outputs[None]
        return beam.ParDo(EachAsBundle()).with_output_types(output.element_type)


class DaskRunner(BeamDaskRunner):
    """Beam's Dask runner whose Flatten keeps its widest input's partition count, and whose ``Top.Of`` does
    without ``finish_bundle`` output (see the module docstring)."""

    def run_pipeline(self, pipeline, options):
        pipeline.replace_all([TopPerElement()])
        return super().run_pipeline(pipeline, options)

    @staticmethod
    def to_dask_bag_visitor(bag_kwargs=None) -> PipelineVisitor:
        return BoundedFlattenVisitor(BeamDaskRunner.to_dask_bag_visitor(bag_kwargs))
