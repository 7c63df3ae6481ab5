"""Quality benchmark of near-duplicate detection on edited copies of real stories.

``python -m benchmarks.dedup_quality [--corpus PATH] [--stories N] [--seed S]``

From each story of a corpus (flat JSON lines with ``id`` and ``body``; by
default ``../shared/data/lee-corpus/articles.jsonl``, 350 ABC News stories)
it builds the copies a wire desk really receives:

* ``rehead``: the same body under another headline (an exact copy);
* ``wrapped``: a dateline and agency prefix and a credit line;
* ``boilerplate``: web page boilerplate around the body;
* ``edited``: 1-3% of the words edited, straight quotes made curly;
* ``swapped``: one or two pairs of adjacent sentences swapped;
* ``update``: an update paragraph inserted after the lead;
* ``trimmed``: cut to the first 50-70% of its sentences (also with a wrapper);

and heavy rewrites of the same story that must not match (``rewrite``: 30% of
the words replaced, sentences reordered; ``partial``: 12% replaced).

The truth is exact: Jaccard and containment of the shingle sets of every pair
within a story's family (and of the original stories among themselves, and of
every pair the pipeline links). A pair is a duplicate when Jaccard >= 0.8, or
when the shorter body has at least 50 shingles and is contained >= 0.9 in
the longer (the defaults of ``DedupConfig``).

It runs the real Beam transform ``NearDuplicates`` on the DirectRunner. A true
pair counts as found when both articles end in the same group (same canonical);
precision is over the links the pipeline emits (copy -> canonical). The last
line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "lee-corpus" / "articles.jsonl"

_SENT = re.compile(r"(?<=[.!?])[\"']?\s+(?=[\"'A-Z0-9])")
CITIES = ["SYDNEY", "CANBERRA", "MELBOURNE", "LONDON", "WASHINGTON", "JAKARTA", "BRISBANE"]
AGENCIES = ["AP", "Reuters", "AAP", "AFP"]
BOILER_HEAD = ["Advertisement", "Skip to main content", "Listen to this article",
               "Sign up for our daily newsletter"]
BOILER_TAIL = [
    "Share this article: Facebook Twitter Email Print.",
    "Copyright 2001 ABC News. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed.",
    "Related stories: More news from the region. Comments are closed.",
]
UPDATES = [
    "UPDATE: Officials later confirmed the figures at a press conference on {day}, "
    "adding that further details would be released in the coming days.",
    "Update {day}: A spokeswoman said the situation was being monitored closely and that "
    "no further statements were expected before the weekend.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
EDITS = {"said": "says", "says": "said", "has": "had", "will": "would", "the": "a",
         "more": "over", "than": "then", "people": "residents", "today": "on Tuesday",
         "government": "Government", "minister": "Minister", "about": "around"}


def sentences(body):
    return [s for s in _SENT.split(body.strip()) if s]


def curly(text):
    out, open_ = [], True
    for ch in text:
        if ch == '"':
            out.append("\u201c" if open_ else "\u201d")
            open_ = not open_
        elif ch == "'":
            out.append("\u2019")
        else:
            out.append(ch)
    return "".join(out)


def light_edit(body, rng, rate):
    words = body.split(" ")
    for i, w in enumerate(words):
        if rng.random() < rate:
            core = w.strip(".,;:\"'")
            if core.lower() in EDITS:
                words[i] = w.replace(core, EDITS[core.lower()])
            elif core.isdigit():
                words[i] = w.replace(core, str(int(core) + rng.randint(1, 9)))
            elif len(core) > 3:
                j = rng.randrange(len(core) - 1)       # a typo: two letters swapped
                words[i] = w.replace(core, core[:j] + core[j + 1] + core[j] + core[j + 2:])
    return curly(" ".join(words))


def rewrite(body, rng, rate, vocab):
    sents = sentences(body)
    out = []
    for s in sents:
        words = s.split(" ")
        for i in range(len(words)):
            if rng.random() < rate:
                words[i] = rng.choice(vocab)
        if len(words) > 6 and rng.random() < rate:            # clause moved to the front
            k = rng.randrange(2, len(words) - 2)
            words = words[k:] + words[:k]
        out.append(" ".join(words))
    if len(out) > 2 and rate >= 0.2:
        rng.shuffle(out)
    return " ".join(out)


def make_copies(story, rng, vocab):
    """[(kind, body, must_not_match)] for one story."""
    body = story["body"]
    sents = sentences(body)
    city, agency = rng.choice(CITIES), rng.choice(AGENCIES)
    wrapper = "%s (%s) - " % (city, agency)
    credit = " (Reporting by %s; editing by %s)" % (rng.choice(["J. Smith", "A. Lee"]),
                                                   rng.choice(["P. Brown", "K. Wong"]))
    copies = [("rehead", body, False),
              ("wrapped", wrapper + body + credit, False),
              ("boilerplate", rng.choice(BOILER_HEAD) + "\n" + body + "\n" + " ".join(BOILER_TAIL), False),
              ("edited", light_edit(body, rng, rng.uniform(0.01, 0.03)), False)]
    if len(sents) >= 3:
        sw = list(sents)
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(sw) - 1)
            sw[i], sw[i + 1] = sw[i + 1], sw[i]
        copies.append(("swapped", " ".join(sw), False))
        up = list(sents)
        up.insert(min(2, len(up)), rng.choice(UPDATES).format(day=rng.choice(DAYS)))
        copies.append(("update", " ".join(up), False))
        keep = max(1, round(len(sents) * rng.uniform(0.5, 0.7)))
        copies.append(("trimmed", " ".join(sents[:keep]), False))
        keep = max(1, round(len(sents) * rng.uniform(0.5, 0.7)))
        copies.append(("trimmed", wrapper + " ".join(sents[:keep]), False))
    copies.append(("rewrite", rewrite(body, rng, 0.3, vocab), True))
    copies.append(("partial", rewrite(body, rng, 0.12, vocab), True))
    return copies


def build_dataset(stories, seed):
    rng = random.Random(seed)
    vocab = sorted({w for s in stories for w in s["body"].split() if w.isalpha() and len(w) > 3})
    docs = []           # dicts: id, family, kind, body, published_at
    for n, story in enumerate(stories):
        base = 1_000_000_000 + n * 86400
        docs.append(dict(id=story["id"], family=n, kind="original", body=story["body"],
                         published_at=base, negative=False))
        for j, (kind, body, neg) in enumerate(make_copies(story, rng, vocab)):
            docs.append(dict(id="%s~%s%d" % (story["id"], kind, j), family=n, kind=kind,
                             body=body, published_at=base + 60 * (j + 1) + rng.randrange(50),
                             negative=neg))
    return docs


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def to_article(doc):
    from wiredesk.schemas.records import Article
    return Article(
        article_id=doc["id"], source=doc.get("source", "bench"), headline=doc["kind"],
        headline_original=None, body=doc["body"], body_original=None, byline=None,
        dateline=None, credit=None, language="en", language_detected=False, url=None,
        published_at=_iso(doc["published_at"]), ingested_at=None, version=None,
        version_created=None, status="usable", urgency=None, subjects=[],
        content_hash="", word_count=len(doc["body"].split()), input_format="jsonl",
        origin="benchmark", position=doc["id"], duplicate_of=None, event_id=None)


class Truth:
    def __init__(self, docs, config):
        from wiredesk.transforms.dedup.shingles import shingles
        self.config = config
        self.sets = {d["id"]: set(shingles(d["body"], config.shingle_size)) for d in docs}

    def measure(self, a, b):
        sa, sb = self.sets[a], self.sets[b]
        if not sa or not sb:
            return 0.0, 0.0, 0
        inter = len(sa & sb)
        small = min(len(sa), len(sb))
        return inter / len(sa | sb), inter / small, small

    def is_dup(self, a, b):
        jac, cont, small = self.measure(a, b)
        c = self.config
        return jac >= c.jaccard_threshold or (small >= c.min_contained_shingles
                                               and cont >= c.containment_threshold)


def run_beam(docs, config):
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from wiredesk.transforms.dedup import NearDuplicates

    out_dir = tempfile.mkdtemp(prefix="dedup_quality_")
    path = os.path.join(out_dir, "links.jsonl")
    opts = PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=1"])
    with beam.Pipeline(options=opts) as p:
        res = (p | "Create" >> beam.Create([to_article(d) for d in docs])
               | "NearDuplicates" >> NearDuplicates(config))
        (res["duplicates"]
         | "ToJson" >> beam.Map(lambda d: json.dumps(d._asdict()))
         | "Write" >> beam.io.WriteToText(path, shard_name_template=""))
    with open(path) as f:
        links = [json.loads(line) for line in f if line.strip()]
    return links


def evaluate(docs, links, truth):
    by_id = {d["id"]: d for d in docs}
    canon = {d["id"]: d["id"] for d in docs}
    for link in links:
        canon[link["article_id"]] = link["canonical_id"]
    # True pairs: within a family, and among originals.
    true_pairs = []
    fam = defaultdict(list)
    for d in docs:
        fam[d["family"]].append(d["id"])
    candidates = [p for ids in fam.values() for p in itertools.combinations(ids, 2)]
    originals = [d["id"] for d in docs if d["kind"] == "original"]
    candidates += list(itertools.combinations(originals, 2))
    for a, b in candidates:
        if truth.is_dup(a, b):
            true_pairs.append((a, b))
    found = [canon[a] == canon[b] for a, b in true_pairs]

    def recall(select):
        hits = [f for (a, b), f in zip(true_pairs, found) if select(a, b)]
        return (sum(hits) / len(hits) if hits else 1.0), len(hits)

    jac_rec = recall(lambda a, b: truth.measure(a, b)[0] >= truth.config.jaccard_threshold)
    trim_rec = recall(lambda a, b: "trimmed" in (by_id[a]["kind"], by_id[b]["kind"])
                      and truth.measure(a, b)[0] < truth.config.jaccard_threshold)
    all_rec = recall(lambda a, b: True)
    correct = [truth.is_dup(link["article_id"], link["canonical_id"]) for link in links]
    wrong = [(link["article_id"], link["canonical_id"], link["kind"],
              round(truth.measure(link["article_id"], link["canonical_id"])[0], 3),
              round(truth.measure(link["article_id"], link["canonical_id"])[1], 3))
             for link, ok in zip(links, correct) if not ok]
    negatives = [d["id"] for d in docs if d["negative"]]
    neg_linked = sum(1 for n in negatives if canon[n] != n or any(
        link["canonical_id"] == n for link in links))
    per_kind = {}
    for kind in sorted({d["kind"] for d in docs} - {"original"}):
        sel = [(f) for (a, b), f in zip(true_pairs, found)
               if {by_id[a]["kind"], by_id[b]["kind"]} == {"original", kind}]
        if sel:
            per_kind[kind] = round(sum(sel) / len(sel), 4)
    missed = [(a, b, [round(x, 3) for x in truth.measure(a, b)[:2]])
              for (a, b), f in zip(true_pairs, found) if not f]
    return {
        "recall_jaccard_0_8": round(jac_rec[0], 4), "pairs_jaccard_0_8": jac_rec[1],
        "recall_trimmed": round(trim_rec[0], 4), "pairs_trimmed": trim_rec[1],
        "recall_all": round(all_rec[0], 4), "true_pairs": all_rec[1],
        "precision": round(sum(correct) / len(correct), 4) if correct else 1.0,
        "links": len(links), "wrong_links": len(wrong),
        "negatives_linked": neg_linked, "negatives": len(negatives),
        "recall_by_kind": per_kind,
    }, wrong, missed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--stories", type=int, default=0, help="use the first N stories (0: all)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show", type=int, default=5, help="print up to N wrong and missed pairs")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from wiredesk.transforms.dedup import DEFAULT_CONFIG

    with open(args.corpus) as f:
        stories = [json.loads(line) for line in f if line.strip()]
    stories = [s for s in stories if s.get("body")]
    if args.stories:
        stories = stories[:args.stories]
    docs = build_dataset(stories, args.seed)
    truth = Truth(docs, DEFAULT_CONFIG)
    t0 = time.perf_counter()
    links = run_beam(docs, DEFAULT_CONFIG)
    elapsed = time.perf_counter() - t0
    result, wrong, missed = evaluate(docs, links, truth)
    for w in wrong[:args.show]:
        print("wrong link:", w)
    for m in missed[:args.show]:
        print("missed pair:", m)
    result = {"corpus": os.path.basename(os.path.dirname(args.corpus)) or args.corpus,
              "stories": len(stories), "docs": len(docs), "runner": "DirectRunner",
              "beam_seconds": round(elapsed, 1), **result}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
