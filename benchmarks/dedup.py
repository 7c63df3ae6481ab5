"""Signature and banding throughput against plain datasketch, in one process.

``python -m benchmarks.dedup [--docs N] [--corpus PATH]``

Documents: N articles of about 4 KB, each the concatenation of 4 stories of
the corpus (``../shared/data/lee-corpus/articles.jsonl`` by default) in a
different order, so no two are alike.

* X (``docs_per_s``): what the ``Features`` and ``BandKeys`` steps of
  ``NearDuplicates`` compute per article with the shipped ``DedupConfig``
  defaults -- tokens, shingle hashes, MinHash signature, verification sketch,
  exact-path hash, canonical rank and the band keys -- timed over all N
  documents after a warm-up of a few documents.
* Y (``baseline_docs_per_s``): ``datasketch.MinHash(num_perm=128, seed=1)``
  with its default hash function, one ``update()`` per shingle (the same
  shingles, built as ``bytes`` by ``transforms.dedup.shingles.shingles``), on the
  same N documents in the same run.

The last line printed is one JSON object:
``{"docs": N, "docs_per_s": X, "baseline_docs_per_s": Y, "speedup": X / Y}``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "lee-corpus" / "articles.jsonl"


def make_docs(stories, n, per_doc=4):
    import random
    rng = random.Random(12345)
    docs = []
    for _ in range(n):
        picks = rng.sample(range(len(stories)), per_doc)
        docs.append(" ".join(stories[j] for j in picks))
    return docs


def run_project(articles, config):
    from wiredesk.transforms.dedup.features import article_features
    from wiredesk.transforms.dedup.lsh import band_keys
    from wiredesk.transforms.dedup.signatures import unpack_u32
    keys = 0
    t0 = time.perf_counter()
    for article in articles:
        _key, member = article_features(article, config)
        if member.features is not None:
            keys += len(band_keys(unpack_u32(member.features.signature), config))
    return time.perf_counter() - t0, keys


def run_baseline(docs, k):
    from datasketch import MinHash

    from wiredesk.transforms.dedup.shingles import shingles
    t0 = time.perf_counter()
    for doc in docs:
        m = MinHash(num_perm=128, seed=1)
        for sh in shingles(doc, k):
            m.update(sh)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from benchmarks.dedup_quality import to_article
    from wiredesk.transforms.dedup import DEFAULT_CONFIG

    with open(args.corpus) as f:
        stories = [json.loads(line)["body"] for line in f if line.strip()]
    stories = [s for s in stories if s]
    docs = make_docs(stories, args.docs)
    articles = [to_article(dict(id="bench-%06d" % i, kind="bench", body=d,
                                published_at=1_000_000_000 + i))
                for i, d in enumerate(docs)]
    run_project(articles[:20], DEFAULT_CONFIG)            # warm caches (powers, buffers)
    project_s, keys = run_project(articles, DEFAULT_CONFIG)
    baseline_s = run_baseline(docs, DEFAULT_CONFIG.shingle_size)
    x = len(docs) / project_s
    y = len(docs) / baseline_s
    mean_bytes = sum(len(d.encode("utf-8")) for d in docs) / len(docs)
    print("documents: %d, mean %.0f bytes; band keys: %d (%d bands x %d rows)"
          % (len(docs), mean_bytes, keys, DEFAULT_CONFIG.bands, DEFAULT_CONFIG.rows))
    print("project: %.3f s, datasketch update() per shingle: %.3f s" % (project_s, baseline_s))
    print(json.dumps({"docs": len(docs), "docs_per_s": round(x, 1),
                      "baseline_docs_per_s": round(y, 1), "speedup": round(x / y, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
