"""The seeded synthetic corpus of real text the speed goal is timed on (N and 4N articles).

Deterministic (``seed``): the bodies of ECB+ (982 articles) and of the Lee
corpus (350 ABC News articles), split into sentences (newlines, then ``. ! ?``
before a capital; sentences of up to 60 words, at least 4 of them purely
alphabetic). Those bodies hold only about 1,600 disjoint passages of whole
sentences of ~170 words (pass A), so a pool of the largest size is built in three
passes, each candidate ~170 words (150-195, headline included):

A. consecutive sentence windows of every source article (disjoint passages);
B. windows starting half a window later (each overlaps two A windows by about half);
C. sentence samples: a random subset of the sentences of one source article,
   or of two articles of the same group (an ECB+ topic -- similar stories --
   or a block of 10 consecutive Lee articles), kept in source order.

A candidate is kept only if its word 5-shingles (lower-cased runs of letters
and digits, as the dedup stage makes them) overlap every kept article by less
than ``MAX_CONTAINMENT`` (0.6) of the smaller shingle set -- far below what
the dedup stage calls a near duplicate (Jaccard >= 0.8 or containment >= 0.9)
-- so copies of the same wire text inside ECB+ are dropped too. The pool is
shuffled (seeded); the corpus of size N is its first N articles, so the
N-corpus is a random subset of the 4N-corpus with the same mix of passes and
the scaling run only changes the size.

Each article is one flat JSON line: ``id``, ``source`` (the source article's,
else one of a few agency names), ``headline`` (the first sentence of the
passage; its first 10 words when it is longer than 20 words, the sentence then
staying in the body), ``body`` (the rest), ``published_at`` (uniform over four
days from 2024-03-04, to the second).
"""
from __future__ import annotations

import datetime as _dt
import os
import random
import re
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from benchmarks.datasets import article_text, read_jsonl, write_jsonl

TARGET_MIN_WORDS, TARGET_MAX_WORDS = 150, 195
WINDOW_FILL_WORDS = 155          # add sentences until at least this many words
MAX_CONTAINMENT = 0.6            # shingle overlap / smaller set, vs every kept article
SHINGLE = 5
AGENCIES = ("Reuters", "Associated Press", "AFP", "BBC News", "The Guardian", "CNN", "Bloomberg",
            "Al Jazeera", "UPI", "dpa")
START = _dt.datetime(2024, 3, 4, tzinfo=_dt.timezone.utc)
SPREAD_SECONDS = 4 * 86400

_SENT_SPLIT = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)]))\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_TOKEN = re.compile(r"[^\W_]+")


def sentences(body: str) -> List[str]:
    out = []
    for para in (body or "").splitlines():
        for s in _SENT_SPLIT.split(para.strip()):
            s = " ".join(s.split())
            words = s.split()
            if len(words) <= 60 and sum(w.isalpha() for w in words) >= 4:
                out.append(s)
    return out


def shingle_set(text: str) -> frozenset:
    toks = _TOKEN.findall(text.lower())
    return frozenset(" ".join(toks[i:i + SHINGLE]) for i in range(len(toks) - SHINGLE + 1))


class Sources:
    """Source articles split into sentences, with their group and outlet."""

    def __init__(self, data: Path):
        self.docs: List[dict] = []       # {"key", "group", "source", "sents", "words"}
        for a in read_jsonl(data / "ecbplus" / "articles.jsonl"):
            m = re.match(r"ecbplus-(\d+)_", str(a["id"]))
            self._add(a, f"ecb-{m.group(1) if m else 'x'}", a.get("source"))
        for n, a in enumerate(read_jsonl(data / "lee-corpus" / "articles.jsonl")):
            self._add(a, f"lee-{n // 10}", a.get("source") or "ABC News (Australia)")
        self.groups: Dict[str, List[int]] = {}
        for i, d in enumerate(self.docs):
            self.groups.setdefault(d["group"], []).append(i)
        # pass C draws a group with probability proportional to its words
        self.group_names = sorted(self.groups)
        self.group_words = [sum(sum(self.docs[i]["words"]) for i in self.groups[g]) for g in self.group_names]

    def _add(self, a, group, source):
        sents = sentences(a.get("body") or "")
        if sents:
            self.docs.append({"key": str(a["id"]), "group": group, "source": source, "sents": sents,
                              "words": [len(s.split()) for s in sents]})


def _window(doc: dict, start: int) -> Optional[List[int]]:
    """Consecutive sentences from ``start`` until >= WINDOW_FILL_WORDS words."""
    picked, words = [], 0
    for j in range(start, len(doc["sents"])):
        picked.append(j)
        words += doc["words"][j]
        if words >= WINDOW_FILL_WORDS:
            break
    return picked if TARGET_MIN_WORDS <= words <= TARGET_MAX_WORDS else None


def _window_starts(doc: dict) -> Tuple[List[int], List[int]]:
    """Starts of pass A (disjoint) windows and pass B (half-shifted) windows."""
    a_starts, b_starts = [], []
    start = 0
    while start < len(doc["sents"]):
        w = _window(doc, start)
        if w is None:
            # too short here, or one sentence overflows: move one sentence on
            start += 1
            continue
        a_starts.append(start)
        half, acc = w[0], 0
        for j in w:
            acc += doc["words"][j]
            if acc >= sum(doc["words"][k] for k in w) / 2:
                half = j + 1
                break
        b_starts.append(half)
        start = w[-1] + 1
    return a_starts, b_starts


def _compose(parts: List[str], source: str, rng: random.Random) -> dict:
    first = parts[0]
    words = first.split()
    if len(words) <= 20:
        headline, body_parts = first.rstrip("."), parts[1:]
    else:
        headline, body_parts = " ".join(words[:10]), parts
    return {"source": source or rng.choice(AGENCIES), "headline": headline, "body": " ".join(body_parts)}


class Pool:
    """Kept articles with an inverted shingle index for the overlap check."""

    def __init__(self):
        self.rows: List[dict] = []
        self.sizes: List[int] = []
        self.index: Dict[str, List[int]] = {}
        self.rejected = Counter()
        self.kept = Counter()

    def offer(self, row: dict, kind: str) -> bool:
        sh = shingle_set(f"{row['headline']} {row['body']}")
        n = len(row["headline"].split()) + len(row["body"].split())
        if not (TARGET_MIN_WORDS <= n <= TARGET_MAX_WORDS) or len(sh) < 50:
            self.rejected[f"{kind}:length"] += 1
            return False
        shared = Counter()
        for s in sh:
            for k in self.index.get(s, ()):
                shared[k] += 1
        for k, c in shared.items():
            if c / min(len(sh), self.sizes[k]) >= MAX_CONTAINMENT:
                self.rejected[f"{kind}:overlap"] += 1
                return False
        k = len(self.rows)
        row["_kind"] = kind
        row["_words"] = n
        self.rows.append(row)
        self.sizes.append(len(sh))
        for s in sh:
            self.index.setdefault(s, []).append(k)
        self.kept[kind] += 1
        return True


def _sample(src: Sources, pool: Pool, rng: random.Random) -> None:
    """Pass C, one attempt: offer a sentence sample of one article or of two of the same group."""
    g = rng.choices(src.group_names, src.group_words)[0]
    members = src.groups[g]
    two = len(members) > 1 and rng.random() < 0.5
    picked_docs = rng.sample(members, 2) if two else [rng.choice(members)]
    cands = [(di, j) for di in picked_docs for j in range(len(src.docs[di]["sents"]))]
    if sum(src.docs[di]["words"][j] for di, j in cands) < WINDOW_FILL_WORDS:
        return
    rng.shuffle(cands)
    chosen, words = [], 0
    for di, j in cands:
        chosen.append((di, j))
        words += src.docs[di]["words"][j]
        if words >= WINDOW_FILL_WORDS:
            break
    rank = {di: r for r, di in enumerate(picked_docs)}
    chosen.sort(key=lambda t: (rank[t[0]], t[1]))
    lead = src.docs[chosen[0][0]]
    pool.offer(_compose([src.docs[di]["sents"][j] for di, j in chosen], lead["source"], rng),
               "C-sampled2" if two else "C-sampled1")


def build_pool(data: Path, size: int, seed: int) -> Tuple[List[dict], Dict[str, object]]:
    """``size`` distinct articles in seeded random order, and how they were made."""
    rng = random.Random(seed)
    src = Sources(data)
    pool = Pool()
    order = list(range(len(src.docs)))
    rng.shuffle(order)
    # A and B: windows
    starts = {i: _window_starts(src.docs[i]) for i in order}
    for kind, which in (("A-window", 0), ("B-shifted", 1)):
        for i in order:
            if len(pool.rows) >= size:
                break
            d = src.docs[i]
            for s in starts[i][which]:
                w = _window(d, s)
                if w is not None:
                    pool.offer(_compose([d["sents"][j] for j in w], d["source"], rng), kind)
                if len(pool.rows) >= size:
                    break
    # C: sentence samples of one article or two of the same group
    attempts, max_attempts = 0, 40 * size
    while len(pool.rows) < size and attempts < max_attempts:
        attempts += 1
        _sample(src, pool, rng)
    if len(pool.rows) < size:
        raise RuntimeError(f"could only make {len(pool.rows)} distinct articles of {size}")
    rows = pool.rows
    rng.shuffle(rows)
    for row in rows:
        row["published_at"] = (START + _dt.timedelta(seconds=rng.randrange(SPREAD_SECONDS))
                               ).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = {"pool": len(rows), "kept_by_pass": dict(sorted(pool.kept.items())),
            "rejected": dict(sorted(pool.rejected.items())), "sample_attempts": attempts,
            "source_articles": len(src.docs)}
    return rows, info


def corpus_file(rows: Sequence[dict], n: int, path: str) -> Dict[str, object]:
    """Write the first ``n`` pool rows to ``path`` as the corpus of size n; its statistics."""
    out = []
    for k, row in enumerate(rows[:n]):
        out.append({"id": f"bench-{k:05d}", "source": row["source"], "headline": row["headline"],
                    "body": row["body"], "published_at": row["published_at"]})
    write_jsonl(path, out)
    words = [r["_words"] for r in rows[:n]]
    chars = [len(article_text(r)) for r in out]
    return {"docs": n, "path": path, "bytes": os.path.getsize(path),
            "mean_words": round(sum(words) / n, 1), "min_words": min(words), "max_words": max(words),
            "mean_ner_chars": round(sum(chars) / n, 1), "ner_texts_over_1500_chars": sum(c > 1500 for c in chars),
            "by_pass": dict(sorted(Counter(r["_kind"] for r in rows[:n]).items()))}
