"""Event quality of ``wiredesk run`` on the labelled sets, next to the TF-IDF baseline.

For each labelled set (``benchmarks.datasets``) it runs wiredesk (a
subprocess, default options, ``benchmarks.supervise``) and scores
``DIR/articles.event_id`` with ``wiredesk.pipeline.evaluate.evaluate`` (what
``wiredesk evaluate`` prints), then scores ``benchmarks.baseline`` on the same
records. Sets with publication times are also run with
``--event_burst_boost 0`` (``burst off``), and the ``TIME_STRESS`` rows rerun a
set with its times changed, to show what the times bring.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Dict, Optional

from benchmarks.baseline import baseline, thresholds
from benchmarks.datasets import TIME_STRESS, quality_sets, write_jsonl
from benchmarks.supervise import progress, run_wiredesk

SCORE_KEYS = ("bcubed_precision", "bcubed_recall", "bcubed_f1", "pairwise_precision", "pairwise_recall",
              "pairwise_f1", "ari", "nmi", "pred_events", "pred_singletons", "gold_events", "articles_scored",
              "gold_only", "pred_only")


def quality(data: Path, workdir: str, timeout: Optional[float] = None, stall: Optional[float] = None,
            max_rss_mb: Optional[int] = None) -> Dict[str, Dict[str, dict]]:
    """{set: {method: row}}: wiredesk's variants, then the baseline's thresholds."""
    from wiredesk.pipeline.evaluate import evaluate

    results: Dict[str, Dict[str, dict]] = {}
    for name, inputs, gold_path, arts, gold in quality_sets(data):
        progress(f"quality: {name} ({len(arts)} records)")
        if gold_path is None:
            gold_path = os.path.join(workdir, f"gold-{name}.jsonl")
            write_jsonl(gold_path, [{"id": i, "event": e} for i, e in gold.items()])
        per_set: Dict[str, dict] = {}
        variants = [("wiredesk", inputs, [])]
        if any(a.get("published_at") for a in arts):
            # what the publication times bring: the same run with the burst boost off
            variants.append(("wiredesk, burst off", inputs, ["--event_burst_boost", "0"]))
        for label, change in TIME_STRESS.get(name, []):
            path = os.path.join(workdir, f"{name}-{change.__name__.strip('_')}.jsonl")
            write_jsonl(path, change(arts))
            variants.append((f"wiredesk, {label}", [path], []))
        for method, run_inputs, extra in variants:
            outdir = os.path.join(workdir, f"quality-{name}")
            run = run_wiredesk(run_inputs, outdir, timeout, stall, max_rss_mb, extra)
            row: Dict[str, object] = {}
            if run["ok"]:
                scores = evaluate(gold_path, outdir)
                row = {k: scores[k] for k in SCORE_KEYS}
                row.update(workers=run["workers"], duplicates=run["counts"]["duplicates"])
            else:
                row.update(error=run["outcome"], stderr_tail=run["stderr_tail"])
            row.update(seconds=round(run["seconds"], 2), cpu_seconds=round(run["cpu_seconds"], 2),
                       peak_rss_mb=run["peak_rss_mb"], loadavg_before=run["loadavg_before"], beam=run["beam"])
            per_set[method] = row
            shutil.rmtree(outdir, ignore_errors=True)
        for method, t in thresholds(name):
            scores, seconds = baseline(arts, gold, t)
            brow = {k: scores[k] for k in SCORE_KEYS}
            brow.update(seconds=round(seconds, 2), threshold=t)
            per_set[method] = brow
        results[name] = per_set
    return results


def format_quality(results: Dict[str, Dict[str, dict]]) -> str:
    head = (f"{'set':20} {'method':34} {'B3 P':>6} {'B3 R':>6} {'B3 F1':>6} {'pw F1':>6} {'ARI':>6} "
            f"{'NMI':>6} {'events':>14} {'seconds':>8}")
    lines = [head, "-" * len(head)]
    for name, methods in results.items():
        for method, r in methods.items():
            if "error" in r:
                lines.append(f"{name:20} {method:34} FAILED after {r['seconds']:.0f} s: {r['error']}")
                continue
            events = f"{r['pred_events']} / {r['gold_events']}"
            lines.append(f"{name:20} {method:34} {r['bcubed_precision']:6.3f} {r['bcubed_recall']:6.3f} "
                         f"{r['bcubed_f1']:6.3f} {r['pairwise_f1']:6.3f} {r['ari']:6.3f} {r['nmi']:6.3f} "
                         f"{events:>14} {r['seconds']:8.2f}")
    lines.append("events = predicted / gold. wiredesk seconds: whole CLI run, wall clock (incl. start-up, "
                 "spaCy load, Parquet). tfidf seconds: vectorize + distances + clustering in-process.")
    return "\n".join(lines)
