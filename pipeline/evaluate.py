"""``wiredesk evaluate``: score a run's events against gold event labels.

Gold is JSON lines of ``{"id": ARTICLE_ID, "event": LABEL}``; the run's
prediction is ``event_id`` of every article in ``DIR/articles``.
"""
from __future__ import annotations

import json
from typing import Dict

import pyarrow.dataset as ds
from apache_beam.io.filesystems import FileSystems

from wiredesk.pipeline import metrics as event_metrics


class GoldError(ValueError):
    """The gold file cannot be used; the message says where and why."""


def load_gold(path: str) -> Dict[str, str]:
    gold: Dict[str, str] = {}
    with FileSystems.open(path) as fh:
        for number, line in enumerate(fh.read().decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                gold[str(row["id"])] = str(row["event"])
            except (ValueError, KeyError, TypeError) as exc:
                raise GoldError(f"{path} line {number}: expected {{\"id\": ..., \"event\": ...}}: {exc}") from None
    if not gold:
        raise GoldError(f"{path}: no gold lines")
    return gold


def load_events(output: str) -> Dict[str, str]:
    """article_id -> event_id of a finished run."""
    table = ds.dataset(f"{output.rstrip('/')}/articles", format="parquet", partitioning="hive").to_table(
        columns=["article_id", "event_id"])
    return {a: e for a, e in zip(table.column("article_id").to_pylist(), table.column("event_id").to_pylist())
            if e is not None}


def evaluate(gold_path: str, output: str) -> Dict[str, object]:
    return event_metrics.evaluate(load_events(output), load_gold(gold_path))


def format_scores(scores: Dict[str, object]) -> str:
    rows = [
        ("B-cubed", "bcubed"), ("pairwise", "pairwise"),
    ]
    lines = [f"{'':10}{'precision':>11}{'recall':>9}{'F1':>8}"]
    for name, key in rows:
        lines.append(f"{name:10}{scores[key + '_precision']:>11.4f}{scores[key + '_recall']:>9.4f}"
                     f"{scores[key + '_f1']:>8.4f}")
    lines.append(f"ARI {scores['ari']:.4f}   NMI {scores['nmi']:.4f}")
    lines.append(f"events: predicted {scores['pred_events']} ({scores['pred_singletons']} singletons), "
                 f"gold {scores['gold_events']}; articles scored {scores['articles_scored']}, "
                 f"gold only {scores['gold_only']}, predicted only {scores['pred_only']}")
    return "\n".join(lines)
