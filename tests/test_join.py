"""JoinByKey: the output of CoGroupByKey (every tag, empty lists, None values kept), typed slots, errors."""
import apache_beam as beam
import pytest
from apache_beam.pipeline import PipelineVisitor
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.typehints import KV

from wiredesk.transforms.dedup.records import Assignment
from wiredesk.transforms.join import JoinByKey


def _sorted(kv):
    key, joined = kv
    return key, {tag: sorted(values, key=repr) for tag, values in joined.items()}


A1 = Assignment("c1", "near", 0.9, 1.0)
A2 = Assignment("c2", "exact", 1.0, 1.0)
LEFT = [("k", 1), ("k", 2), ("j", 3)]
RIGHT = [("k", A1), ("m", A2), ("m", A1)]
EXPECTED = [("k", {"left": [1, 2], "right": [A1]}),
            ("j", {"left": [3], "right": []}),
            ("m", {"left": [], "right": [A1, A2]})]


def _inputs(p):
    return {"left": p | "Left" >> beam.Create(LEFT).with_output_types(KV[str, int]),
            "right": p | "Right" >> beam.Create(RIGHT).with_output_types(KV[str, Assignment])}


def test_join_gives_every_key_and_tag():
    with TestPipeline() as p:
        joined = _inputs(p) | JoinByKey()
        assert_that(joined | beam.Map(_sorted), equal_to([_sorted(e) for e in EXPECTED]))


def test_join_equals_cogroupbykey():
    with TestPipeline() as p:
        inputs = _inputs(p)
        ours = inputs | "Ours" >> JoinByKey() | "SortOurs" >> beam.Map(_sorted)
        beams = inputs | "Beams" >> beam.CoGroupByKey() | "SortBeams" >> beam.Map(_sorted)
        assert_that(ours, equal_to([_sorted(e) for e in EXPECTED]), label="CheckOurs")
        assert_that(beams, equal_to([_sorted(e) for e in EXPECTED]), label="CheckBeams")


def test_tags_keep_input_order_and_none_values():
    with TestPipeline() as p:
        joined = ({"z": p | "Z" >> beam.Create([("k", None)]),
                   "a": p | "A" >> beam.Create([("k", "x")]),
                   "m": p | "M" >> beam.Create([("q", "y")])}
                  | JoinByKey() | beam.Map(lambda kv: (kv[0], list(kv[1].items()))))
        assert_that(joined, equal_to([("k", [("z", [None]), ("a", ["x"]), ("m", [])]),
                                      ("q", [("z", []), ("a", []), ("m", ["y"])])]))


def test_one_input():
    with TestPipeline() as p:
        joined = {"only": p | beam.Create([("k", 1), ("k", 2)])} | JoinByKey() | beam.Map(_sorted)
        assert_that(joined, equal_to([("k", {"only": [1, 2]})]))


def test_values_cross_the_shuffle_typed():
    """Each input's values sit in their own Optional slot: a NamedTuple stays RowCoder-encoded, never pickled."""
    p = beam.Pipeline()
    joined = _inputs(p) | "Join" >> JoinByKey()
    found = {}

    class Find(PipelineVisitor):
        def visit_transform(self, node):
            if node.full_label == "Join/Group":
                found["shuffled"] = node.inputs[0]

    p.visit(Find())
    coder = beam.coders.registry.get_coder(found["shuffled"].element_type)
    assert "RowCoder" in repr(coder) and "FastPrimitivesCoder" not in repr(coder), repr(coder)
    assert joined.element_type.tuple_types[0] is str


def test_empty_or_untagged_input_is_refused():
    p = beam.Pipeline()
    with pytest.raises((ValueError, RuntimeError), match="non-empty dict|requires a pipeline"):
        {} | JoinByKey()
    with pytest.raises(ValueError, match="tags must be strings"):
        {1: p | beam.Create([("k", 1)])} | JoinByKey()
