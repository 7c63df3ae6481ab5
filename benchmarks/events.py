"""Event grouping (issue 10): quality next to the TF-IDF anchors, leave-one-set-out, and the speed goals.

``python -m benchmarks.events [--sizes 2000,8000] [--ner-all] [--skip-quality]
[--skip-loso] [--skip-speed] [--stress] [--repeat R] [--seed S] [--data DIR]
[--workdir DIR] [--keep] [--timeout S] [--stall S] [--max-rss-mb MB]``

Run it from the repository root with the project's venv
(``.venv/bin/python -m benchmarks.events``). This module is the command line;
the parts live beside it, each documented in its own docstring:

* ``benchmarks.supervise``: runs the real ``wiredesk run`` as a guarded,
  timed subprocess (killed when it fails, hangs, runs too long or holds too
  much memory) and records the code the runs used;
* ``benchmarks.datasets``: the labelled sets (ECB+, UCI headlines, GVC,
  NewsWCL50, the seeds) and their time-stress variants (``--stress``);
* ``benchmarks.baseline``: the TF-IDF average-link anchors (fixed 0.85, and
  each set's best threshold);
* ``benchmarks.quality``: wiredesk and the anchors on those sets, one table,
  and the goal checks;
* ``benchmarks.loso``: leave-one-set-out over a 27-config grid, from the
  quality runs' outputs;
* ``benchmarks.corpus``: the seeded corpus of real text for the speed goals;
* ``benchmarks.speed``: ``wiredesk run`` timed against spaCy NER alone, with
  peak memory.

Printed in that order: the quality table and its goals, the LOSO rows, the
speed table and its goals. The last line printed is one JSON object with every
number, plus the commit and the uncommitted files the runs used (``code``):
the CLI runs the working tree.
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
from benchmarks.quality import WIREDESK, format_quality, quality
from benchmarks.speed import DEFAULT_SIZES, format_speed, ner_worker, speed
from benchmarks.supervise import code_state, loadavg, memory_limit_mb


def _sizes(text: str):
    sizes = [int(x) for x in text.split(",") if x.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers, e.g. 2000,8000")
    return sizes


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.events", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=_sizes, default=list(DEFAULT_SIZES),
                    help="corpus sizes of the speed part, comma-separated (default 2000,8000; "
                         "32000 and 100000 accepted)")
    ap.add_argument("--ner-all", action="store_true", help="time spaCy NER alone at every size, not just the first")
    ap.add_argument("--skip-quality", action="store_true", help="skip the labelled sets (and LOSO)")
    ap.add_argument("--skip-loso", action="store_true", help="skip the leave-one-set-out grid")
    ap.add_argument("--skip-speed", action="store_true", help="skip the speed goals")
    ap.add_argument("--stress", action="store_true", help="add the time-stress rows (sets with their times changed)")
    ap.add_argument("--processes", type=int, default=2, help="processes of the LOSO grid (default 2)")
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
            q = quality(data, workdir, *guards, stress=args.stress)
            print(format_quality(q))
            print(flush=True)
            result["quality"] = q
            if not args.skip_loso:
                from benchmarks.loso import format_loso, loso

                outputs = {n: d for n, d in q["outputs"].items() if n != "seeds"}
                if len(outputs) >= 2:
                    gold_paths = {n: str(data / n / "gold.jsonl") for n in outputs}
                    run_f1 = {n: q["sets"][n][WIREDESK]["bcubed_f1"] for n in outputs}
                    r = loso(outputs, gold_paths, args.processes, run_f1)
                    r.pop("scores")   # the F1 of every cell stays in "f1"
                    print(format_loso(r))
                    print(flush=True)
                    result["loso"] = r
                else:
                    print("leave-one-set-out: skipped (fewer than two labelled sets ran)\n", flush=True)
        if not args.skip_speed:
            s = speed(data, workdir, args.sizes, args.seed, args.repeat, *guards, ner_all=args.ner_all)
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
