"""``RunOptions``: Beam's PipelineOptions with one view per class, the same values as fresh views."""
import copy
import pickle

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, TypeOptions

from wiredesk.pipeline.options import RunOptions, WiredeskOptions


def test_a_view_is_made_once_and_shares_the_values():
    options = RunOptions(["--runner=DirectRunner", "--output", "out"])
    view = options.view_as(StandardOptions)
    assert options.view_as(StandardOptions) is view
    view.runner = "DataflowRunner"  # a value set through one view is seen by every view and the options
    assert options.view_as(StandardOptions).runner == "DataflowRunner"
    assert options.get_all_options()["runner"] == "DataflowRunner"
    assert options.view_as(WiredeskOptions).output == "out"


def test_copies_and_pickles_make_their_own_views_with_the_same_values():
    options = RunOptions(["--runner=DirectRunner", "--no_pipeline_type_check"])
    options.view_as(TypeOptions)
    for other in (copy.deepcopy(options), pickle.loads(pickle.dumps(options))):
        assert "_wiredesk_views" not in other.__dict__
        assert other.view_as(TypeOptions) is not options.view_as(TypeOptions)
        assert other.view_as(TypeOptions).pipeline_type_check is False
        assert other.get_all_options() == options.get_all_options()


def test_the_same_options_as_plain_pipeline_options():
    argv = ["--runner=DirectRunner", "--direct_num_workers=2", "--input", "a.jsonl", "b.xml"]
    assert RunOptions(argv).get_all_options() == PipelineOptions(argv).get_all_options()
