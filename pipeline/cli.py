"""The ``wiredesk`` command.

    wiredesk run [--input PATH ...] [--output DIR] [--quiet | --verbose] [--progress_interval S] [any Beam option]
    wiredesk evaluate --gold GOLD.jsonl [--output DIR ...]
    wiredesk report OUTPUT_DIR [--html FILE]
    wiredesk compact TABLE_ROOT [--expire_older_than_hours H] [--orphan_older_than_hours H]
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from wiredesk.pipeline import __version__


def format_summary(result) -> str:
    m = result.manifest
    c = m["counts"]
    lines = [
        f"wiredesk run {m['run_id']} -> {result.output}",
        f"  records read  {c['records_read']:>8}",
        f"  articles      {c['articles']:>8}",
        f"  rejects       {c['rejects']:>8}  (read {c['rejects_by_stage']['read']}, "
        f"normalize {c['rejects_by_stage']['normalize']})",
        f"  superseded    {c['superseded']:>8}",
        f"  duplicates    {c['duplicates']:>8}  (copies pointing to a canonical article)",
        f"  events        {c['events']:>8}",
        f"  balanced      {'yes' if m['balanced'] else 'NO: records were lost, please report this'}",
    ]
    if result.metrics:
        lines.append("  counters:")
        lines.extend(f"    {name} = {value}" for name, value in result.metrics.items())
    return "\n".join(lines)


#: ``wiredesk run``'s own flags, taken out before the rest goes to Beam.
RUN_FLAGS_HELP = """wiredesk run: what it prints
  --quiet, -q           no progress lines and no warnings: stderr shows errors only; the summary still goes to stdout
  --verbose, -v         show every log line, Apache Beam's and the libraries' included (hidden by default)
  --progress_interval S seconds between progress lines on stderr (default 5, or $WIREDESK_PROGRESS_INTERVAL)
"""


def run_flags(rest: Sequence[str]):
    """(verbosity, progress interval or None, the arguments left for Beam) from ``wiredesk run``'s arguments."""
    from wiredesk.pipeline import logs

    verbosity, interval, left = logs.NORMAL, None, []
    args = list(rest)
    while args:
        arg = args.pop(0)
        if arg in ("--quiet", "-q"):
            verbosity = logs.QUIET
        elif arg in ("--verbose", "-v"):
            verbosity = logs.VERBOSE
        elif arg == "--progress_interval" and args:
            interval = args.pop(0)
        elif arg.startswith("--progress_interval="):
            interval = arg.split("=", 1)[1]
        else:
            left.append(arg)
    return verbosity, interval, left


def main(argv: Optional[Sequence[str]] = None) -> int:
    from wiredesk.pipeline import logs

    logs.configure(logs.NORMAL)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="wiredesk", description="News wire stories in; clean, deduplicated, event-grouped Parquet out.")
    parser.add_argument("--version", action="version", version=f"wiredesk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", add_help=False,
                   help="run the pipeline: --input PATH ... --output DIR, plus any Beam option")
    ev = sub.add_parser("evaluate", help="score a run's events against gold {\"id\", \"event\"} lines")
    ev.add_argument("--gold", required=True, help="JSON lines of {\"id\": ARTICLE_ID, \"event\": LABEL}")
    ev.add_argument("--output", nargs="+", default=["output"],
                    help="the run's output directory (default ./output), or several: the batches of runs with one "
                         "--state, scored together")
    ev.add_argument("--json", action="store_true", help="print only the scores as one JSON object")
    rep = sub.add_parser("report", help="write one self-contained HTML page of a run's events, stories and rejects")
    rep.add_argument("output_dir", metavar="OUTPUT_DIR", help="the run's output directory")
    rep.add_argument("--html", metavar="FILE", help="where to write the page (default OUTPUT_DIR/report.html)")
    com = sub.add_parser("compact", help="compact a --table_root's tables, expire old snapshots, remove "
                         "unreferenced files (through pyiceberg)")
    com.add_argument("table_root", metavar="TABLE_ROOT", help="the table root (`wiredesk run --table_root`)")
    com.add_argument("--expire_older_than_hours", type=float, default=7 * 24,
                     help="expire snapshots older than this (default 168: a week of time travel); the current "
                          "snapshot is always kept")
    com.add_argument("--orphan_older_than_hours", type=float, default=24,
                     help="delete files no snapshot references once older than this (default 24), so a run "
                          "still writing is never touched")
    if not argv or argv[0] in ("-h", "--help", "--version"):
        parser.parse_args(argv)
    command, rest = argv[0], argv[1:]
    if command == "run":
        if "-h" in rest or "--help" in rest:
            from wiredesk.pipeline.options import WiredeskOptions
            print(RUN_FLAGS_HELP)
            WiredeskOptions(["--help"])
        verbosity, interval, rest = run_flags(rest)
        logs.configure(verbosity)
        from wiredesk.pipeline.progress import Progress, interval_from
        from wiredesk.pipeline.run import IncompleteOutputError, InputError, run
        try:
            seconds = interval_from(interval)
        except ValueError as exc:
            print(f"wiredesk: --progress_interval: {exc}", file=sys.stderr)
            return 2
        try:
            with logs.CaptureStderr(enabled=verbosity < logs.VERBOSE) as console:
                progress = Progress(console, seconds) if verbosity > logs.QUIET else None
                result = run(rest, progress=progress)
        except InputError as exc:
            print(f"wiredesk: {exc}", file=sys.stderr)
            return 2
        except IncompleteOutputError as exc:
            print(f"wiredesk: {exc}", file=sys.stderr)
            return 1
        print(format_summary(result))
        return 0 if result.manifest["balanced"] else 1
    args = parser.parse_args(argv)
    if args.command == "evaluate":
        import json

        from wiredesk.pipeline.evaluate import GoldError, evaluate, format_scores
        try:
            scores = evaluate(args.gold, args.output if len(args.output) > 1 else args.output[0])
        except (GoldError, FileNotFoundError, OSError) as exc:
            print(f"wiredesk: {exc}", file=sys.stderr)
            return 2
        if not args.json:
            print(format_scores(scores))
        print(json.dumps(scores, sort_keys=True))
        return 0
    if args.command == "report":
        return report(args.output_dir, args.html)
    if args.command == "compact":
        from wiredesk.pipeline.compact import compact, format_compact
        from wiredesk.pipeline.table_root import TableRootError
        try:
            summary = compact(args.table_root, args.expire_older_than_hours, args.orphan_older_than_hours)
        except TableRootError as exc:
            print(f"wiredesk: {exc}", file=sys.stderr)
            return 2
        print(format_compact(args.table_root, summary))
        return 0
    return 2


def report(output: str, html: Optional[str] = None) -> int:
    """``wiredesk report``: 2 when OUTPUT_DIR holds no wiredesk run."""
    import os

    if not any(os.path.exists(os.path.join(output, name)) for name in ("_manifest.json", "articles", "events")):
        print(f"wiredesk: {output} is not a wiredesk output (no _manifest.json, articles/ or events/)", file=sys.stderr)
        return 2
    from wiredesk.pipeline.report import write_report
    try:
        path = write_report(output, html)
    except (OSError, ValueError) as exc:  # ValueError: pyarrow's ArrowInvalid, a file that is not Parquet
        print(f"wiredesk: {exc}", file=sys.stderr)
        return 2
    print(f"wiredesk report -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
