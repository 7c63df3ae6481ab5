"""The DirectRunner wiredesk selects: Beam's Python FnApiRunner for batch, never Prism (which Beam 2.77 would
download at run time); Beam's Dask runner as wiredesk's subclass (chained joins keep their partitions); other
runners are left to Beam."""
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
from apache_beam.runners.portability.fn_api_runner.fn_runner import FnApiRunner

from conftest import manifest
from wiredesk.pipeline.run import local_runner


@pytest.mark.parametrize("argv", [[], ["--runner=DirectRunner"], ["--runner", "direct"],
                                  ["--runner=SwitchingDirectRunner"],
                                  ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]])
def test_direct_means_fnapi_runner(argv):
    runner = local_runner(PipelineOptions(argv))
    assert isinstance(runner, FnApiRunner)
    # The workers get the pipeline's options, as under Beam's own DirectRunner.
    assert runner._provision_info.provision_info.pipeline_options


def test_streaming_means_bundle_based_runner():
    assert isinstance(local_runner(PipelineOptions(["--streaming"])), BundleBasedDirectRunner)


@pytest.mark.parametrize("runner", ["PortableRunner", "PrismRunner", "FnApiRunner", "DataflowRunner",
                                    "wiredesk.pipeline.dask_runner.DaskRunner"])
def test_other_runners_are_beams_choice(runner):
    assert local_runner(PipelineOptions([f"--runner={runner}"])) is None


def test_beams_dask_runner_means_wiredesks():
    """Beam's Dask runner, with a Flatten that keeps its widest input's partitions (tests/test_runner_dask.py)."""
    pytest.importorskip("distributed")
    from wiredesk.pipeline.dask_runner import DaskRunner

    runner = local_runner(PipelineOptions(["--runner=apache_beam.runners.dask.dask_runner.DaskRunner"]))
    assert type(runner) is DaskRunner


def test_a_run_never_tries_prism(tmp_path, run_cli, monkeypatch):
    from apache_beam.runners.direct import direct_runner
    from apache_beam.runners.portability import prism_runner

    def refuse(*args, **kwargs):
        raise AssertionError("wiredesk run reached for Prism")

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", refuse)
    monkeypatch.setattr(direct_runner.SwitchingDirectRunner, "run_pipeline", refuse)
    code, _ = run_cli("--output", tmp_path / "out", "--runner=DirectRunner")
    assert code == 0
    assert manifest(tmp_path / "out")["counts"]["articles"] > 0
