"""Beam's Dask runner with a Flatten that does not add up its inputs' partitions, a ``Top.Of`` that works, and
ParDo bundles that do not share their output.

Beam 2.77's Dask runner (``apache_beam.runners.dask``) turns a Flatten into ``dask.bag.concat`` of its inputs,
which has as many partitions as all of them together, and a GroupByKey into ``Bag.groupby`` (a task shuffle with
at least its input's partitions, ``groupby_tasks`` ignores ``npartitions``). No step it translates (Create, ParDo,
GroupByKey, Flatten) ever lowers the count, so every ``JoinByKey`` (Flatten of the tagged inputs, GroupByKey) has
as many partitions as its inputs together, and a step that joins in rounds (the events stage's connected
components) doubles them each round: 5 partitions after the NER step became 76,832 at ``Events/MergeClusters``
with the seeds as input, a graph the launcher could not build (23 GB, then the OOM killer).

``DaskRunner`` here is Beam's, with three changes. First, a Flatten's bag is repartitioned (``Bag.repartition``:
neighbouring partitions concatenated, no shuffle) to as many partitions as its widest input, so a join has the
partitions of its widest input and chained joins keep the count the pipeline started with (a GroupByKey of more
than 32 partitions rounds up to a power of its shuffle's branching, once). Everything else is Beam's runner as it
is: the same translation of each other step, the same options (``--dask_client_address`` ...), the same result
object. A Flatten's elements are the same (a PCollection has no order), so a run's output is too.

Also, Beam's ``Top.Of`` in the global window emits each bundle's best from ``finish_bundle``, which the Dask
runner drops (it gave ``[]``, and the events stage's background sample was empty): this runner gives ``Top.Of``'s merge
step each element as a bundle of its own, the same top ``n`` without ``finish_bundle`` (``TopPerElement``).

And Beam's ParDo translation makes one output receiver (a list) when the graph is built and hands that same object
to every partition's task, each returning the whole list: where tasks share it (the same deserialized object in a
worker, or a local scheduler), a bundle's output repeats every earlier bundle's, and the events stage's document
frequencies (``Events/CountDf``, a combine) counted each article 2 to 10 times (n_docs 410 for 205 articles), so
the vectors, scores and events differed from the DirectRunner's (28 events against 24). This runner's ParDo makes
its receivers in each bundle (``apply_dofn_to_fresh_bundle``), and computes each side input once, as a task the
reading tasks depend on (``side_input_values``), otherwise as Beam's.

Last, the graph is sent as built, without dask's bag optimization (``dask.config.set(bag_optimize=False)``, the
config key dask's ``Bag.__dask_optimize__`` reads): once in six runs of ``test_dask_run_equals_direct`` here
(dask 2026.8), the optimized graph (culled, then ``fuse_linear_task_spec``) reached the scheduler with a task whose
dependency was gone, ``KeyError: ('from_sequence-...', 0)`` in ``dask.order``, and the run failed. Fusion only
saves task overhead; the tasks and their results are the same.

Used by ``wiredesk run`` when ``--runner`` names Beam's Dask runner (``pipeline/run.py``, ``local_runner``), or
directly with ``--runner=wiredesk.pipeline.dask_runner.DaskRunner``. Of this module only
``apply_dofn_to_fresh_bundle`` and ``side_input_values`` run on the Dask workers (the repartition is dask's own
task), so they import ``wiredesk.pipeline.dask_runner`` (Beam and dask, which they have) besides what the steps
need.
"""
from __future__ import annotations

import apache_beam as beam
import dask
from apache_beam.pipeline import AppliedPTransform, PipelineVisitor, PTransformOverride
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, _OutputHandler
from apache_beam.runners.dask import transform_evaluator
from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner
from apache_beam.runners.dask.overrides import _Flatten
from apache_beam.transforms.combiners import _TopPerBundle
from apache_beam.transforms.sideinputs import SideInputMap

__all__ = ["DaskRunner"]


def widest_input(node: AppliedPTransform, bags) -> int:
    """The most partitions among the bags of ``node``'s inputs (0 when none was translated)."""
    return max((bags[pcoll.producer].npartitions for pcoll in node.inputs
                if getattr(pcoll, "producer", None) in bags), default=0)


def apply_dofn_to_fresh_bundle(items, fn, label, window_fn, side_specs, args, kwargs, *side_values):
    """A DoFn over one bundle (a Dask partition), as Beam's ``apply_dofn_to_bundle`` but with receivers and an
    invoker of its own: Beam's are made once per ParDo and shared by every bundle that gets the same object, so
    its output list grows across bundles. ``side_specs`` are the side inputs' (view type, view options) and
    ``side_values`` their windowed values (``side_input_values``, computed once by dask). As in Beam's,
    ``finish_bundle`` output is not collected."""
    side_inputs = [SideInputMap(view, options, values)
                   for (view, options), values in zip(side_specs, side_values)] or None
    receivers = transform_evaluator.OneReceiver()
    invoker = DoFnInvoker.create_invoker(
        DoFnSignature(fn),
        _OutputHandler(window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
                       per_element_output_counter=None, output_batch_converter=None,
                       process_yields_batches=False, process_batch_yields_elements=False),
        context=DoFnContext(label, state=None), side_inputs=side_inputs, input_args=args, input_kwargs=kwargs,
        user_state_context=None, bundle_finalizer_param=beam.DoFn.BundleFinalizerParam())
    invoker.invoke_setup()
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(item)
    results = [v.value for v in receivers.values]
    invoker.invoke_finish_bundle()
    invoker.invoke_teardown()
    return results


def side_input_values(window_fn, *partitions) -> list:
    """A side input's elements as windowed values, from every partition of its bag: one dask task, which the
    tasks of the ParDo that reads it depend on, so it is computed once. (Beam's runner computes the side input's
    bag, with everything upstream of it, again inside every task that reads it; with fusion, that nested compute
    once failed a whole run with "Cycle detected between the following keys".)"""
    return [transform_evaluator.get_windowed_value(r, window_fn) for part in partitions for r in part]


def fresh_pardo_bag(node: AppliedPTransform, bags):
    """The bag of ParDo ``node`` (inputs and side inputs as Beam's visitor takes them), each bundle with its own
    receivers (``apply_dofn_to_fresh_bundle``), each side input computed once (``side_input_values``); None when
    its main input is not one translated bag."""
    inputs = [bags[pcoll.producer] for pcoll in node.inputs if getattr(pcoll, "producer", None) in bags]
    if len(inputs) != 1:
        return None
    specs = [(type(si), si._view_options()) for si in node.side_inputs]
    values = [dask.delayed(side_input_values, pure=True)(
        si._window_mapping_fn, *bags[si.pvalue.producer].to_delayed(optimize_graph=False))
        for si in node.side_inputs]
    transform = node.transform
    args, kwargs = transform.raw_side_inputs
    main_input = next(iter(node.main_inputs.values()))
    window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
    return inputs[0].map(transform_evaluator.get_windowed_value, window_fn).map_partitions(
        apply_dofn_to_fresh_bundle, transform.fn, transform.label, window_fn, specs, list(args), kwargs, *values)


class BoundedFlattenVisitor(PipelineVisitor):
    """Beam's ``DaskBagVisitor`` (it does every translation), then each Flatten's bag cut to its widest input and
    each ParDo's bag made with receivers per bundle (``fresh_pardo_bag``)."""

    def __init__(self, beam_visitor: PipelineVisitor):
        self.beam_visitor = beam_visitor
        #: The same dict as Beam's visitor's: ``run_pipeline`` computes its last bag.
        self.bags = beam_visitor.bags

    def visit_transform(self, transform_node: AppliedPTransform) -> None:
        self.beam_visitor.visit_transform(transform_node)
        if transform_node.transform.__class__ is beam.ParDo:  # what Beam's visitor translates as a ParDo
            bag = fresh_pardo_bag(transform_node, self.bags)
            if bag is not None:
                self.bags[transform_node] = bag
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
    """Beam's Dask runner whose Flatten keeps its widest input's partition count, whose ``Top.Of`` does
    without ``finish_bundle`` output, and whose ParDo bundles do not share their output (see the module
    docstring)."""

    def run_pipeline(self, pipeline, options):
        pipeline.replace_all([TopPerElement()])
        # Beam's run_pipeline optimizes the graph (``dask.optimize``, then ``client.compute``): with bag
        # optimization off (dask's own config key) no key is culled or fused away (see the module docstring).
        with dask.config.set(bag_optimize=False):
            return super().run_pipeline(pipeline, options)

    @staticmethod
    def to_dask_bag_visitor(bag_kwargs=None) -> PipelineVisitor:
        return BoundedFlattenVisitor(BeamDaskRunner.to_dask_bag_visitor(bag_kwargs))
