"""ParDoOutputs: the outputs of ``ParDo(fn).with_outputs(...)``, typed, counters and side inputs kept; limits
refused."""
import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from wiredesk.schemas.records import Reject, make_reject
from wiredesk.transforms.outputs import ParDoOutputs

BAD = make_reject("read", "bad", "f", "1", "x")


class SplitFn(beam.DoFn):
    def setup(self):
        self.odd = beam.metrics.Metrics.counter("test.outputs", "odd")

    def process(self, n):
        if n % 2:
            self.odd.inc()
            yield beam.pvalue.TaggedOutput("odd", n)
            yield beam.pvalue.TaggedOutput("rejects", BAD._replace(position=str(n)))
        else:
            yield n


def test_outputs_equal_with_outputs():
    p = TestPipeline()
    numbers = p | beam.Create(range(6))
    ours = numbers | "Ours" >> ParDoOutputs(SplitFn(), {"even": int, "odd": int, "rejects": Reject})
    beams = numbers | "Beams" >> beam.ParDo(SplitFn()).with_outputs("odd", "rejects", main="even")
    for name in ("even", "odd"):
        assert_that(ours[name], equal_to([n for n in range(6) if (n % 2 == 1) == (name == "odd")]),
                    label=f"Ours[{name}]")
        assert_that(beams[name], equal_to([n for n in range(6) if (n % 2 == 1) == (name == "odd")]),
                    label=f"Beams[{name}]")
    assert_that(ours["rejects"] | beam.Map(lambda r: r.position), equal_to(["1", "3", "5"]), label="Rejects")
    assert ours["rejects"].element_type is Reject and ours["even"].element_type is int
    result = p.run()
    result.wait_until_finish()
    odd = result.metrics().query(MetricsFilter().with_name("odd"))["counters"]
    assert sum(c.committed for c in odd) == 6  # three from each of the two steps


class ScaleFn(beam.DoFn):
    def process(self, n, factor, offsets):
        if n < 0:
            yield beam.pvalue.TaggedOutput("negative", n)
        else:
            yield n * factor + offsets.get(n, 0)


def test_side_inputs_reach_the_dofn():
    with TestPipeline() as p:
        numbers = p | "Numbers" >> beam.Create([-1, 1, 2])
        factor = p | "Factor" >> beam.Create([10])
        offsets = p | "Offsets" >> beam.Create([(2, 5)])
        out = numbers | ParDoOutputs(ScaleFn(), {"scaled": int, "negative": int},
                                     beam.pvalue.AsSingleton(factor), offsets=beam.pvalue.AsDict(offsets))
        assert_that(out["scaled"], equal_to([10, 25]), label="Scaled")
        assert_that(out["negative"], equal_to([-1]), label="Negative")


class FinishFn(beam.DoFn):
    def process(self, n):
        yield n

    def finish_bundle(self):
        yield beam.utils.windowed_value.WindowedValue(0, 0, [beam.transforms.window.GlobalWindow()])


def test_finish_bundle_output_is_refused():
    with pytest.raises(Exception, match="finish_bundle may not output"):
        with TestPipeline() as p:
            p | beam.Create([1]) | ParDoOutputs(FinishFn(), {"main": int, "other": int})


def test_needs_a_tagged_output():
    with pytest.raises(ValueError, match="at least one tagged output"):
        ParDoOutputs(SplitFn(), {"even": int})
