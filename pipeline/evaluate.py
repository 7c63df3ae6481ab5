"""``wiredesk evaluate``: score a run's events against gold event labels.

Gold is JSON lines of ``{"id": ID, "event": LABEL}``, optionally with
``"source"``; ID is a story's ``article_id`` or the id its source gave it
(``source_article_id``). The run's prediction is ``event_id`` of every article
in ``DIR/articles``.
"""
from __future__ import annotations

import json
from typing import Dict, List, NamedTuple, Optional

import pyarrow.dataset as ds
from apache_beam.io.filesystems import FileSystems

from wiredesk.pipeline import metrics as event_metrics


class GoldError(ValueError):
    """The gold file cannot be used; the message says where and why."""


class GoldLabel(NamedTuple):
    """One gold line: a story, optionally its source, and its event label."""

    story_id: str
    source: Optional[str]
    event: str


def load_gold(path: str) -> List[GoldLabel]:
    gold: List[GoldLabel] = []
    with FileSystems.open(path) as fh:
        for number, line in enumerate(fh.read().decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                source = row.get("source")
                gold.append(GoldLabel(str(row["id"]), None if source is None else str(source), str(row["event"])))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise GoldError(f"{path} line {number}: expected {{\"id\": ..., \"event\": ...}}: {exc}") from None
    if not gold:
        raise GoldError(f"{path}: no gold lines")
    return gold


class RunEvents(NamedTuple):
    """A finished run's events by story key, and its stories by the id their source gave."""

    #: article_id -> event_id, for the stories that have an event.
    by_story: Dict[str, str]
    #: article_id -> source, for every story.
    sources: Dict[str, Optional[str]]
    #: source_article_id -> the article_ids that carry it, for every story.
    by_source_id: Dict[str, List[str]]


def load_events(output) -> RunEvents:
    """``output``: a run's directory, or several (the batches of ``wiredesk run --state``: each story is in the
    run that brought it)."""
    outputs = [output] if isinstance(output, str) else list(output)
    parts = [ds.dataset(f"{o.rstrip('/')}/articles", format="parquet", partitioning="hive") for o in outputs]
    table = (parts[0] if len(parts) == 1 else ds.dataset(parts)).to_table(
        columns=["article_id", "source_article_id", "source", "event_id"])
    merged = merged_events(outputs)
    by_story: Dict[str, str] = {}
    sources: Dict[str, Optional[str]] = {}
    by_source_id: Dict[str, List[str]] = {}
    for row in table.to_pylist():
        key = row["article_id"]
        sources[key] = row["source"]
        by_source_id.setdefault(row["source_article_id"] or key, []).append(key)
        if row["event_id"] is not None:
            by_story[key] = current_event(row["event_id"], merged)
    return RunEvents(by_story, sources, by_source_id)


def merged_events(outputs: List[str]) -> Dict[str, str]:
    """Merged-away event id -> the event it went to, from the events tables' ``merged_event_ids`` (runs with
    ``--state``: an earlier run's rows keep the id their run gave; a later run that merged it records it)."""
    out: Dict[str, str] = {}
    for o in outputs:
        path = f"{o.rstrip('/')}/events"
        dataset = ds.dataset(path, format="parquet", partitioning="hive")
        if "merged_event_ids" not in dataset.schema.names:
            continue
        for row in dataset.to_table(columns=["event_id", "merged_event_ids"]).to_pylist():
            for old in row["merged_event_ids"] or []:
                out[old] = min(out.get(old, row["event_id"]), row["event_id"])
    return out


def current_event(event: str, merged: Dict[str, str]) -> str:
    """The event an id names now: followed through the merges (a chain of them too)."""
    seen = {event}
    while event in merged and merged[event] not in seen:
        event = merged[event]
        seen.add(event)
    return event


def resolve(label: GoldLabel, run: RunEvents) -> Optional[str]:
    """The story key a gold line names: the key itself, or the one story whose
    source id (and source, when the line gives one) it is. None when the run
    has no such story; an id that names stories of several sources is an error."""
    wanted = label.source.strip() if label.source is not None else None
    if label.story_id in run.sources and (wanted is None or run.sources[label.story_id] == wanted):
        return label.story_id
    matches = [key for key in run.by_source_id.get(label.story_id, ())
               if wanted is None or run.sources[key] == wanted]
    if len(matches) > 1:
        raise GoldError(f"gold id {label.story_id!r} names {len(matches)} stories ({', '.join(sorted(matches))}): "
                        "give the story's article_id, or add \"source\" to the gold line")
    return matches[0] if matches else None


def evaluate(gold_path: str, output) -> Dict[str, object]:
    """Scores of a finished run in ``output`` (or of several runs' outputs together) against the gold file."""
    run = load_events(output)
    gold: Dict[str, str] = {}
    named_by: Dict[str, GoldLabel] = {}
    for label in load_gold(gold_path):
        # A line that names no story of the run counts as gold only (under a key no story has).
        key = resolve(label, run) or f"\x00unmatched\x00{label.story_id}\x00{label.source}"
        if key in named_by:
            raise GoldError(f"{gold_path}: gold ids {named_by[key].story_id!r} and {label.story_id!r} both name "
                            f"story {key!r}: keep one line per story")
        named_by[key] = label
        gold[key] = label.event
    return event_metrics.evaluate(run.by_story, gold)


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
