"""NearDuplicates on the DirectRunner: exact, near and contained groups, no chaining,
determinism, oversized buckets, counters, typed PCollections; DoFn pickling."""
import glob
import json
import os
import pickle
import random
import tempfile

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.pipeline import PipelineVisitor
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.typehints import Any
from dedup_helpers import VOCAB, at, make_article, random_words

from wiredesk.schemas.records import Article, Duplicate
from wiredesk.transforms.dedup import DEFAULT_CONFIG, DedupConfig, NearDuplicates
from wiredesk.transforms.dedup import transforms as dt
from wiredesk.transforms.dedup.canonical import resolve_groups
from wiredesk.transforms.dedup.features import article_features
from wiredesk.transforms.dedup.records import NEAR, Assignment, Edge, Features, Rank
from wiredesk.transforms.dedup.verify import verify


def run(articles, config=DEFAULT_CONFIG):
    """(links {article_id: (canonical_id, kind)}, {id: duplicate_of}, [Duplicate]) via the
    real transform (results go through files: the runner pickles every function)."""
    with tempfile.TemporaryDirectory() as tmp:
        with TestPipeline() as p:
            out = p | beam.Create(articles) | NearDuplicates(config)
            (out["duplicates"] | "LinksJson" >> beam.Map(lambda d: json.dumps(list(d)))
             | "WriteLinks" >> beam.io.WriteToText(os.path.join(tmp, "links")))
            (out["articles"] | "ArticlesJson" >> beam.Map(
                lambda a: json.dumps([a.article_id, a.duplicate_of]))
             | "WriteArticles" >> beam.io.WriteToText(os.path.join(tmp, "articles")))
        links = [Duplicate(*json.loads(line)) for line in _lines(tmp, "links")]
        dup_of = dict(json.loads(line) for line in _lines(tmp, "articles"))
    return {d.article_id: (d.canonical_id, d.kind) for d in links}, dup_of, links


def _lines(tmp, prefix):
    for path in glob.glob(os.path.join(tmp, prefix + "*")):
        with open(path) as f:
            yield from (line for line in f if line.strip())


def run_counters(articles, config=DEFAULT_CONFIG, check=None):
    """Counters of namespace ``dt.NAMESPACE`` after running ``articles`` through the transform."""
    p = TestPipeline()
    out = p | beam.Create(articles) | NearDuplicates(config)
    if check:
        check(out)
    result = p.run()
    result.wait_until_finish()
    return {m.key.metric.name: m.committed for m in result.metrics().query(
        MetricsFilter().with_namespace(dt.NAMESPACE))["counters"]}


@pytest.fixture(scope="module")
def story():
    return random_words(300, 1)


def test_exact_near_and_contained_groups(story):
    body = " ".join(story)
    other = " ".join(random_words(300, 2))
    articles = [
        make_article("orig", body, at(0)),
        make_article("exact", body, at(5)),
        make_article("wrapped", "SYDNEY (AP) - " + body + " (Reporting by A. Lee)", at(6)),
        make_article("trimmed", " ".join(story[:160]), at(7)),
        make_article("other", other, at(1)),
        make_article("headline1", "", at(2), headline="Fire threatens Hill Top"),
        make_article("headline2", "", at(3), headline="FIRE threatens hill top!"),
        make_article("headline3", "", at(4), headline="Storm hits the coast"),
    ]
    expected_articles = [(a.article_id, d) for a, d in zip(articles, [
        None, "orig", "orig", "orig", None, None, "headline1", None])]
    with TestPipeline() as p:
        out = p | beam.Create(articles) | NearDuplicates()
        assert_that(out["articles"] | "Ids" >> beam.Map(lambda a: (a.article_id, a.duplicate_of)),
                    equal_to(expected_articles), label="AssertDuplicateOf")
        assert_that(out["duplicates"] | "Kinds" >> beam.Map(
                        lambda d: (d.article_id, d.canonical_id, d.kind)),
                    equal_to([("exact", "orig", "exact"), ("wrapped", "orig", "near"),
                              ("trimmed", "orig", "contained"),
                              ("headline2", "headline1", "exact")]),
                    label="AssertKinds")
        assert_that(out["duplicates"] | "Scores" >> beam.Map(
                        lambda d: (d.article_id, round(d.jaccard, 3), round(d.containment, 3))),
                    equal_to([("exact", 1.0, 1.0), ("headline2", 1.0, 1.0),
                              ("wrapped", round(296 / 302, 3), 1.0),
                              ("trimmed", round(156 / 296, 3), 1.0)]),
                    label="AssertScores")


def test_articles_keep_every_field_and_type(story):
    a = make_article("a", " ".join(story), at(0))
    b = make_article("b", " ".join(story), at(1))
    with TestPipeline() as p:
        out = p | beam.Create([a, b]) | NearDuplicates()
        assert out["articles"].element_type == Article
        assert out["duplicates"].element_type == Duplicate
        assert_that(out["articles"], equal_to([a, b._replace(duplicate_of="a")]),
                    label="AssertArticles")


def test_every_step_declares_its_record_type(story):
    """No step hands on untyped (pickled) elements: each output has a declared type."""
    p = TestPipeline()
    _ = p | beam.Create([make_article("a", " ".join(story))]) | "Dedup" >> NearDuplicates()
    types = {}

    class Collect(PipelineVisitor):
        def visit_value(self, value, producer_node):
            # "Dedup/Verify/ParDo(VerifyFn)" counts as "Dedup/Verify"; a step with outputs (ParDoOutputs) by
            # its picks: "Dedup/Attach/Pick[articles]" counts as "Dedup/Attach", its inner "Run" not at all.
            label = producer_node.full_label.split("/ParDo(")[0]
            if label.endswith("/Run"):
                return
            label = label.split("/Pick[")[0]
            types.setdefault(label, []).append(value.element_type)

    p.visit(Collect())
    steps = ["Features", "ResolveExact", "BandKeys", "BucketPairs", "PairByBetter", "FeaturesById",
             "FanOutToWorse", "Verify", "EdgesToOneKey", "ResolveGroups", "ComposeExact", "ArticleById",
             "Attach"]
    for step in steps:
        label = "Dedup/" + step
        assert label in types, label
        assert Any not in types[label], label
    assert types["Dedup/Verify"] == [Edge]
    assert sorted(map(str, types["Dedup/ResolveExact"])) == sorted(
        [str(Features), "Tuple[<class 'str'>, <class 'str'>]"])
    assert "Assignment" in str(types["Dedup/ComposeExact"])
    assert types["Dedup/Attach"] == [Article, Duplicate]


def test_no_chaining():
    w = random_words(260, 3)
    a = make_article("A", " ".join(w[0:200]), at(0))
    b = make_article("B", " ".join(w[20:220]), at(1))
    c = make_article("C", " ".join(w[40:240]), at(2))
    cfg = DEFAULT_CONFIG
    fa, fb, fc = (article_features(x, cfg)[1].features for x in (a, b, c))
    assert verify(fa, fb, cfg).kind == NEAR and verify(fb, fc, cfg).kind == NEAR
    assert verify(fa, fc, cfg).kind is None
    links, dup_of, _ = run([c, b, a])
    assert dup_of == {"A": None, "B": "A", "C": None}
    assert links == {"B": ("A", "near")}


def test_resolve_groups_picks_best_canonical_without_chaining():
    def r(i):
        return Rank(0, i, "", 0, 0, "x%d" % i)

    edges = [Edge("x1", r(1), "x2", r(2), "near", 0.9, 0.9),
             Edge("x2", r(2), "x3", r(3), "near", 0.9, 0.9),
             Edge("x0", r(0), "x4", r(4), "contained", 0.5, 0.95),
             Edge("x3", r(3), "x4", r(4), "near", 0.9, 0.9)]
    for order in (edges, edges[::-1]):
        got = dict(resolve_groups(order))
        assert got == {"x2": Assignment("x1", "near", 0.9, 0.9),
                       "x4": Assignment("x0", "contained", 0.5, 0.95)}


def test_exact_copies_of_a_near_copy_point_to_the_near_canonical(story):
    body = " ".join(story)
    wrapped = "LONDON (Reuters) - " + body
    links, dup_of, _ = run([make_article("o", body, at(0)), make_article("w1", wrapped, at(1)),
                            make_article("w2", wrapped, at(2))])
    assert dup_of == {"o": None, "w1": "o", "w2": "o"}
    assert links == {"w1": ("o", "near"), "w2": ("o", "near")}


def test_canonical_ties_and_source_priority(story):
    body = " ".join(story)
    arts = [make_article("b", body + " extra", at(0), source="Reuters"),
            make_article("a", body + " other", at(0), source="AP")]
    _, dup_of, _ = run(arts, DedupConfig(source_priority=("Reuters",)))
    assert dup_of == {"b": None, "a": "b"}
    _, dup_of, _ = run(arts)
    assert dup_of == {"a": None, "b": "a"}            # same date, length: smallest id


def test_deterministic_under_shuffled_input(story):
    rng = random.Random(5)
    arts = []
    for i in range(12):          # copies with random light edits, all at the same time
        w = list(story)
        for _ in range(rng.randrange(0, 6)):
            w[rng.randrange(len(w))] = rng.choice(VOCAB)
        arts.append(make_article("c%02d" % i, " ".join(w[:rng.randrange(150, 300)]), at(0)))
    arts += [make_article("x%d" % i, " ".join(random_words(200, 50 + i)), at(i)) for i in range(5)]
    results = []
    for seed in range(3):
        shuffled = list(arts)
        random.Random(seed).shuffle(shuffled)
        results.append(sorted(run(shuffled)[2]))
    assert results[0] == results[1] == results[2]
    # All at the same time: the longest copy (c09) is canonical. Copies whose edits
    # bring containment in c09 below 0.9 stay out of its group (no chaining through
    # copies they do match), and the unrelated x* articles are never linked.
    assert max(arts[:12], key=lambda a: len(a.body)).article_id == "c09"
    assert [(d.article_id, d.canonical_id, d.kind) for d in results[0]] == [
        (c, "c09", "contained") for c in ("c01", "c03", "c04", "c05", "c06", "c08", "c11")]


def test_oversized_bucket_is_capped_and_counted(story):
    arts = [make_article("d%02d" % i, " ".join(story) + " tail%d" % i, at(i)) for i in range(10)]
    cfg = DedupConfig(max_bucket_size=4, oversized_anchors=2)

    def check(out):
        assert_that(out["articles"] | beam.Map(lambda a: (a.article_id, a.duplicate_of)),
                    equal_to([("d00", None)] + [("d%02d" % i, "d00") for i in range(1, 10)]))

    counters = run_counters(arts, cfg, check)
    # Bodies differ only in their last shingle, which is the minimum of none of the 126
    # banded values: every one of the 42 bands puts all 10 in one (oversized) bucket.
    assert counters["oversized_buckets"] == 42
    assert counters["near_copies"] == 9
    # Each of 10 members pairs only with the 2 anchors d00, d01: 1 + 2*8 = 17 distinct
    # pairs, not 45.
    assert counters["candidate_pairs"] == 17
    assert counters["verified_pairs"] == 17
    assert "rejected_candidates" not in counters


def test_counters(story):
    body = " ".join(story)
    arts = [make_article("o", body, at(0)), make_article("e", body, at(1)),
            make_article("t", " ".join(story[:150]), at(2)),
            make_article("n", body + " (AP)", at(3)),
            make_article("h", "", at(4), headline="Only a headline"),
            make_article("r", " ".join(random_words(300, 9)), at(5))]
    counters = run_counters(arts)
    assert counters["exact_copies"] == 1
    assert counters["near_copies"] == 1
    assert counters["contained_copies"] == 1
    assert counters["short_articles"] == 1
    assert counters["verified_pairs"] == 3          # o-t, o-n, t-n
    assert counters["candidate_pairs"] == 3         # the unrelated "r" shares no band
    assert "rejected_candidates" not in counters
    assert "oversized_buckets" not in counters


@pytest.mark.parametrize("dofn", [
    dt.ComputeFeatures(DEFAULT_CONFIG), dt.BandKeysFn(DEFAULT_CONFIG),
    dt.BucketPairsFn(DedupConfig(source_priority=("AP",))), dt.VerifyFn(DedupConfig(jaccard_threshold=0.7))])
def test_configured_dofns_pickle(dofn):
    # Beam's own pickler (what runners use to ship DoFns) and plain pickle.
    from apache_beam.internal import pickler
    for dumps, loads in ((pickle.dumps, pickle.loads), (pickler.dumps, pickler.loads)):
        copy = loads(dumps(dofn))
        assert type(copy) is type(dofn)
        assert copy.config == dofn.config


@pytest.mark.parametrize("dofn", [dt.ResolveExact(), dt.ResolveGroupsFn(), dt.AttachFn()])
def test_stateless_dofns_pickle(dofn):
    from apache_beam.internal import pickler
    for dumps, loads in ((pickle.dumps, pickle.loads), (pickler.dumps, pickler.loads)):
        copy = loads(dumps(dofn))
        assert type(copy) is type(dofn)
        assert vars(copy) == vars(dofn)


def test_resolve_exact_picks_best_ranked_member():
    members = [article_features(make_article(i, " ".join(random_words(30, 4)), at(m)))[1]
               for i, m in (("late", 9), ("early", 1), ("mid", 5))]
    out = list(dt.ResolveExact().process(("key", members)))
    copies = sorted(o.value for o in out if isinstance(o, beam.pvalue.TaggedOutput))
    assert copies == [("early", "late"), ("early", "mid")]
    assert [o.article_id for o in out if not isinstance(o, beam.pvalue.TaggedOutput)] == ["early"]
