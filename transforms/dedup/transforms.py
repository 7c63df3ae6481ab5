"""``NearDuplicates``: exact, then near-duplicate detection as Beam transforms (any runner).

Takes ``PCollection[Article]`` (``duplicate_of`` None on input) and returns
``{"articles": every input article, copies with duplicate_of set,
"duplicates": one Duplicate per copy}``. The steps, and why the grouping of
verified edges runs on one worker, are described in ``docs/dedup.md``; the
logic lives in the pure modules beside this one. Every record between steps
is a RowCoder NamedTuple from ``records``.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.typehints import KV

from wiredesk.schemas.records import Article, Duplicate
from wiredesk.transforms.dedup.canonical import resolve_groups
from wiredesk.transforms.dedup.config import DEFAULT_CONFIG, DedupConfig
from wiredesk.transforms.dedup.features import article_features
from wiredesk.transforms.dedup.lsh import band_keys, bucket_pairs
from wiredesk.transforms.dedup.records import (
    CONTAINED,
    EXACT,
    NEAR,
    Assignment,
    BucketMember,
    CandidatePair,
    Edge,
    ExactMember,
    Features,
)
from wiredesk.transforms.dedup.signatures import unpack_u32
from wiredesk.transforms.dedup.verify import verify
from wiredesk.transforms.join import JoinByKey
from wiredesk.transforms.outputs import ParDoOutputs

__all__ = ["NAMESPACE", "NearDuplicates", "ComputeFeatures", "ResolveExact", "BandKeysFn",
           "BucketPairsFn", "VerifyFn", "ResolveGroupsFn", "AttachFn", "PRIOR_OFFSET", "prior_member", "is_prior"]

#: How far a prior canonical's rank (one of an earlier run's, ``--state``) is moved ahead of every new
#: article's: ``Rank.undated`` minus this, so an earlier canonical always stays canonical, and prior ranks keep
#: their own order among themselves.
PRIOR_OFFSET = 3


def prior_member(member: ExactMember) -> ExactMember:
    """An earlier run's canonical as an exact-group member that ranks before every new article."""
    rank = member.rank._replace(undated=member.rank.undated - PRIOR_OFFSET)
    features = member.features._replace(rank=rank) if member.features is not None else None
    return ExactMember(rank, member.article_id, features)


def is_prior(rank) -> bool:
    return rank.undated < 0

#: Counter namespace; ``wiredesk run`` prints every counter of it. Counters:
#: exact_copies, near_copies (includes exact copies of a near copy),
#: contained_copies (Duplicate rows of each kind); candidate_pairs (distinct
#: LSH pairs, each verified once) = verified_pairs + rejected_candidates;
#: oversized_buckets (buckets above max_bucket_size, not fully enumerated);
#: short_articles (fewer than shingle_size words: exact path only).
NAMESPACE = "wiredesk.near_duplicates"


class ComputeFeatures(beam.DoFn):
    """Article -> (exact key, ExactMember): rank, and features unless the body is short."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def setup(self):
        self.short_articles = Metrics.counter(NAMESPACE, "short_articles")

    def process(self, article):
        key, member = article_features(article, self.config)
        if member.features is None:
            self.short_articles.inc()
        yield key, member


class ResolveExact(beam.DoFn):
    """One exact group -> main: Features of its canonical (when shingled); tagged
    "exact_copies": (canonical_id, copy_id) for every other member."""

    COPIES = "exact_copies"

    def process(self, element):
        _key, members = element
        best = None
        ranked = []
        for member in members:
            ranked.append((member.rank, member.article_id))
            if best is None or member.rank < best.rank:
                best = member
        for rank, article_id in ranked:
            if (rank, article_id) != (best.rank, best.article_id):
                yield beam.pvalue.TaggedOutput(self.COPIES, (best.article_id, article_id))
        if best.features is not None:
            yield best.features


class BandKeysFn(beam.DoFn):
    """Features -> (band key, BucketMember) for every band."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def process(self, feats: Features):
        member = BucketMember(feats.rank, feats.article_id)
        for key in band_keys(unpack_u32(feats.signature), self.config):
            yield key, member


class BucketPairsFn(beam.DoFn):
    """One LSH bucket -> (CandidatePair, None), better-ranked article first."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def setup(self):
        self.oversized_buckets = Metrics.counter(NAMESPACE, "oversized_buckets")

    def process(self, element):
        _key, members = element
        # Two earlier runs' canonicals were compared when the later one arrived: not again.
        priors = {m.article_id for m in members if is_prior(m.rank)}
        oversized, pairs = bucket_pairs(members, self.config)
        if oversized:
            self.oversized_buckets.inc()
        for pair in pairs:
            if priors and pair.better_id in priors and pair.worse_id in priors:
                continue
            yield pair, None


class VerifyFn(beam.DoFn):
    """(worse_id, {"features": [its Features], "better_features": [Features...]})
    -> an Edge for every candidate pair that passes verification."""

    def __init__(self, config: DedupConfig):
        self.config = config

    def setup(self):
        self.candidate_pairs = Metrics.counter(NAMESPACE, "candidate_pairs")
        self.verified_pairs = Metrics.counter(NAMESPACE, "verified_pairs")
        self.rejected_candidates = Metrics.counter(NAMESPACE, "rejected_candidates")

    def process(self, element):
        _worse_id, joined = element
        worse = next(iter(joined["features"]), None)
        if worse is None:
            return
        for better in joined["better_features"]:
            self.candidate_pairs.inc()
            verdict = verify(better, worse, self.config)
            if verdict.kind is None:
                self.rejected_candidates.inc()
                continue
            self.verified_pairs.inc()
            yield Edge(better.article_id, better.rank, worse.article_id, worse.rank,
                       verdict.kind, verdict.jaccard, verdict.containment)


def _fan_out_to_worse(element):
    """(better_id, {"features": [Features], "worse_ids": [ids]}) -> (worse_id, better Features)."""
    _better_id, joined = element
    better = next(iter(joined["features"]), None)
    if better is None:
        return
    for worse_id in joined["worse_ids"]:
        yield worse_id, better


class ResolveGroupsFn(beam.DoFn):
    """All verified edges (one key) -> (copy_id, Assignment); see ``canonical.resolve_groups``."""

    def process(self, element):
        _key, edges = element
        yield from resolve_groups(edges)


def _compose(element):
    """(exact canonical E, {"exact_copies": [ids], "near_canonical": [Assignment]})
    -> (article_id, Assignment): E's exact copies follow E to its near canonical."""
    exact_id, joined = element
    near = next(iter(joined["near_canonical"]), None)
    if near is not None:
        yield exact_id, near
    for copy_id in joined["exact_copies"]:
        yield copy_id, near if near is not None else Assignment(exact_id, EXACT, 1.0, 1.0)


class AttachFn(beam.DoFn):
    """(article_id, {"article": [Article], "assignment": [Assignment]}) -> articles
    (main, duplicate_of set on copies) and tagged "duplicates"."""

    DUPLICATES = "duplicates"

    def setup(self):
        self.copies = {kind: Metrics.counter(NAMESPACE, kind + "_copies")
                       for kind in (EXACT, NEAR, CONTAINED)}

    def process(self, element):
        article_id, joined = element
        assignment = next(iter(joined["assignment"]), None)
        for article in joined["article"]:
            if assignment is None:
                yield article
                continue
            yield article._replace(duplicate_of=assignment.canonical_id)
            self.copies[assignment.kind].inc()
            yield beam.pvalue.TaggedOutput(self.DUPLICATES, Duplicate(
                article_id=article_id, canonical_id=assignment.canonical_id, kind=assignment.kind,
                jaccard=float(assignment.jaccard), containment=float(assignment.containment)))


class NearDuplicates(beam.PTransform):
    """Exact, then near-duplicate detection with one shared DedupConfig.

    Returns ``{"articles": PCollection[Article], "duplicates": PCollection[Duplicate],
    "members": PCollection[KV[exact key, ExactMember]]}`` (what ``--state`` keeps of the canonicals).

    The input is the articles, or ``(articles, prior)`` with ``prior`` an earlier run's canonicals as
    ``KV[exact key, ExactMember]`` (``--state``): they take part in the exact groups and the LSH buckets,
    ranked before every new article (``prior_member``), so a new copy of one points to it and an earlier
    canonical stays canonical; they are not articles of this run and are not output.
    """

    def __init__(self, config: DedupConfig = DEFAULT_CONFIG, label=None):
        super().__init__(label)
        self.config = config

    def expand(self, inputs):
        cfg = self.config
        articles, prior = inputs if isinstance(inputs, tuple) else (inputs, None)
        members = articles | "Features" >> beam.ParDo(ComputeFeatures(cfg)).with_output_types(KV[str, ExactMember])
        grouped = members
        if prior is not None:
            grouped = (
                (members, prior | "PriorRank" >> beam.MapTuple(lambda k, m: (k, prior_member(m))).with_output_types(
                    KV[str, ExactMember]))
                | "WithPrior" >> beam.Flatten())
        exact = (
            grouped
            | "GroupExact" >> beam.GroupByKey()
            | "ResolveExact" >> ParDoOutputs(ResolveExact(), {"canonicals": Features,
                                                             ResolveExact.COPIES: KV[str, str]}))
        canonicals = exact["canonicals"]
        exact_copies = exact[ResolveExact.COPIES]
        pairs = (
            canonicals
            | "BandKeys" >> beam.ParDo(BandKeysFn(cfg)).with_output_types(KV[bytes, BucketMember])
            | "GroupBands" >> beam.GroupByKey()
            | "BucketPairs" >> beam.ParDo(BucketPairsFn(cfg)).with_output_types(KV[CandidatePair, None])
            | "DistinctPairs" >> beam.GroupByKey()
            | "PairByBetter" >> beam.Map(lambda kv: (kv[0].better_id, kv[0].worse_id)).with_output_types(
                KV[str, str]))
        by_id = canonicals | "FeaturesById" >> beam.Map(
            lambda f: (f.article_id, f)).with_output_types(KV[str, Features])
        better_by_worse = (
            {"features": by_id, "worse_ids": pairs}
            | "JoinBetter" >> JoinByKey()
            | "FanOutToWorse" >> beam.FlatMap(_fan_out_to_worse).with_output_types(KV[str, Features]))
        edges = (
            {"features": by_id, "better_features": better_by_worse}
            | "JoinWorse" >> JoinByKey()
            | "Verify" >> beam.ParDo(VerifyFn(cfg)).with_output_types(Edge))
        near = (
            edges
            | "EdgesToOneKey" >> beam.Map(lambda e: (0, e)).with_output_types(KV[int, Edge])
            | "GroupEdges" >> beam.GroupByKey()
            | "ResolveGroups" >> beam.ParDo(ResolveGroupsFn()).with_output_types(KV[str, Assignment]))
        assignments = (
            {"exact_copies": exact_copies, "near_canonical": near}
            | "JoinExactNear" >> JoinByKey()
            | "ComposeExact" >> beam.FlatMap(_compose).with_output_types(KV[str, Assignment]))
        out = (
            {"article": articles | "ArticleById" >> beam.Map(
                lambda a: (a.article_id, a)).with_output_types(KV[str, Article]),
             "assignment": assignments}
            | "JoinArticles" >> JoinByKey()
            | "Attach" >> ParDoOutputs(AttachFn(), {"articles": Article, AttachFn.DUPLICATES: Duplicate}))
        return {"articles": out["articles"], "duplicates": out[AttachFn.DUPLICATES], "members": members}
