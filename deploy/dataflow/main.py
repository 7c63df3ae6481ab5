"""Dataflow Flex Template launcher for wiredesk: build the pipeline, submit it, return. It never waits.

The Flex Template launcher runs this file (``FLEX_TEMPLATE_PYTHON_PY_FILE`` in deploy/Dockerfile) with the
template's parameters as ``--name=value`` flags, the same options ``wiredesk run`` takes. A launcher that waits for
the job keeps the launcher VM (and ``gcloud dataflow flex-template run``) busy until the job ends, so this file
never calls ``wait_until_finish`` and never uses ``with beam.Pipeline(...)`` (which waits on exit).

``wiredesk run`` commits a run in the driver after the job has finished (the run is written aside, then moved into
place with ``_manifest.json`` last). A launcher that does not wait cannot do that, so here the commit is the job's
own last step: ``CommitRun`` runs on a worker once every table's files are finalized (it consumes the counts,
which include the number of files each sink finalized), and does what ``wiredesk.pipeline.run.run`` does after
``wait_until_finish``, with the same functions. The Airflow DAG (deploy/airflow) submits through this file too.

    python deploy/dataflow/main.py --input gs://B/wire/2026/12/01/ --output gs://B/wiredesk \\
        --runner DataflowRunner --project P --region R --temp_location gs://B/tmp \\
        --sdk_container_image REGION-docker.pkg.dev/P/wiredesk/wiredesk:0.1.0

For local runs use ``wiredesk run``: it waits, reports progress and prints a summary.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import sys
from typing import Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from wiredesk.pipeline import run as wdrun
from wiredesk.pipeline.build import build_pipeline
from wiredesk.pipeline.options import WiredeskOptions, event_config, input_paths, target_file_bytes

LOG = logging.getLogger("wiredesk.launcher")


def commit_run(counts: Dict[str, int], argv: List[str], output: str, staging: str, run_id: str,
               paths: List[str], started: _dt.datetime) -> Dict:
    """On a worker, after every sink has finalized: check the files, write the manifest, move the run into place.

    The steps and order of ``wiredesk.pipeline.run.run`` after the job: a run whose files are not all in place
    raises ``IncompleteOutputError`` (the job fails, nothing is committed, the staging directory is kept).
    """
    FileSystems.delete([FileSystems.join(staging, "_counts.json")])
    files = wdrun.list_tables(staging)
    wdrun.check_files(counts, files, staging)
    wdrun.remove_temporary(staging)
    finished = _dt.datetime.now(_dt.timezone.utc)
    manifest = wdrun.make_manifest(run_id, PipelineOptions(argv), paths, counts, started, finished, files)
    with FileSystems.create(FileSystems.join(staging, "_manifest.json")) as fh:
        fh.write(json.dumps(manifest, indent=2, sort_keys=False).encode("utf-8"))
    wdrun.commit(staging, output, run_id)
    return manifest


def launch(argv: Optional[Sequence[str]] = None):
    """Check the options, build the pipeline with its commit step, submit it; returns the runner's PipelineResult
    without waiting. Raises ``wiredesk.pipeline.run.InputError`` for an option the run cannot use."""
    argv = list(sys.argv[1:] if argv is None else argv)
    options = PipelineOptions(argv)
    paths = input_paths(options)
    wdrun.check_inputs(paths)
    try:
        event_config(options)
        target_file_bytes(options)
    except ValueError as exc:
        raise wdrun.InputError(str(exc)) from exc
    wd = options.view_as(WiredeskOptions)
    if wd.table_root:
        raise wdrun.InputError(
            f"--table_root {wd.table_root}: not with this launcher. A table root is a local directory (its SQLite "
            "catalog lives in it) that the job's workers do not share, and its commit follows the job; use "
            "--output here, or `wiredesk run --table_root` on a machine that holds the root")
    wdrun.check_output(wd.output)
    started = _dt.datetime.now(_dt.timezone.utc)
    run_id = wd.run_id or wdrun.make_run_id(paths, started)
    staging = wdrun.staging_dir(wd.output, run_id)

    # The runner `wiredesk run` picks: None (Beam's choice) for Dataflow and every remote runner.
    p = beam.Pipeline(runner=wdrun.local_runner(options), options=options)
    outputs = build_pipeline(p, options, output_dir=staging)
    _ = outputs["counts"] | "CommitRun" >> beam.Map(
        commit_run, argv=argv, output=wd.output, staging=staging, run_id=run_id, paths=paths, started=started)
    result = p.run()
    job_id = getattr(result, "job_id", None)
    LOG.info("wiredesk run %s submitted%s: written to %s, committed to %s by the job's CommitRun step",
             run_id, f" as job {job_id()}" if callable(job_id) else "", staging, wd.output)
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO)
    try:
        launch(argv)
    except wdrun.InputError as exc:
        print(f"wiredesk: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
