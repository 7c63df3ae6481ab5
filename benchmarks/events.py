"""Event grouping: quality next to a TF-IDF baseline, and the speed goal.

``python -m benchmarks.events [--docs N] [--skip-quality] [--skip-speed]
[--repeat R] [--seed S] [--data DIR] [--workdir DIR] [--keep] [--timeout S]
[--stall S] [--max-rss-mb MB]``

Run it from the repository root with the project's venv
(``.venv/bin/python -m benchmarks.events``). This module is the command line;
the parts live beside it, each documented in its own docstring:

* ``benchmarks.supervise``: runs the real ``wiredesk run`` as a guarded,
  timed subprocess (killed when it fails, hangs, runs too long or holds too
  much memory) and records the code the runs used;
* ``benchmarks.datasets``: the labelled sets (ECB+, UCI headlines, the seeds)
  and their time-stress variants;
* ``benchmarks.baseline``: the TF-IDF average-link baseline;
* ``benchmarks.quality``: wiredesk and the baseline scored on those sets;
* ``benchmarks.corpus``: the seeded corpus of real text for the speed goal;
* ``benchmarks.speed``: ``wiredesk run`` timed against spaCy NER alone.

The last line printed is one JSON object with every number, plus the commit
and the uncommitted files the runs used (``code``): the CLI runs the working
tree.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

from benchmarks.datasets import DEFAULT_DATA
from benchmarks.quality import format_quality, quality
from benchmarks.speed import format_speed, ner_worker, speed
from benchmarks.supervise import code_state, loadavg, memory_limit_mb


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.events", description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000, help="base corpus size N (also runs 4N); default 2000")
    ap.add_argument("--skip-quality", action="store_true", help="skip the labelled sets")
    ap.add_argument("--skip-speed", action="store_true", help="skip the speed goal")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per measurement, minimum used (default 1)")
    ap.add_argument("--seed", type=int, default=20240304, help="corpus seed")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="the shared data directory")
    ap.add_argument("--workdir", default=None, help="where corpora and outputs go (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--timeout", type=float, default=3600,
                    help="kill a wiredesk run after this many seconds (default 3600)")
    ap.add_argument("--stall", type=float, default=300,
                    help="kill a wiredesk run whose processes used under 10%% of a core over this many seconds "
                         "(a hung run; default 300, 0 = never)")
    ap.add_argument("--max-rss-mb", type=int, default=memory_limit_mb(),
                    help="kill a wiredesk run whose processes together hold more resident memory than this "
                         "(default: 70%% of RAM, %(default)s MB here; 0 = no limit)")
    ap.add_argument("--ner-worker", metavar="CORPUS", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.ner_worker:
        ner_worker(args.ner_worker, args.model)
        return 0

    data = Path(args.data)
    workdir = args.workdir or tempfile.mkdtemp(prefix="wiredesk-bench-events-")
    os.makedirs(workdir, exist_ok=True)
    guards = (args.timeout, args.stall or None, args.max_rss_mb or None)
    result: Dict[str, object] = {"cpus": os.cpu_count(), "loadavg_start": loadavg(), "code": code_state()}
    try:
        if not args.skip_quality:
            q = quality(data, workdir, *guards)
            print(format_quality(q))
            print()
            result["quality"] = q
        if not args.skip_speed:
            s = speed(data, workdir, args.docs, args.seed, args.repeat, *guards)
            print(format_speed(s))
            print()
            result["speed"] = s
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    result["loadavg_end"] = loadavg()
    if args.keep or args.workdir:
        result["workdir"] = workdir
    print(json.dumps(result, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
