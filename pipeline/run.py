"""Run wiredesk once: build, run, then commit the output and its manifest.

A run is written aside (``.NAME.staging-RUNID`` beside ``--output``) and moved
into place only when complete, with ``_manifest.json`` written last, so a
reader never sees a half-written run.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from wiredesk.pipeline import __version__
from wiredesk.pipeline.build import build_pipeline
from wiredesk.pipeline.memory import limit_malloc_arenas
from wiredesk.pipeline.options import RunOptions, WiredeskOptions, event_config, input_paths, target_file_bytes
from wiredesk.schemas import tables
from wiredesk.transforms.read import is_glob
from wiredesk.transforms.write import TEMPORARY

DEPENDENCIES = ("apache-beam", "pyarrow", "spacy", "datasketch", "numpy", "feedparser",
                "defusedxml", "inscriptis", "py3langid", "jsonschema")


class InputError(ValueError):
    """An --input or --output the run cannot use; the message says how to fix it."""


@dataclass
class RunResult:
    run_id: str
    output: str
    manifest: Dict
    metrics: Dict[str, int]


#: Input size from which the DirectRunner runs one worker process per core:
#: below it, starting the workers (each imports Beam and loads spaCy, ~8 s on
#: two cores) costs more than the parallel work saves.
PARALLEL_FROM_BYTES = 1_000_000


def input_bytes(paths: Sequence[str]) -> int:
    from wiredesk.transforms.read import expand_path

    return sum(m.size_in_bytes or 0 for path in paths for m in expand_path(path))


def use_all_cores(argv: Sequence[str], paths: Sequence[str]) -> List[str]:
    """On the DirectRunner, one worker process per core for large inputs,
    unless the caller chose the workers or another runner."""
    argv = list(argv)
    chosen = any(a.startswith(("--direct_num_workers", "--direct_running_mode")) for a in argv)
    runner = next((a.split("=", 1)[1] for a in argv if a.startswith("--runner=")), None)
    if runner is None and "--runner" in argv[:-1]:
        runner = argv[argv.index("--runner") + 1]
    if chosen or (runner and runner not in ("DirectRunner", "direct")) or (os.cpu_count() or 1) < 2:
        return argv
    if input_bytes(paths) < PARALLEL_FROM_BYTES:
        return argv
    return argv + [f"--direct_num_workers={os.cpu_count()}", "--direct_running_mode=multi_processing"]


def check_inputs(paths: Sequence[str]) -> None:
    """Refuse a named file or directory that does not exist (globs may match nothing)."""
    for path in paths:
        if is_glob(path):
            continue
        if not (FileSystems.exists(path) or FileSystems.match([path.rstrip("/") + "/**"])[0].metadata_list):
            raise InputError(f"--input {path}: no such file or directory")


def make_run_id(paths: Sequence[str], now: _dt.datetime) -> str:
    digest = hashlib.blake2b("\n".join(paths).encode(), digest_size=3).hexdigest()
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{digest}"


def is_local(path: str) -> bool:
    return "://" not in path


#: Options that name paths: a local relative one is made absolute before the pipeline is built (``--state``
#: too, when given).
PATH_OPTIONS = ("input", "output", "table_root", "state")


def absolute_path(path: str) -> str:
    """A local relative path made absolute (a trailing ``/`` kept); an absolute path or a URI unchanged."""
    if not path or not is_local(path) or os.path.isabs(path):
        return path
    absolute = os.path.abspath(path)
    return absolute + "/" if path.endswith("/") else absolute


def absolute_paths(argv: Sequence[str]) -> List[str]:
    """``argv`` with the local relative paths of ``PATH_OPTIONS`` made absolute (``--input a b``, ``--output=c``).

    A path reaches the workers as written, and a remote runner's workers do not run in this directory (on a Dask
    cluster a relative ``--input seeds/*.txt`` matched nothing), so the run resolves them here, where the user
    meant them. URIs (``gs://``, ``s3://`` ...) and absolute paths are left as they are.
    """
    args, out = list(argv), []
    while args:
        arg = args.pop(0)
        name, eq, value = arg.partition("=")
        if not (name.startswith("--") and name[2:] in PATH_OPTIONS):
            out.append(arg)
        elif eq:
            out.append(f"{name}={absolute_path(value)}")
        else:
            out.append(arg)
            # --input takes one or more values (as argparse reads them: up to the next option), the others one.
            while args and not args[0].startswith("-"):
                out.append(absolute_path(args.pop(0)))
                if name != "--input":
                    break
    return out


def staging_dir(output: str, run_id: str) -> str:
    out = output.rstrip("/")
    if is_local(out):
        parent, name = os.path.split(os.path.abspath(out))
        return os.path.join(parent, f".{name}.staging-{run_id}")
    return f"{out}/_staging/{run_id}"


def check_output(output: str) -> None:
    """Refuse to replace a directory that is not a wiredesk output."""
    if is_local(output) and os.path.isdir(output) and os.listdir(output) \
            and not os.path.exists(os.path.join(output, "_manifest.json")):
        raise InputError(
            f"--output {output} exists and is not a wiredesk output (no _manifest.json): "
            "choose an empty or new directory")


def versions() -> Dict[str, str]:
    found = {"python": sys.version.split()[0], "wiredesk": __version__}
    for dist in DEPENDENCIES:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    return found


def list_tables(base: str) -> Dict[str, List[str]]:
    """Relative paths of the Parquet files of each table under ``base``."""
    found: Dict[str, List[str]] = {}
    for meta in FileSystems.match([base.rstrip("/") + "/**"])[0].metadata_list:
        rel = meta.path[len(base.rstrip("/")) + 1:].replace("\\", "/")
        if rel.endswith(".parquet"):
            found.setdefault(rel.split("/", 1)[0], []).append(rel)
    return {k: sorted(v) for k, v in sorted(found.items())}


def make_manifest(run_id, options, paths, counts, started, finished, files) -> Dict:
    records_read = counts.get("records", 0) + counts.get("read_rejects", 0)
    rejects = counts.get("read_rejects", 0) + counts.get("normalize_rejects", 0)
    articles, superseded = counts.get("articles", 0), counts.get("superseded", 0)
    return {
        "run_id": run_id,
        "schema_version": tables.SCHEMA_VERSION,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": list(paths),
        "counts": {
            "records_read": records_read,
            "articles": articles,
            "rejects": rejects,
            "rejects_by_stage": {"read": counts.get("read_rejects", 0),
                                 "normalize": counts.get("normalize_rejects", 0)},
            "superseded": superseded,
            "duplicates": counts.get("duplicates", 0),
            "events": counts.get("events", 0),
        },
        # Every record read is an article, a reject or a superseded version.
        "balanced": records_read == articles + rejects + superseded,
        "tables": files,
        "versions": versions(),
        "options": options.get_all_options(drop_default=True, retain_unknown_options=True),
    }


class IncompleteOutputError(RuntimeError):
    """Files a sink finalized are not in place: the run is not committed."""


def check_files(counts: Dict, files: Dict[str, List[str]], staging: str) -> None:
    """Refuse to commit a run whose tables hold fewer files than their sinks finalized.

    Beam's finalize step only logs a failed move, so a lost file would otherwise
    pass unnoticed; the temporary files are kept for a look.
    """
    missing = {table: (counts[key], len(files.get(table, [])))
               for key in counts if key.startswith("files_")
               for table in [key[len("files_"):]] if len(files.get(table, [])) != counts[key]}
    if missing:
        detail = ", ".join(f"{table}: {want} finalized, {got} in place"
                           for table, (want, got) in sorted(missing.items()))
        raise IncompleteOutputError(f"the run's files are not all in place ({detail}); nothing was committed, "
                                    f"the run and its temporary files are left in {staging}")


def remove_temporary(staging: str) -> None:
    """Delete what the file sinks left in their temporary directory (empty folders after the finalize step)."""
    temporary = FileSystems.join(staging, TEMPORARY)
    if is_local(temporary):
        shutil.rmtree(temporary, ignore_errors=True)
        return
    left = [m.path for m in FileSystems.match([temporary + "/**"])[0].metadata_list]
    if left:
        FileSystems.delete(left)


def commit(staging: str, output: str, run_id: str) -> None:
    """Move a finished run into place. Local: one directory swap."""
    out = output.rstrip("/")
    if is_local(out):
        old = None
        if os.path.exists(out):
            old = f"{staging}.old"
            os.rename(out, old)
        os.rename(staging, out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        return
    # Object stores have no directory rename: replace the tables file by file,
    # manifest last, so a reader that starts from _manifest.json is consistent.
    existing = [m.path for m in FileSystems.match([out + "/**"])[0].metadata_list
                if "/_staging/" not in m.path]
    if existing:
        FileSystems.delete(existing)
    moved = [m.path for m in FileSystems.match([staging + "/**"])[0].metadata_list
             if not m.path.endswith("_manifest.json")]
    FileSystems.rename(moved, [out + p[len(staging):] for p in moved])
    FileSystems.rename([staging + "/_manifest.json"], [out + "/_manifest.json"])


def wiredesk_metrics(result) -> Dict[str, int]:
    found: Dict[str, int] = {}
    try:
        counters = result.metrics().query()["counters"]
    except Exception:  # some runners do not report metrics
        return found
    for c in counters:
        if c.key.metric.namespace.startswith("wiredesk"):
            name = f"{c.key.metric.namespace}.{c.key.metric.name}"
            found[name] = found.get(name, 0) + (c.committed or c.attempted or 0)
    return dict(sorted(found.items()))


#: Runners whose workers share this machine's filesystem: progress through files under the staging directory.
LOCAL_RUNNERS = (None, "DirectRunner", "direct", "SwitchingDirectRunner", "FnApiRunner", "BundleBasedDirectRunner",
                 "PrismRunner", "prism")


def progress_directory(options: PipelineOptions, staging: str) -> Optional[str]:
    """Where the counting steps write, when the runner's workers share this filesystem; else None."""
    from apache_beam.options.pipeline_options import StandardOptions

    from wiredesk.pipeline import progress

    runner = options.view_as(StandardOptions).runner
    if not is_local(staging) or runner not in LOCAL_RUNNERS:
        return None
    return os.path.join(staging, progress.DIRECTORY)


#: ``--runner`` values (or none) that mean Beam's local runner.
DIRECT_RUNNERS = (None, "DirectRunner", "direct", "SwitchingDirectRunner")
#: ``--runner`` of Beam's Dask runner, run as ``wiredesk.pipeline.dask_runner.DaskRunner``.
BEAM_DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


def local_runner(options: PipelineOptions):
    """The runner wiredesk hands Beam for ``--runner=DirectRunner`` or none, and for Beam's Dask runner; None for
    any other runner.

    Beam 2.77's DirectRunner (``SwitchingDirectRunner``) first tries Prism, a Go binary it downloads at run time
    (and runs from its cache when an earlier run fetched it), and falls back to the Python runners when that
    fails. wiredesk skips that step: a batch run goes straight to Beam's Python FnApiRunner (what the
    DirectRunner ends with when Prism is absent, and what honours ``--direct_num_workers`` and
    ``--direct_running_mode``), a streaming one to the BundleBasedDirectRunner. So a run never reaches for the
    network and behaves the same on every machine; ``--runner=PrismRunner`` still chooses Prism. The FnApiRunner
    sends each stage's input in bounded messages (``pipeline.direct_runner.bound_messages``).

    ``--runner=apache_beam.runners.dask.dask_runner.DaskRunner`` gets ``wiredesk.pipeline.dask_runner.DaskRunner``:
    Beam's Dask runner whose Flatten does not add up its inputs' partitions, so chained joins stay bounded.
    """
    from apache_beam.options.pipeline_options import StandardOptions

    standard = options.view_as(StandardOptions)
    if standard.runner == BEAM_DASK_RUNNER:
        from wiredesk.pipeline.dask_runner import DaskRunner

        return DaskRunner()
    if standard.runner not in DIRECT_RUNNERS:
        return None
    if standard.streaming:
        from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

        return BundleBasedDirectRunner()
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    from wiredesk.pipeline.direct_runner import bound_messages

    bound_messages()  # stage inputs reach the workers in bounded messages (pipeline/direct_runner.py)

    # As the DirectRunner does: the workers get the pipeline's options.
    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    return fn_runner.FnApiRunner(provision_info=fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)))


def run(argv: Optional[Sequence[str]] = None, progress=None) -> RunResult:
    """Run the batch pipeline with Beam-style arguments; returns what it wrote.

    ``progress``: a ``pipeline.progress.Progress`` to report the run's counts
    while it runs (the CLI's), or None.
    """
    argv = absolute_paths(argv or [])
    options = RunOptions(argv)
    paths = input_paths(options)
    check_inputs(paths)
    try:
        event_config(options)
        target_file_bytes(options)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    options = RunOptions(use_all_cores(argv, paths))
    wd = options.view_as(WiredeskOptions)
    if not wd.table_root:
        check_output(wd.output)
    started = _dt.datetime.now(_dt.timezone.utc)
    run_id = wd.run_id or make_run_id(paths, started)
    if wd.table_root:
        from wiredesk.pipeline import table_root
        try:
            staging = table_root.staging_dir(wd.table_root, run_id)
        except table_root.TableRootError as exc:
            raise InputError(str(exc)) from exc
    else:
        staging = staging_dir(wd.output, run_id)
    state_plan = None
    if wd.state:
        from wiredesk.pipeline import state
        try:
            state_plan = state.plan_from_options(options, run_id)
        except state.StateError as exc:
            raise InputError(str(exc)) from exc

    limit_malloc_arenas()
    p = beam.Pipeline(runner=local_runner(options), options=options)
    outputs = build_pipeline(p, options, output_dir=staging, state_plan=state_plan)
    channel = None
    if progress is not None:
        from wiredesk.pipeline.progress import attach

        channel = progress_directory(options, staging)
        if channel:
            attach(outputs, channel, progress.every)
        progress.start(channel)
    try:
        result = p.run()
        if progress is not None:
            progress.watch(result)  # runners whose run() returns while the job runs report live metrics
        result.wait_until_finish()
    finally:
        if progress is not None:
            progress.stop()
    if channel:
        shutil.rmtree(channel, ignore_errors=True)

    with FileSystems.open(FileSystems.join(staging, "_counts.json")) as fh:
        counts = json.loads(fh.read().decode("utf-8"))
    FileSystems.delete([FileSystems.join(staging, "_counts.json")])
    files = list_tables(staging)
    check_files(counts, files, staging)
    remove_temporary(staging)
    finished = _dt.datetime.now(_dt.timezone.utc)
    manifest = make_manifest(run_id, options, paths, counts, started, finished, files)
    if state_plan is not None:
        manifest["state"] = {"uri": state_plan.uri, "read": state_plan.base, "written": state_plan.version,
                             "retry": state_plan.retry}
    with FileSystems.create(FileSystems.join(staging, "_manifest.json")) as fh:
        fh.write(json.dumps(manifest, indent=2, sort_keys=False).encode("utf-8"))
    if wd.table_root:  # the verified files are committed in place, as one snapshot per table
        table_root.commit_run(wd.table_root, staging, files, manifest)
    else:
        commit(staging, wd.output, run_id)
    if state_plan is not None:  # only once the run's outputs are committed: the next run reads this state
        from wiredesk.pipeline import state
        state.commit_state(state_plan)
    return RunResult(run_id=run_id, output=wd.table_root or wd.output, manifest=manifest,
                     metrics=wiredesk_metrics(result))
