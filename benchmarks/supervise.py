"""Running and guarding the child processes the events benchmark times.

Every wiredesk number comes from the real command, ``wiredesk run --input ...
--output TMPDIR`` with default options, run as a subprocess and timed
wall-clock (so it includes interpreter start, Beam start-up, worker
processes, spaCy load and the Parquet writes). The machine may be shared, so a
child runs in its own process group and is killed with its Beam workers when
it exits with an error, runs past ``timeout`` seconds, hangs (its processes
together use under ``STALL_CPU_SHARE`` of a core over ``stall`` seconds) or
holds more than ``max_rss_mb`` of memory; it is then reported as failed with
the tail of its log (warnings and errors), and a goal that depends on it is
not met. Each run also reports its peak resident memory (all its processes)
and Beam's warnings about oversized data-plane buffers and bundles waiting on
input. ``code_state`` records the commit and the uncommitted files the runs
used: the CLI runs the working tree.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parent.parent

#: A run whose processes together use less than this share of one core over
#: the ``stall`` window is hung (a hung DirectRunner still spins its gRPC
#: threads at a few percent).
STALL_CPU_SHARE = 0.1


def progress(message: str) -> None:
    """A ``# ...`` progress line on stderr (stdout holds the results)."""
    print(f"# {message}", file=sys.stderr, flush=True)


def wiredesk_command() -> List[str]:
    exe = Path(sys.executable).parent / "wiredesk"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("wiredesk")
    if found:
        return [found]
    return [sys.executable, "-m", "wiredesk.pipeline.cli"]


def loadavg() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def memory_limit_mb(share: float = 0.7) -> Optional[int]:
    """``share`` of the machine's RAM, in MB (None when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * share) >> 20
    except (ValueError, OSError, AttributeError):
        return None


def _group_stats(pgid: int) -> Iterator[List[str]]:
    """The /proc/PID/stat fields after the command name (the first is the
    state, the third the process group) of every process in group ``pgid``
    (Linux /proc; nothing elsewhere)."""
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            yield fields


def _group_usage(pgid: int) -> Tuple[float, int]:
    """CPU seconds and resident MB of the live processes in process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    cpu, rss = 0.0, 0
    for fields in _group_stats(pgid):
        cpu += (int(fields[11]) + int(fields[12])) / tick
        rss += int(fields[21]) * page
    return cpu, rss // (1 << 20)


def _group_alive(pgid: int) -> bool:
    """Whether process group ``pgid`` has a live (not zombie) process."""
    return any(fields[0] != "Z" for fields in _group_stats(pgid))


def _kill_group(pgid: int) -> None:
    """SIGTERM the process group (the run and its Beam workers), SIGKILL
    what is left after 10 s."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        time.sleep(0.1)
        if not _group_alive(pgid):
            return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def timed_subprocess(cmd: Sequence[str], timeout: Optional[float] = None,
                     stall: Optional[float] = None, max_rss_mb: Optional[int] = None) -> Dict[str, object]:
    """Run ``cmd`` in its own process group; wall seconds, CPU seconds of it
    and its waited-for descendants (the Beam workers), peak resident MB of the
    group, exit code and output. The group is killed after ``timeout``
    seconds, when it used less than STALL_CPU_SHARE of a core over the last
    ``stall`` seconds (a hung run), or when its processes together hold more
    than ``max_rss_mb`` (to spare a shared machine); ``outcome`` says which."""
    load = loadavg()
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, cwd=str(REPO), start_new_session=True)
    outcome, peak_mb, history = "ok", 0, []
    last_poll = 0.0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.perf_counter() - t0
        if now - last_poll >= 5:
            last_poll = now
            cpu, rss = _group_usage(proc.pid)
            peak_mb = max(peak_mb, rss)
            history.append((now, cpu))
            while stall and len(history) > 1 and history[1][0] <= now - stall:
                history.pop(0)
            if stall and history[0][0] <= now - stall and cpu - history[0][1] < STALL_CPU_SHARE * stall:
                outcome = (f"stalled: {cpu - history[0][1]:.1f} CPU seconds in the last {stall:.0f} s "
                           f"(killed after {now:.0f} s)")
            elif max_rss_mb and rss > max_rss_mb:
                outcome = f"memory: {rss} MB resident > {max_rss_mb} MB (killed after {now:.0f} s)"
            elif timeout and now > timeout:
                outcome = f"timeout: killed after {now:.0f} s"
            if outcome != "ok":
                wall = now
                _kill_group(proc.pid)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
        time.sleep(0.05)
    if outcome == "ok":
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if outcome == "ok" and proc.returncode != 0:
        outcome = f"exit code {proc.returncode}"
    out.seek(0)
    err.seek(0)
    return {"seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime, "returncode": proc.returncode,
            "outcome": outcome, "peak_rss_mb": peak_mb,
            "stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace"),
            "loadavg_before": load}


_BIG_BUFFER = re.compile(r"Data output stream buffer size (\d+) exceeds")
_WAITING = re.compile(r"Waiting on input queue of instruction: (\S+) for ([\d.]+) seconds")
#: Beam's INFO chatter and its start-up warnings say nothing about a failure.
_NOISE = ("Resource module is not available", "semi_persistent_directory", "Discarding unparseable args")


def beam_warnings(stderr: str) -> Dict[str, object]:
    """Signs of trouble in Beam's log: oversized elements on the data plane,
    bundles waiting for their input."""
    sizes = [int(m) for m in _BIG_BUFFER.findall(stderr)]
    waits = _WAITING.findall(stderr)
    return {"oversized_output_buffers": len(sizes), "largest_output_buffer_mb": max(sizes) >> 20 if sizes else 0,
            "input_queue_waits": len(waits)}


def run_wiredesk(inputs: Sequence[str], outdir: str, timeout: Optional[float] = None,
                 stall: Optional[float] = None, max_rss_mb: Optional[int] = None,
                 extra: Sequence[str] = ()) -> Dict[str, object]:
    """``wiredesk run --input ... --output outdir`` with default options (plus
    ``extra``). A failed run is returned with ``ok`` false and the tail of its
    stderr."""
    if os.path.exists(outdir):
        shutil.rmtree(outdir)
    res = timed_subprocess(wiredesk_command() + ["run", "--input", *inputs, "--output", outdir, *extra], timeout,
                           stall, max_rss_mb)
    found = {"ok": res["outcome"] == "ok", "outcome": res["outcome"], "seconds": res["seconds"],
             "cpu_seconds": res["cpu_seconds"], "peak_rss_mb": res["peak_rss_mb"],
             "loadavg_before": res["loadavg_before"], "beam": beam_warnings(str(res["stderr"]))}
    if not found["ok"]:
        lines = [ln for ln in str(res["stderr"]).splitlines()
                 if ln.strip() and not ln.startswith("INFO:") and not any(n in ln for n in _NOISE)]
        found["stderr_tail"] = "\n".join(ln[:240] for ln in lines[-10:])
        return found
    with open(os.path.join(outdir, "_manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    options = manifest.get("options", {})
    found.update(counts=manifest["counts"], balanced=manifest["balanced"],
                 workers=options.get("direct_num_workers", 1),
                 running_mode=options.get("direct_running_mode", "in_memory"))
    return found


def code_state() -> Dict[str, object]:
    """The commit and the uncommitted files the runs used (read-only git)."""
    def git(*args):
        try:
            return subprocess.run(["git", "--no-optional-locks", *args], cwd=str(REPO), capture_output=True,
                                  text=True, timeout=30).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""
    dirty = [ln[3:] for ln in git("status", "--porcelain", "--untracked-files=no").splitlines() if ln.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": dirty}
