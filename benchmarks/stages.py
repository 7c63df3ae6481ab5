"""Where a ``wiredesk run`` spends its time on the DirectRunner: every fused stage, timed.

    python -m benchmarks.stages [--min-seconds S] [--top N] -- run --input corpus.jsonl --output /tmp/out

runs ``wiredesk`` in this process with the arguments after ``--`` and prints, when the run has ended, one
line per stage the FnApiRunner executed (its start and its seconds from the first stage, and the wiredesk
steps fused into it), then the stages grouped by their first step, the time before the first stage (imports,
pipeline construction, translation) and after the last (workers shutting down, the summary). Stages shorter
than ``--min-seconds`` are counted, not listed.

How: ``FnApiRunner._execute_bundle`` (Beam's bundle loop, one call per stage) is wrapped to time each call;
nothing else changes, so the run's outputs are those of ``wiredesk run``. With ``--direct_num_workers`` (the
CLI's default for inputs of 1 MB or more) a stage's time is the slowest of its worker bundles. This is how the
2,000-article overhead was located (README: "Measured after the shuffle cut").

Memory: a thread samples the resident memory of this process group (the run and its worker processes) every
``--sample-seconds``; each stage line shows the highest total seen while it ran and the highest of this process
alone, the runner, which holds every shuffle's data between stages ("MB all/own").
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import threading
import time
from collections import defaultdict
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

_STEP = re.compile(r"AppliedPTransform_([A-Za-z0-9\-\[\]_]+?)_\d+\)")
_READ = re.compile(r"\(+([^()+][^+]*?)/Read\)")


class StageTime(NamedTuple):
    name: str
    started: float
    seconds: float


def steps_of(stage_name: str, depth: int = 3) -> List[str]:
    """The wiredesk steps fused into a stage, from the FnApiRunner's stage name, each cut to ``depth`` parts
    ("Events-Rescore-ScoreBlock"), in order, once each."""
    found = _STEP.findall(stage_name) or _READ.findall(stage_name)
    out: List[str] = []
    for step in found:
        short = "-".join(step.replace("/", "-").split("-")[:depth])
        if short not in out:
            out.append(short)
    return out


def group_by_step(stages: Sequence[StageTime]) -> Dict[str, List[float]]:
    """First step of each stage ("Events-Cluster") -> the seconds of its stages."""
    groups: Dict[str, List[float]] = defaultdict(list)
    for s in stages:
        first = (steps_of(s.name, 2) or ["?"])[0]
        groups[first].append(s.seconds)
    return dict(groups)


class MemorySampler:
    """Resident MB of a process group, sampled on a thread: ``(time, MB)`` pairs in ``samples``."""

    def __init__(self, pgid: int, every: float):
        self.pgid, self.every = pgid, every
        self.samples: List[Tuple[float, int]] = []
        #: This process's own resident MB at each sample.
        self.driver: List[Tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self):
        from benchmarks.supervise import _group_usage
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), _group_usage(self.pgid)[1]))
            self.driver.append((self.samples[-1][0], _own_rss_mb()))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _own_rss_mb() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // (1 << 20)


def peak_between(samples: Sequence[Tuple[float, int]], start: float, end: float) -> Optional[int]:
    """The highest sample in [start, end] (or the last one before start if none fell inside)."""
    inside = [mb for t, mb in samples if start <= t <= end]
    if inside:
        return max(inside)
    before = [mb for t, mb in samples if t < start]
    return before[-1] if before else None


def format_report(stages: Sequence[StageTime], started: float, ended: float, min_seconds: float,
                  top: int, samples: Sequence[Tuple[float, int]] = (),
                  driver: Sequence[Tuple[float, int]] = ()) -> str:
    if not stages:
        return "no FnApiRunner stage ran (another runner?)"
    t0 = stages[0].started
    last = max(s.started + s.seconds for s in stages)
    lines = [f"{len(stages)} stages, {sum(s.seconds for s in stages):.2f} s in stages; first stage "
             f"{t0 - started:.2f} s after start, last ends {last - started:.2f} s, exit {ended - started:.2f} s"
             + (f"; peak {max(mb for _, mb in samples)} MB resident (all processes)" if samples else "")
             + (f", {max(mb for _, mb in driver)} MB in this one (the runner)" if driver else ""),
             "", f"{'start':>7} {'seconds':>7} {'MB all/own':>11}  steps"]
    small = [s for s in stages if s.seconds < min_seconds]
    for s in stages:
        if s.seconds >= min_seconds:
            steps = steps_of(s.name)
            shown = ", ".join(steps[:4]) + (f" (+{len(steps) - 4} more)" if len(steps) > 4 else "")
            peak = peak_between(samples, s.started, s.started + s.seconds)
            own = peak_between(driver, s.started, s.started + s.seconds)
            mem = "" if peak is None else f"{peak}/{own}"
            lines.append(f"{s.started - t0:7.2f} {s.seconds:7.2f} {mem:>11}  "
                         f"{shown or s.name[:100]}")
    lines.append(f"        {sum(s.seconds for s in small):7.2f} {'':11}  {len(small)} stages under {min_seconds} s")
    lines += ["", f"{'stages':>6} {'seconds':>7}  first step"]
    groups = sorted(group_by_step(stages).items(), key=lambda kv: -sum(kv[1]))
    for step, secs in groups[:top]:
        lines.append(f"{len(secs):6d} {sum(secs):7.2f}  {step}")
    return "\n".join(lines)


def main(argv: Sequence[str] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("usage: python -m benchmarks.stages [--min-seconds S] [--top N] -- run --input ... --output ...",
              file=sys.stderr)
        return 2
    cut = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stages")
    parser.add_argument("--min-seconds", type=float, default=0.1)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--sample-seconds", type=float, default=0.25,
                        help="how often to sample resident memory (0: not at all)")
    args = parser.parse_args(argv[:cut])

    from apache_beam.runners.portability.fn_api_runner import fn_runner

    from wiredesk.pipeline.cli import main as wiredesk_main

    stages: List[StageTime] = []
    original = fn_runner.FnApiRunner._execute_bundle

    def timed(self, context, bundle_context_manager, bundle_input):
        t = time.perf_counter()
        try:
            return original(self, context, bundle_context_manager, bundle_input)
        finally:
            stages.append(StageTime(bundle_context_manager.stage.name, t, time.perf_counter() - t))

    started = time.perf_counter()
    fn_runner.FnApiRunner._execute_bundle = timed
    sampler = MemorySampler(os.getpgid(0), args.sample_seconds)
    try:
        with sampler if args.sample_seconds > 0 else contextlib.nullcontext():
            code = wiredesk_main(argv[cut + 1:])
    finally:
        fn_runner.FnApiRunner._execute_bundle = original
    print(format_report(stages, started, time.perf_counter(), args.min_seconds, args.top,
                        sampler.samples, sampler.driver), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
