"""Events stage: group canonical articles into events, copies inherit.

The algorithm (features, blocking, similarity, neighbour expansion, clustering)
is pure Python in ``transforms.events_core``; this module spreads it over Beam
keys:

1. entities (spaCy, ``transforms.entities``) on canonical articles only;
2. raw features per article; document frequencies by a combine over all
   articles (a side input of the features seen at least twice, and N);
3. weighted vectors per article; blocking keys (rare shared entities and
   terms) -> GroupByKey per block -> candidate pairs inside capped, sorted
   windows, never all pairs;
4. pair scores by two keyed joins (vectors travel to their pairs), then
   ``expand_rounds`` rounds of neighbour expansion, each a keyed join of
   vectors along the edges, and a final rescoring;
5. clustering over the edges in ONE worker: the only step that sees the whole
   graph. It holds edges (two ids and a float each, only pairs above
   ``edge_min``), not articles, so it stays small next to the data; average
   linkage over the sparse graph is what stops chaining (an article joins a
   cluster only if it is similar, on average, to the cluster's members), and
   that needs the connected graph in one place;
6. per event (GroupByKey by cluster; the article -> cluster assignments, ids
   only, reach the articles as a side input): a stable ``event_id`` from the
   event's earliest canonical article, ``event_id`` on every article, copies
   included (a copy is keyed with its canonical and inherits its entities),
   and one ``Event`` row.

Batch runs give the same events for the same input in any order: every step
is keyed, sorted or order-free. Streaming runs apply the same steps per window.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from schemas.records import Article, Event
from transforms import event_summary
from transforms import events_core as ec
from transforms import typed
from transforms.entities import ExtractEntities

NAMESPACE = "wiredesk.events"


# -- pure helpers used by the steps ------------------------------------------

def article_features(article: Article, config: ec.EventConfig):
    """(article_id, (raw features, time)) of a canonical article."""
    raw = ec.raw_features(article.headline, article.body, article.entities or [], config)
    return article.article_id, (raw, ec.parse_time(article.published_at))


def neighbour_messages(edge, min_sim: float):
    """An edge (a, b, s) tells b that a is a neighbour and a that b is."""
    a, b, s = edge
    if s >= min_sim:
        yield b, (a, s)
        yield a, (b, s)


def expand_one(vec: Dict[str, float], neighbours: Sequence[Tuple[float, str, Dict[str, float]]],
               config: ec.EventConfig) -> Dict[str, float]:
    """Neighbour expansion of one article, as ``events_core.expand_vectors``
    does for all: v' = unit(v + alpha * sum_j s_j v_j / sum_j s_j) over its
    ``expand_k`` most similar neighbours (ties by id)."""
    best = sorted(((s, j, v) for s, j, v in neighbours if s >= config.expand_min_sim),
                  key=lambda n: (-n[0], n[1]))[: config.expand_k]
    if not best:
        return vec
    total = sum(s for s, _, _ in best)
    acc = dict(vec)
    for s, _, v in best:
        for f, w in v.items():
            acc[f] = acc.get(f, 0.0) + w * config.expand_alpha * s / total
    top = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:300]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {f: w / norm for f, w in top}


# -- DoFns -------------------------------------------------------------------

class ClusterEdgesFn(beam.DoFn):
    """All edges (one key) -> (article_id, cluster key) for clustered articles."""

    def __init__(self, config: ec.EventConfig):
        self.config = config
        #: Edges (scored candidate pairs above edge_min) seen by the clustering step.
        self.edges = Metrics.counter(NAMESPACE, "edges")
        #: Articles that share an event with at least one other canonical article.
        self.clustered = Metrics.counter(NAMESPACE, "clustered_articles")

    def process(self, element):
        _, edges = element
        edges = sorted(edges)
        self.edges.inc(len(edges))
        nodes = sorted({a for a, _, _ in edges} | {b for _, b, _ in edges})
        assignment = ec.cluster_edges(nodes, edges, self.config.threshold, self.config.linkage)
        sizes: Dict[str, int] = {}
        for cluster in assignment.values():
            sizes[cluster] = sizes.get(cluster, 0) + 1
        for article_id, cluster in sorted(assignment.items()):
            if sizes[cluster] > 1:
                self.clustered.inc()
            yield article_id, cluster


class AssignEventsFn(beam.DoFn):
    """(cluster key, articles of the cluster, copies included) -> articles with
    event_id, and one Event row (tagged "events")."""

    EVENTS = "events"

    def __init__(self, config: ec.EventConfig):
        self.config = config
        #: Events found (singletons included).
        self.events = Metrics.counter(NAMESPACE, "events")
        #: Events reported by a single canonical article.
        self.singletons = Metrics.counter(NAMESPACE, "singleton_events")

    def process(self, element, df, n_docs):
        _, members = element
        members = inherit_entities(sorted(members, key=lambda a: (a.article_id, a.source or "", a.content_hash)))
        canonicals = [a for a in members if a.duplicate_of is None]
        event_id = event_summary.event_id([(a.published_at, a.article_id) for a in canonicals or members])
        self.events.inc()
        if len(canonicals) <= 1:
            self.singletons.inc()
        for article in members:
            yield article._replace(event_id=event_id)
        yield beam.pvalue.TaggedOutput(self.EVENTS, event_summary.summarize_event(event_id, members, df, n_docs))


def event_key(article: Article, clusters: Dict[str, str]) -> Tuple[str, Article]:
    """(cluster key, article): a copy goes with its canonical article."""
    own = article.duplicate_of or article.article_id
    return clusters.get(own, own), article


def inherit_entities(members: List[Article]) -> List[Article]:
    """Copies take the entities of their canonical article (in the same event)."""
    found = {a.article_id: a.entities for a in members if a.duplicate_of is None}
    return [a if a.duplicate_of is None else a._replace(entities=found.get(a.duplicate_of, a.entities))
            for a in members]


def _fan_out_left(element):
    """(a, {"v": [(vec, t)], "p": [b, ...]}) -> (b, (a, vec_a, t_a)) per pair."""
    a, joined = element
    for va, ta in joined["v"]:
        for b in joined["p"]:
            yield b, (a, va, ta)


class ScoreFn(beam.DoFn):
    """(b, {"v": [(vec_b, t_b)], "q": [(a, vec_a, t_a), ...]}) -> edges (lo, hi, sim)."""

    def __init__(self, config: ec.EventConfig):
        self.config = config
        #: Candidate pairs scored (blocking output, each round).
        self.scored = Metrics.counter(NAMESPACE, "pairs_scored")

    def process(self, element):
        b, joined = element
        for vb, tb in joined["v"]:
            for a, va, ta in joined["q"]:
                self.scored.inc()
                edge = ec.pair_edge(a, va, ta, b, vb, tb, self.config)
                if edge is not None:
                    yield edge


class ScorePairs(beam.PTransform):
    """Candidate pairs (a, b) + vectors (id, (vec, t)) -> edges (lo, hi, sim)."""

    def __init__(self, config: ec.EventConfig):
        super().__init__()
        self.config = config

    def expand(self, inputs):
        pairs, vecs = inputs
        left = (
            {"v": vecs, "p": pairs}
            | "JoinLeft" >> beam.CoGroupByKey()
            | "FanOutLeft" >> beam.FlatMap(_fan_out_left)
        )
        return (
            {"v": vecs, "q": left}
            | "JoinRight" >> beam.CoGroupByKey()
            | "Score" >> beam.ParDo(ScoreFn(self.config))
        )


def _expand(element, config):
    """(id, {"v": [(vec, t)], "nb": [(sim, nb_id, nb_vec)]}) -> (id, (expanded vec, t))."""
    article_id, joined = element
    for vec, t in joined["v"]:
        yield article_id, (expand_one(vec, list(joined["nb"]), config), t)


def _to_neighbours(element):
    """(b, {"v": [(vec_b, t)], "m": [(a, s)]}) -> (a, (s, b, vec_b))."""
    b, joined = element
    for vb, _ in joined["v"]:
        for a, s in joined["m"]:
            yield a, (s, b, vb)


class ExpandVectors(beam.PTransform):
    """One round of neighbour expansion: vectors + edges -> vectors."""

    def __init__(self, config: ec.EventConfig):
        super().__init__()
        self.config = config

    def expand(self, inputs):
        vecs, edges = inputs
        min_sim = self.config.expand_min_sim
        messages = edges | "Neighbours" >> beam.FlatMap(neighbour_messages, min_sim)
        neighbours = (
            {"v": vecs, "m": messages}
            | "JoinNeighbourVectors" >> beam.CoGroupByKey()
            | "SendVectors" >> beam.FlatMap(_to_neighbours)
        )
        return (
            {"v": vecs, "nb": neighbours}
            | "JoinOwnVector" >> beam.CoGroupByKey()
            | "Expand" >> beam.FlatMap(_expand, self.config)
        )


class ClusterEvents(beam.PTransform):
    """Articles (``duplicate_of`` set by near-duplicate detection) ->
    ``articles`` (every article with ``entities`` and ``event_id``) and
    ``events`` (one Event per event)."""

    def __init__(self, config: ec.EventConfig = ec.DEFAULT_CONFIG, model_name: Optional[str] = None):
        super().__init__()
        self.config = config
        self.model_name = model_name

    def expand(self, articles):
        cfg = self.config
        canonicals = articles | "Canonicals" >> beam.Filter(lambda a: a.duplicate_of is None)
        copies = articles | "Copies" >> beam.Filter(lambda a: a.duplicate_of is not None)
        canonicals = canonicals | "Entities" >> ExtractEntities(self.model_name, cfg.ner_max_chars)

        feats = canonicals | "RawFeatures" >> beam.Map(article_features, cfg)
        n_docs = feats | "CountDocs" >> beam.combiners.Count.Globally()
        df = (
            feats
            | "DfFeatures" >> beam.FlatMap(lambda kv: ec.df_features(kv[1][0]))
            | "CountDf" >> beam.combiners.Count.PerElement()
            | "SharedOnly" >> beam.Filter(lambda kv: kv[1] >= 2)
        )
        vecs = feats | "Weigh" >> beam.Map(
            lambda kv, df, n: (kv[0], (ec.weight_features(kv[1][0], df, n, cfg), kv[1][1])),
            df=beam.pvalue.AsDict(df), n=beam.pvalue.AsSingleton(n_docs))

        pairs = (
            vecs
            | "BlockKeys" >> beam.FlatMap(
                lambda kv, df, n: [(k, (kv[0], kv[1][1])) for k in ec.blocking_keys(kv[1][0], df, n, cfg)],
                df=beam.pvalue.AsDict(df), n=beam.pvalue.AsSingleton(n_docs))
            | "GroupBlocks" >> beam.GroupByKey()
            | "BlockPairs" >> beam.FlatMap(lambda kv: ec.block_pairs(list(kv[1]), cfg))
            | "DistinctPairs" >> beam.Distinct()
        )
        edges = (pairs, vecs) | "Score" >> ScorePairs(cfg)
        for round_ in range(cfg.expand_rounds):
            vecs = (vecs, edges) | f"Expand{round_ + 1}" >> ExpandVectors(cfg)
            edges = (pairs, vecs) | f"Rescore{round_ + 1}" >> ScorePairs(cfg)

        clusters = (
            edges
            | "EdgesToOneWorker" >> beam.Map(lambda e: (0, e))
            | "GatherEdges" >> beam.GroupByKey()
            | "ClusterEdges" >> beam.ParDo(ClusterEdgesFn(cfg))
        )
        # The assignments are ids only (clustered articles, not all): small
        # enough for a side input, which saves a shuffle of whole articles.
        assigned = (
            (canonicals, copies)
            | "AllArticles" >> beam.Flatten()
            | "KeyByEvent" >> beam.Map(event_key, clusters=beam.pvalue.AsDict(clusters))
            | "GroupEvents" >> beam.GroupByKey()
            | "AssignEvents" >> beam.ParDo(
                AssignEventsFn(cfg), df=beam.pvalue.AsDict(df), n_docs=beam.pvalue.AsSingleton(n_docs)
            ).with_outputs(AssignEventsFn.EVENTS, main="articles")
        )
        return {"articles": typed(assigned.articles, Article),
                "events": typed(assigned[AssignEventsFn.EVENTS], Event)}
