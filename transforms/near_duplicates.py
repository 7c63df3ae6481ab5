"""Exact and near-duplicate detection as Beam transforms (any runner).

``NearDuplicates(config)`` takes ``PCollection[Article]`` (``duplicate_of`` is
None on input) and returns a dict of PCollections:

* ``"articles"``: every input article; each non-canonical copy has
  ``duplicate_of`` set to its canonical article's id;
* ``"duplicates"``: one :class:`~schemas.records.Duplicate` per copy
  (article_id, canonical_id, kind exact/near/contained, Jaccard, containment).

Steps (labels are stable; pure logic lives in ``transforms.minhash``)::

  Features         article -> (exact key, (rank, id, features))   short articles: no features
  GroupExact       GroupByKey on the exact key (body hash; headline tokens for short ones)
  ResolveExact     best-ranked member is the exact canonical; others are exact copies.
                   Only exact canonicals with a shingled body go on to LSH.
  BandKeys         (band index + band rows, (rank, id)) for each of the b bands
  GroupBands       GroupByKey: one LSH bucket per key
  BucketPairs      candidate pairs inside a bucket, ordered (better rank, worse rank).
                   A bucket larger than max_bucket_size is not enumerated: every
                   member is paired with the bucket's oversized_anchors best-ranked
                   members only (counted as oversized_buckets).
  DistinctPairs    a pair found in several bands is verified once
  JoinLeft/Right   attach both articles' features with two keyed joins (CoGroupByKey)
  Verify           Jaccard / containment on the bottom-k sketches -> verified edges
  ResolveGroups    groups without chaining (below)
  ComposeExact     exact copies of a near copy point to the near canonical
  Attach           keyed join of the assignments back onto the articles

Groups without chaining: articles with a verified edge are processed in
canonical-rank order; an article becomes a copy of the best-ranked
*canonical* it has a verified edge to, else it is a canonical itself. So an
article joins a group only if it is a verified duplicate of that group's
canonical, never through a chain (A~B, B~C, A!~C leaves C out of A's group).
This is inherently sequential in rank order, so it runs on one worker over
the verified edges only: a few dozen bytes per verified pair (no text, no
sketches), i.e. about 100 MB for a million duplicate pairs -- small next to
the articles themselves, and the articles never go through that step.
"""
from __future__ import annotations

import heapq
import itertools
from typing import Dict

import apache_beam as beam
from apache_beam.metrics import Metrics

from wiredesk.schemas.records import Article, Duplicate
from wiredesk.transforms import minhash as mh
from wiredesk.transforms.minhash import DedupConfig

NAMESPACE = "wiredesk.near_duplicates"

#: Articles whose body is an exact copy (same normalized body hash, or same
#: headline for short articles) of their canonical: Duplicate rows of kind "exact".
EXACT_COPIES = Metrics.counter(NAMESPACE, "exact_copies")
#: Copies whose estimated Jaccard with their canonical is >= jaccard_threshold
#: (kind "near"; includes exact copies of such an article).
NEAR_COPIES = Metrics.counter(NAMESPACE, "near_copies")
#: Copies accepted by containment of the shorter body in the longer (kind "contained").
CONTAINED_COPIES = Metrics.counter(NAMESPACE, "contained_copies")
#: Distinct candidate pairs produced by LSH banding (each verified once).
CANDIDATE_PAIRS = Metrics.counter(NAMESPACE, "candidate_pairs")
#: Candidate pairs that passed verification (verified edges).
VERIFIED_PAIRS = Metrics.counter(NAMESPACE, "verified_pairs")
#: Candidate pairs that failed verification.
REJECTED_CANDIDATES = Metrics.counter(NAMESPACE, "rejected_candidates")
#: LSH buckets with more than max_bucket_size members (not fully enumerated).
OVERSIZED_BUCKETS = Metrics.counter(NAMESPACE, "oversized_buckets")
#: Articles whose body has fewer than shingle_size tokens (exact path only).
SHORT_ARTICLES = Metrics.counter(NAMESPACE, "short_articles")

_KIND_COUNTERS = {mh.EXACT: EXACT_COPIES, mh.NEAR: NEAR_COPIES, mh.CONTAINED: CONTAINED_COPIES}


class ComputeFeatures(beam.DoFn):
    """Article -> (exact key, (rank, article_id, features or None))."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def process(self, article):
        key, short, rank, feats = mh.article_features(article, self.config)
        if short:
            SHORT_ARTICLES.inc()
        yield key, (rank, article.article_id, feats)


class ResolveExact(beam.DoFn):
    """One exact group -> main: features of its canonical (when shingled);
    tagged "copies": (canonical_id, copy_id) for every other member."""

    COPIES = "copies"

    def process(self, element):
        _key, members = element
        best = None
        ranked = []
        for rank, article_id, feats in members:
            ranked.append((rank, article_id))
            if best is None or rank < best[0]:
                best = (rank, article_id, feats)
        canonical_id = best[1]
        for rank, article_id in ranked:
            if (rank, article_id) != (best[0], canonical_id):
                yield beam.pvalue.TaggedOutput(self.COPIES, (canonical_id, article_id))
        if best[2] is not None:
            yield best[2]


class BandKeysFn(beam.DoFn):
    """Features -> (band key, (rank, article_id)) for every band."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def process(self, feats):
        member = (feats[mh.F_RANK], feats[mh.F_ID])
        for key in mh.band_keys(mh.decode_sig(feats[mh.F_SIG]), self.config):
            yield key, member


class BucketPairsFn(beam.DoFn):
    """One LSH bucket -> ((better id, worse id), None) candidate pairs."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def process(self, element):
        _key, members = element
        cap = self.config.max_bucket_size
        head = list(itertools.islice(iter(members), cap + 1))
        if len(head) < 2:
            return
        if len(head) <= cap:
            head.sort()
            for i, (_r, a) in enumerate(head):
                for _r2, b in head[i + 1:]:
                    if a != b:
                        yield (a, b), None
            return
        OVERSIZED_BUCKETS.inc()
        # Bounded memory: one pass keeps the best anchors, a second pairs
        # every member with them (GroupByKey values are re-iterable).
        anchors = heapq.nsmallest(self.config.oversized_anchors, members)
        for member in members:
            for anchor in anchors:
                if anchor < member and anchor[1] != member[1]:
                    yield (anchor[1], member[1]), None


class VerifyFn(beam.DoFn):
    """(b_id, {"f": [features b], "q": [(a features)...]}) -> verified edges
    (a_id, a_rank, b_id, b_rank, kind, jaccard, containment); a ranks before b."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def process(self, element):
        _b, joined = element
        fb = next(iter(joined["f"]), None)
        if fb is None:
            return
        for fa in joined["q"]:
            CANDIDATE_PAIRS.inc()
            kind, jac, cont = mh.verify(fa, fb, self.config)
            if kind is None:
                REJECTED_CANDIDATES.inc()
                continue
            VERIFIED_PAIRS.inc()
            yield (fa[mh.F_ID], fa[mh.F_RANK], fb[mh.F_ID], fb[mh.F_RANK], kind, jac, cont)


def _fan_out_left(element):
    """(a_id, {"f": [features a], "p": [b ids]}) -> (b_id, features a) per pair."""
    _a, joined = element
    fa = next(iter(joined["f"]), None)
    if fa is None:
        return
    for b in joined["p"]:
        yield b, fa


def resolve_groups(edges):
    """Verified edges -> (copy_id, (canonical_id, kind, jaccard, containment)).

    Rank order; an article is a copy of the best-ranked canonical it has a
    verified edge to (no chaining). Deterministic for any edge order.
    """
    rank: Dict[str, tuple] = {}
    adj: Dict[str, list] = {}
    for a, ra, b, rb, kind, jac, cont in edges:
        rank[a], rank[b] = ra, rb
        adj.setdefault(b, []).append((ra, a, kind, jac, cont))
        adj.setdefault(a, []).append((rb, b, kind, jac, cont))
    canonical = set()
    for x in sorted(rank, key=lambda i: (rank[i], i)):
        best = None
        for ry, y, kind, jac, cont in adj.get(x, ()):
            if y in canonical and (ry, y) < (rank[x], x):
                if best is None or (ry, y) < best[:2]:
                    best = (ry, y, kind, jac, cont)
        if best is None:
            canonical.add(x)
        else:
            yield x, (best[1], best[2], best[3], best[4])


class ResolveGroupsFn(beam.DoFn):
    def process(self, element):
        _key, edges = element
        yield from resolve_groups(edges)


def _compose(element):
    """(exact canonical E, {"copies": [copy ids], "near": [(C, kind, j, c)]})
    -> (article_id, (canonical_id, kind, jaccard, containment))."""
    exact_id, joined = element
    near = next(iter(joined["near"]), None)
    if near is not None:
        yield exact_id, near
    for copy_id in joined["copies"]:
        yield copy_id, near if near is not None else (exact_id, mh.EXACT, 1.0, 1.0)


class AttachFn(beam.DoFn):
    """(article_id, {"article": [...], "dup": [...]}) -> articles (main) and
    tagged "duplicates"."""

    DUPLICATES = "duplicates"

    def process(self, element):
        article_id, joined = element
        dup = next(iter(joined["dup"]), None)
        for article in joined["article"]:
            if dup is None:
                yield article
                continue
            canonical_id, kind, jac, cont = dup
            yield article._replace(duplicate_of=canonical_id)
            _KIND_COUNTERS[kind].inc()
            yield beam.pvalue.TaggedOutput(self.DUPLICATES, Duplicate(
                article_id=article_id, canonical_id=canonical_id, kind=kind,
                jaccard=float(jac), containment=float(cont)))


class NearDuplicates(beam.PTransform):
    """Exact, then near-duplicate detection; see the module docstring.

    Returns ``{"articles": PCollection[Article], "duplicates": PCollection[Duplicate]}``.
    """

    def __init__(self, config: DedupConfig = mh.DEFAULT_CONFIG, label=None):
        super().__init__(label)
        self.config = config

    def expand(self, articles):
        cfg = self.config
        exact = (
            articles
            | "Features" >> beam.ParDo(ComputeFeatures(cfg))
            | "GroupExact" >> beam.GroupByKey()
            | "ResolveExact" >> beam.ParDo(ResolveExact()).with_outputs(
                ResolveExact.COPIES, main="canonicals"))
        canonicals = exact.canonicals
        pairs = (
            canonicals
            | "BandKeys" >> beam.ParDo(BandKeysFn(cfg))
            | "GroupBands" >> beam.GroupByKey()
            | "BucketPairs" >> beam.ParDo(BucketPairsFn(cfg))
            | "DistinctPairs" >> beam.GroupByKey()
            | "PairByLeft" >> beam.Map(lambda kv: kv[0]))
        by_id = canonicals | "FeaturesById" >> beam.Map(lambda f: (f[mh.F_ID], f))
        left = (
            {"f": by_id, "p": pairs}
            | "JoinLeft" >> beam.CoGroupByKey()
            | "FanOutLeft" >> beam.FlatMap(_fan_out_left))
        edges = (
            {"f": by_id, "q": left}
            | "JoinRight" >> beam.CoGroupByKey()
            | "Verify" >> beam.ParDo(VerifyFn(cfg)))
        near = (
            edges
            | "EdgesToOneKey" >> beam.Map(lambda e: (0, e))
            | "GroupEdges" >> beam.GroupByKey()
            | "ResolveGroups" >> beam.ParDo(ResolveGroupsFn()))
        assignments = (
            {"copies": exact[ResolveExact.COPIES], "near": near}
            | "JoinExactNear" >> beam.CoGroupByKey()
            | "ComposeExact" >> beam.FlatMap(_compose))
        out = (
            {"article": articles | "ArticleById" >> beam.Map(lambda a: (a.article_id, a)),
             "dup": assignments}
            | "JoinArticles" >> beam.CoGroupByKey()
            | "Attach" >> beam.ParDo(AttachFn()).with_output_types(Article).with_outputs(
                AttachFn.DUPLICATES, main="articles"))
        duplicates = (out[AttachFn.DUPLICATES]
                      | "DuplicateRows" >> beam.Map(lambda d: d).with_output_types(Duplicate))
        return {"articles": out.articles, "duplicates": duplicates}
