"""Helpers of the runner tests (Dask, portable): services as separate processes, the small input, the rows.

Every service is started in its own process group and stopped with it (SIGTERM, then SIGKILL), also when the
test fails; ports are free ones picked at start, or the service's own choice where it can report it.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from conftest import REPO, SHARED, read_table

VENV_BIN = Path(sys.executable).parent
ECBPLUS = SHARED / "data" / "ecbplus" / "articles.jsonl"
#: ECB+ lines added to the seeds: enough for duplicates and multi-article events, small enough for a fast test.
ECBPLUS_LINES = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_env(**extra: str) -> Dict[str, str]:
    """This environment with the venv's ``bin`` first on PATH (Beam's worker pool starts a bare ``python``)."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


@contextlib.contextmanager
def services(specs: Sequence[Sequence[str]], logs: Path, env=None, cwd=None):
    """Start each command (its output in ``logs/<n>.log``); yield the Popen objects; stop them all on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    procs: List[subprocess.Popen] = []
    try:
        for n, cmd in enumerate(specs):
            with open(logs / f"{n}.log", "wb") as log:
                procs.append(subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT, env=env or venv_env(),
                                              cwd=cwd, start_new_session=True))
        yield procs
    finally:
        for proc in procs:  # all asked at once, then each waited for
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(procs):
            stop(proc)


def stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the process group the service leads, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)


def wait_for_port(port: int, procs: Sequence[subprocess.Popen], logs: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a service exited with {dead[0].returncode}; logs:\n{log_tail(logs)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s; logs:\n{log_tail(logs)}")


def log_tail(logs: Path, chars: int = 3000) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in sorted(logs.glob("*.log")))


def small_inputs(tmp: Path, ecbplus: bool = True) -> List[str]:
    """The seeds (wiredesk's default input) and, with ``ecbplus``, the first ECB+ lines when the shared data is
    there.

    Absolute paths: the workers of a remote runner do not run in this directory.
    """
    from wiredesk.pipeline.options import default_input

    paths = [default_input()]
    # a story, its exact copy, a trimmed republication and another story: duplicates without the shared data
    body = ("The harbour authority closed the northern pier on Tuesday after inspectors found cracks in two of its "
            "concrete supports, a spokeswoman said. Ferries to the islands will leave from the southern terminal "
            "until repairs are finished, which engineers expect to take at least three weeks. The pier, built in "
            "1968, carries about four thousand passengers a day in summer. Officials said no one was hurt and that "
            "the cracks were found during a routine survey ordered after last winter's storms.")
    other = ("The city library will open on Sundays from next month, the council announced, after a survey found "
             "that most residents wanted longer hours. The extra day will be paid for by closing two small branches "
             "that lend fewer than a hundred books a week, a decision that drew protests from neighbourhood groups.")
    records = [
        {"id": "pier-1", "source": "Harbour Daily", "headline": "Northern pier closed after cracks found", "body": body,
         "published_at": "2024-05-07T09:00:00Z"},
        {"id": "pier-1-copy", "source": "Coast Wire", "headline": "Northern pier closed after cracks found",
         "body": body, "published_at": "2024-05-07T09:30:00Z"},
        {"id": "pier-1-trim", "source": "Island News", "headline": "Pier shut",
         "body": body.rsplit(" Officials said", 1)[0], "published_at": "2024-05-07T10:00:00Z"},
        {"id": "library-1", "source": "Harbour Daily", "headline": "Library to open on Sundays", "body": other,
         "published_at": "2024-05-07T11:00:00Z"},
    ]
    copies = tmp / "copies.jsonl"
    copies.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    paths.append(str(copies))
    if ecbplus and ECBPLUS.exists():
        sample = tmp / "ecbplus_sample.jsonl"
        with ECBPLUS.open(encoding="utf-8") as src:
            sample.write_text("".join(line for _, line in zip(range(ECBPLUS_LINES), src)), encoding="utf-8")
        paths.append(str(sample))
    return paths


def run_wiredesk(inputs: Sequence[str], output: Path, *beam_args: str, env=None, timeout: float = 600,
                 memory_limit: Optional[int] = None):
    """``wiredesk run`` in its own process; returns the CompletedProcess (check returncode).

    ``memory_limit``: bytes of address space the process may take (``RLIMIT_AS``), so that a run that needs far
    too much fails with a MemoryError instead of bringing the machine's OOM killer down on it and its neighbours.
    """
    cmd = [str(VENV_BIN / "wiredesk"), "run", "--quiet", "--input", *inputs, "--output", str(output), *beam_args]

    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    return subprocess.run(cmd, capture_output=True, text=True, env=env or venv_env(), cwd=REPO, timeout=timeout,
                          preexec_fn=limit if memory_limit else None)


#: Columns that may differ between two runs of the same input (none in schema 1: ``ingested_at`` is the input
#: file's modification time, and ``origin`` its path).
RUN_COLUMNS = {"run_id", "run_started_at"}


def table_rows(output: Path) -> Dict[str, List[str]]:
    """Every table's rows (run-specific columns dropped), each as a sorted list of reprs."""
    from wiredesk.pipeline.build import TABLE_NAMES

    found = {}
    for table in TABLE_NAMES:
        if not (output / table).exists():
            found[table] = []
            continue
        rows = read_table(output, table).to_pylist()
        found[table] = sorted(repr(sorted((k, v) for k, v in row.items() if k not in RUN_COLUMNS)) for row in rows)
    return found


def assert_same_rows(got: Dict[str, List[str]], want: Dict[str, List[str]]) -> None:
    assert sorted(got) == sorted(want)
    for table in want:
        assert len(got[table]) == len(want[table]), (table, len(got[table]), len(want[table]))
        assert got[table] == want[table], table
