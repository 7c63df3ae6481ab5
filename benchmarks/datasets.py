"""The labelled sets the events benchmark scores, and the JSON lines it reads and writes.

The labelled sets ``LABELLED`` (ECB+, the UCI headlines, GVC, NewsWCL50) come
from the shared data directory (``--data``, default ``$WIREDESK_DATA`` or
``/work/shared/data``; each set is ``<name>/articles.jsonl`` and
``<name>/gold.jsonl``, see its README); a set missing there is skipped with a
note. The five ``seeds/*.txt`` stories are one event, with the gold written on
the fly. ``TIME_STRESS`` (only with ``--stress``) changes a set's publication
times (all within one random hour, or every second record undated) to show
what the burst boost does when times carry no story signal.
"""
from __future__ import annotations

import datetime as _dt
import glob
import json
import os
import random
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from benchmarks.supervise import REPO, progress

DEFAULT_DATA = Path(os.environ.get("WIREDESK_DATA", "/work/shared/data"))
SEEDS_GLOB = str(REPO / "seeds" / "*.txt")
LABELLED = ("ecbplus", "uci-news-aggregator", "gvc", "newswcl50")


def read_jsonl(path) -> List[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path, rows: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def article_text(row: dict) -> str:
    """Headline, blank line, body: what spaCy NER alone and the baseline read."""
    return f"{row.get('headline') or ''}\n\n{row.get('body') or ''}"


def load_seeds() -> Tuple[List[dict], Dict[str, str]]:
    """The seed stories as records (front matter, headline line, body) and
    their gold: all five are one event. Ids are the file names without
    ``.txt``, as wiredesk's plain-text reader gives them."""
    arts = []
    for path in sorted(glob.glob(SEEDS_GLOB)):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        meta = {}
        if text.startswith("---"):
            _, front, text = text.split("---", 2)
            for line in front.strip().splitlines():
                k, _, v = line.partition(":")
                meta[k.strip()] = v.strip()
        lines = text.strip().splitlines()
        arts.append({"id": os.path.basename(path)[:-4], "source": meta.get("source"),
                     "headline": lines[0].strip(), "body": "\n".join(lines[1:]).strip(),
                     "published_at": meta.get("published_at")})
    return arts, {a["id"]: "seeds" for a in arts}


def quality_sets(data: Path) -> Iterator[Tuple[str, List[str], Optional[str], List[dict], Dict[str, str]]]:
    """(name, wiredesk inputs, gold path or None, records, gold dict) per
    labelled set found in ``data`` (a missing one is skipped with a note on
    stderr), then the seeds."""
    for name in LABELLED:
        arts_path, gold_path = data / name / "articles.jsonl", data / name / "gold.jsonl"
        if not (arts_path.is_file() and gold_path.is_file()):
            progress(f"note: set {name} skipped: no {arts_path} or {gold_path}")
            continue
        gold = {str(g["id"]): str(g["event"]) for g in read_jsonl(gold_path)}
        yield name, [str(arts_path)], str(gold_path), read_jsonl(arts_path), gold
    arts, gold = load_seeds()
    yield "seeds", [SEEDS_GLOB], None, arts, gold


def _dense_times(arts: Sequence[dict]) -> List[dict]:
    """Every record at a seeded random second within one hour: times that are
    dense and say nothing about stories (a busy feed, or ingest times)."""
    rng = random.Random(5)
    base = _dt.datetime(2024, 3, 10, 14, 0, 7, tzinfo=_dt.timezone.utc)
    return [dict(a, published_at=(base + _dt.timedelta(seconds=rng.uniform(0, 3600))).isoformat())
            for a in sorted(arts, key=lambda a: str(a["id"]))]


def _half_undated(arts: Sequence[dict]) -> List[dict]:
    """Every second record (by id) without its time: a mixed feed."""
    ordered = sorted(arts, key=lambda a: str(a["id"]))
    return [dict(a, published_at=None) if i % 2 else a for i, a in enumerate(ordered)]


def _no_headlines(arts: Sequence[dict]) -> List[dict]:
    """Every record without its headline: agency copy as some feeds carry it (the first body line may still
    serve as one, as the run decides)."""
    return [dict(a, headline=None) for a in arts]


def _headlines_only(arts: Sequence[dict]) -> List[dict]:
    """Every record without its body: a feed of headlines only (as UCI's), here of a set whose events are many
    small same-topic incidents, where a rule that helps headlines of large stories merges incidents."""
    return [dict(a, body=None) for a in arts]


def _undated(arts: Sequence[dict]) -> List[dict]:
    """Every record without its time: content alone, no burst and no time decay."""
    return [dict(a, published_at=None) for a in arts]


#: Stress rows (``--stress``): the same set with its times changed, to show what the burst boost does when
#: times carry no story signal or only half the articles have one, and with headlines, bodies or times removed,
#: the conditions of the labelled sets that are not here (issue 10: "with and without headlines and times").
#: Each row is scored with the TF-IDF anchors on the same changed records.
STRESS = {
    "ecbplus": [("times random in 1 h", _dense_times)],   # ECB+ has no headlines and no times of its own
    "uci-news-aggregator": [("times random in 1 h", _dense_times), ("half the times removed", _half_undated)],
    "gvc": [("headlines removed", _no_headlines), ("bodies removed", _headlines_only),
            ("times removed", _undated)],
    "newswcl50": [("times removed", _undated)],   # no headlines; 37 of its 50 records have a time
}


def missing_sets(data: Path) -> List[str]:
    """The labelled sets ``data`` does not hold (skipped by ``quality_sets``)."""
    return [n for n in LABELLED
            if not ((data / n / "articles.jsonl").is_file() and (data / n / "gold.jsonl").is_file())]
