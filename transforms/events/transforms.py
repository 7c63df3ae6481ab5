"""``ClusterEvents``, the events stage: canonical articles -> entities ->
features -> vectors -> scored blocks -> clusters -> events; copies inherit
their canonical article's entities and event.

Everything is keyed: document frequencies are one sketch of constant size
(``frequencies``), the reference sample of the backgrounds is a constant
number of articles, the graph is clustered per connected component
(``components``), and assignments reach the articles by keyed joins. The
steps that score are in ``steps``, the graph steps in ``graph``. The algorithm and why it is built this
way: README, "Events".
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.typehints import KV

from wiredesk.schemas.records import Article, Event
from wiredesk.transforms import entities, typed  # the module: entities imports this package's pure modules
from wiredesk.transforms.cleaning.timestamps import epoch_seconds
from wiredesk.transforms.events.blocking import blocking_keys, keys_from_candidates, ranked_features
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.features import df_features, raw_features, weight_features
from wiredesk.transforms.events.frequencies import CountFrequencies, DfSketch, MergeFrequencies
from wiredesk.transforms.events.graph import ClusterGraph, MergeClusters
from wiredesk.transforms.events.records import ArticleFeatures, BlockMember, EventGroup, PriorMember
from wiredesk.transforms.events.steps import (
    NAMESPACE,
    BestNeighbours,
    BurstBoost,
    ExpandVectors,
    SampleReference,
    ScoreBlocks,
    WithBackground,
)
from wiredesk.transforms.events.summary import event_id, summarize_event
from wiredesk.transforms.events.vectors import pack_vector
from wiredesk.transforms.join import JoinByKey
from wiredesk.transforms.memory import ReleasingDoFn

__all__ = ["ClusterEvents", "ClusterGraph", "MergeClusters", "article_features", "vectorize", "inherit_entities"]


def article_features(article: Article, config: EventConfig) -> ArticleFeatures:
    """A canonical article's raw features and time."""
    raw = raw_features(article.headline, article.body, article.entities or [], config)
    return ArticleFeatures(article.article_id, epoch_seconds(article.published_at), raw)


def vectorize(feats: ArticleFeatures, df: DfSketch, config: EventConfig) -> BlockMember:
    """Raw features -> BlockMember: packed tf-idf vector and blocking keys."""
    vec = weight_features(feats.features, df, df.n_docs, config)
    keys = blocking_keys(vec, df, df.n_docs, config)
    return BlockMember(feats.article_id, feats.time, pack_vector(vec), keys)


def key_candidates(feats: ArticleFeatures, df: DfSketch, config: EventConfig) -> Tuple[str, List[str]]:
    """(id, the features that may be blocking keys, best first): what ``--state`` keeps instead of the keys,
    since a feature only this article had when it was vectorized (df 1) becomes a key when a later run's
    article shares it."""
    return feats.article_id, ranked_features(weight_features(feats.features, df, df.n_docs, config))


def rekey(member: BlockMember, df: DfSketch, config: EventConfig) -> BlockMember:
    """An earlier run's member (its ``keys`` the stored candidates) with its blocking keys under this run's
    document frequencies (as ``blocking.blocking_keys`` chooses them)."""
    return member._replace(keys=keys_from_candidates(member.keys, df, df.n_docs, config))


# -- events --------------------------------------------------------------------

class ResolveEventsFn(ReleasingDoFn):
    """(event key, the event's articles, copies included, and with ``--state``
    its earlier members) -> one EventGroup: the event's id and merges, worked
    out once for the articles and the Event row."""

    def __init__(self):
        #: Events found (singletons included).
        self.events = Metrics.counter(NAMESPACE, "events")
        #: Events reported by a single canonical article.
        self.singletons = Metrics.counter(NAMESPACE, "singleton_events")
        #: Earlier runs' events (``--state``) that this run's stories joined.
        self.continued = Metrics.counter(NAMESPACE, "continued_events")
        #: Earlier runs' events merged away into another (their ids are recorded).
        self.merged = Metrics.counter(NAMESPACE, "merged_events")

    def process(self, element):
        _, value = element
        members, priors = _event_parts(value)
        if not members:
            return
        members = _event_members(members)
        canonicals = [a for a in members if a.duplicate_of is None]
        self.events.inc()
        if len(canonicals) <= 1:
            self.singletons.inc()
        eid, merged = _event_identity(canonicals, members, priors)
        if priors:
            self.continued.inc()
            self.merged.inc(len(merged))
        yield EventGroup(eid, merged, members)


def _with_event_id(group: EventGroup) -> List[Article]:
    return [article._replace(event_id=group.event_id) for article in group.articles]


def _event_parts(value) -> Tuple[list, list]:
    """A grouped event: its articles, or (with ``--state``) {"article": [...], "prior": [PriorMember...]}."""
    if isinstance(value, dict):
        return list(value["article"]), list(value["prior"])
    return list(value), []


def _prior_order(prior: PriorMember):
    return prior.member.time is None, prior.member.time or 0.0, prior.member.article_id


def _event_identity(canonicals, members, priors) -> Tuple[str, List[str]]:
    """(event_id, merged-away ids): with earlier runs' members in the event, the event of the earliest of
    them (the others' events are merged into it); else the id of the earliest canonical article."""
    if priors:
        first = min(priors, key=_prior_order).event_id
        return first, sorted({p.event_id for p in priors} - {first})
    return event_id([(a.published_at, a.article_id) for a in canonicals or members]), []


def _event_members(members) -> List[Article]:
    return inherit_entities(sorted(members, key=lambda a: (a.article_id, a.source or "", a.content_hash)))


def summarize(group: EventGroup, df: DfSketch) -> Event:
    """An event's Event row."""
    return summarize_event(group.event_id, group.articles, df, df.n_docs, group.merged_event_ids)


def _merges(element) -> List[Tuple[str, str]]:
    """(event key, joined) -> (merged-away event id, the event it went to) for the state's rows."""
    _, value = element
    members, priors = _event_parts(value)
    if not members or not priors:
        return []
    eid, merged = _event_identity([], [], priors)
    return [(m, eid) for m in merged]


def _prior_by_event_key(element) -> List[Tuple[str, PriorMember]]:
    """(prior id, {"prior": [PriorMember], "event": [cluster key]}) -> (event key, PriorMember), as
    ``_keyed_by_event`` keys articles."""
    own, joined = element
    key = min(joined["event"], default=own)
    return [(key, p) for p in joined["prior"]]


def _own_key(article: Article) -> Tuple[str, Article]:
    """A copy goes with its canonical article."""
    return article.duplicate_of or article.article_id, article


def _final_cluster(element) -> List[Tuple[str, str]]:
    """(first cluster, {"article": [ids], "merged": [m]}) -> (article, m or
    the first cluster). A key with no articles is an article the first pass
    left alone that the second merged (``merge_min_size`` 1)."""
    cluster, joined = element
    final = min(joined["merged"], default=cluster)
    return [(a, final) for a in joined["article"] or [cluster]]


def _keyed_by_event(element) -> List[Tuple[str, Article]]:
    """(own id, {"article": [articles], "event": [key]}) -> (event key, article);
    an article of no cluster is an event of its own (its own id)."""
    own, joined = element
    key = min(joined["event"], default=own)
    return [(key, a) for a in joined["article"]]


def inherit_entities(members: List[Article]) -> List[Article]:
    """Copies take the entities of their canonical article (in the same event)."""
    found = {a.article_id: a.entities for a in members if a.duplicate_of is None}
    return [a if a.duplicate_of is None else a._replace(entities=found.get(a.duplicate_of, a.entities))
            for a in members]


class ClusterEvents(beam.PTransform):
    """Articles (``duplicate_of`` set by near-duplicate detection) ->
    ``articles`` (every article with ``entities`` and ``event_id``) and
    ``events`` (one Event per event).

    With ``--state`` the input is ``(articles, prior members, prior df)``: an earlier run's canonicals as
    ``PriorMember`` (their stored members, vectorized by that run, and their events) and its document
    frequencies (a DfSketch). The sketches are summed; the prior members are blocked, expanded, scored and
    clustered with the new ones; an event with prior members keeps the earliest one's ``event_id`` (the
    others' are merged into it and listed in ``merged_event_ids``); prior members are not output as articles.
    Also returned: ``members`` (every canonical's member before expansion, with its first background: what
    the state keeps), ``candidates`` (each new canonical's features that may become blocking keys, best first:
    the state keeps them instead of the keys, and a prior member's keys are chosen from them under this run's
    document frequencies), ``merges`` (merged-away id, surviving id) and ``df``."""

    def __init__(self, config: EventConfig = DEFAULT_CONFIG, model_name: Optional[str] = None,
                 with_state: bool = False):
        super().__init__()
        self.config = config
        self.model_name = model_name
        #: Also return what ``--state`` keeps (the key candidates).
        self.with_state = with_state

    def expand(self, inputs):
        cfg = self.config
        articles, prior, prior_df = inputs if isinstance(inputs, tuple) else (inputs, None, None)
        canonicals = articles | "Canonicals" >> beam.Filter(lambda a: a.duplicate_of is None)
        copies = articles | "Copies" >> beam.Filter(lambda a: a.duplicate_of is not None)
        canonicals = canonicals | "Entities" >> entities.ExtractEntities(self.model_name, cfg.ner_max_chars)

        feats = canonicals | "RawFeatures" >> beam.Map(article_features, cfg).with_output_types(ArticleFeatures)
        df = (
            feats
            | "DfFeatures" >> beam.Map(lambda f: df_features(f.features)).with_output_types(List[str])
            | "CountDf" >> CountFrequencies()
        )
        if prior_df is not None:
            df = (df, prior_df) | "WithPriorDf" >> beam.Flatten() | "MergeDf" >> MergeFrequencies()
        members = feats | "Vectorize" >> beam.Map(
            vectorize, df=beam.pvalue.AsSingleton(df), config=cfg).with_output_types(BlockMember)
        candidates = None
        if self.with_state or prior is not None:
            candidates = feats | "KeyCandidates" >> beam.Map(
                key_candidates, df=beam.pvalue.AsSingleton(df), config=cfg).with_output_types(KV[str, List[str]])
        if prior is not None:
            prior_members = prior | "PriorMembers" >> beam.Map(
                lambda pm, df: rekey(pm.member, df, cfg), df=beam.pvalue.AsSingleton(df)).with_output_types(
                BlockMember)
            members = (members, prior_members) | "WithPriorMembers" >> beam.Flatten()
        kept = members
        boost = members | "BurstBoost" >> BurstBoost(cfg)
        if cfg.expand_rounds:
            first_sample = members | "FirstSample" >> SampleReference(cfg)
            members = (members, first_sample) | "FirstBackground" >> WithBackground()
            kept = members
            edges = (members, boost) | "Score" >> ScoreBlocks(cfg, keep=cfg.expand_k, once=False)  # BestNeighbours: k
            asks = edges | "BestNeighbours" >> BestNeighbours(cfg)
            for round_ in range(cfg.expand_rounds):
                members = (members, asks) | f"Expand{round_ + 1}" >> ExpandVectors(cfg)
        sample = members | "Sample" >> SampleReference(cfg)
        members = (members, sample) | "Background" >> WithBackground()
        edges = (members, boost) | "Rescore" >> ScoreBlocks(cfg, node_edges=cfg.node_edges)

        clusters = edges | "Cluster" >> ClusterGraph(cfg, cfg.threshold)
        if cfg.merge_clusters:
            merged = (members, clusters, boost, sample) | "MergeClusters" >> MergeClusters(cfg)
            by_cluster = clusters | "ByFirstCluster" >> beam.KvSwap().with_output_types(KV[str, str])
            clusters = (
                {"article": by_cluster, "merged": merged}
                | "JoinMerged" >> JoinByKey()
                | "FinalCluster" >> beam.FlatMap(_final_cluster).with_output_types(KV[str, str])
            )
        keyed = (
            (canonicals, copies)
            | "AllArticles" >> beam.Flatten()
            | "ByOwnId" >> beam.Map(_own_key).with_output_types(KV[str, Article])
        )
        by_event = (
            {"article": keyed, "event": clusters}
            | "JoinEvents" >> JoinByKey()
            | "KeyByEvent" >> beam.FlatMap(_keyed_by_event).with_output_types(KV[str, Article])
        )
        if prior is None:
            grouped = by_event | "GroupEvents" >> beam.GroupByKey()
        else:
            prior_by_id = prior | "PriorById" >> beam.Map(lambda pm: (pm.member.article_id, pm)).with_output_types(
                KV[str, PriorMember])
            prior_by_event = (
                {"prior": prior_by_id, "event": clusters}
                | "JoinPriorEvents" >> JoinByKey()
                | "KeyPriorByEvent" >> beam.FlatMap(_prior_by_event_key).with_output_types(KV[str, PriorMember])
            )
            grouped = {"article": by_event, "prior": prior_by_event} | "GroupEvents" >> JoinByKey()
        groups = grouped | "ResolveEvents" >> beam.ParDo(ResolveEventsFn()).with_output_types(EventGroup)
        assigned = groups | "AssignEvents" >> beam.FlatMap(_with_event_id).with_output_types(Article)
        events = groups | "SummarizeEvents" >> beam.Map(summarize, df=beam.pvalue.AsSingleton(df))
        merges = None if prior is None else grouped | "Merges" >> beam.FlatMap(_merges).with_output_types(
            KV[str, str])
        return {"articles": typed(assigned, Article), "events": typed(events, Event), "members": kept,
                "merges": merges, "df": df, "candidates": candidates}
