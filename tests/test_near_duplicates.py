"""NearDuplicates on the DirectRunner: exact, near and contained groups, no chaining,
determinism, oversized buckets; DoFn pickling."""
import glob
import json
import os
import pickle
import random
import tempfile

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from wiredesk.schemas.records import Article, Duplicate
from wiredesk.transforms import minhash as mh
from wiredesk.transforms import near_duplicates as nd
from wiredesk.transforms.minhash import DedupConfig
from wiredesk.transforms.near_duplicates import NearDuplicates

VOCAB = ("fire wind town homes police minister council road storm water crews river north "
         "south east west people residents hundred thousand said says today night morning "
         "government federal state report rain heat smoke blaze evacuate highway bridge").split()


def make_article(article_id, body, published_at="2020-01-01T00:00:00Z", source="s",
                 headline=None):
    return Article(
        article_id=article_id, source=source, headline=headline, headline_original=headline,
        body=body, body_original=body, byline=None, dateline=None, credit=None,
        language="en", language_detected=False, url=None, published_at=published_at,
        ingested_at=None, version=None, version_created=None, status="usable", urgency=None,
        subjects=[], content_hash="h:" + article_id, word_count=len(body.split()),
        input_format="jsonl", origin="test", position=article_id, duplicate_of=None,
        event_id=None)


def words(n, seed):
    rng = random.Random(seed)
    return [rng.choice(VOCAB) + str(rng.randrange(1000)) for _ in range(n)]


def at(minute):
    return "2020-01-01T00:%02d:00Z" % minute


def run(articles, config=mh.DEFAULT_CONFIG):
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


@pytest.fixture(scope="module")
def story():
    return words(300, 1)


def test_exact_near_and_contained_groups(story):
    body = " ".join(story)
    other = " ".join(words(300, 2))
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


def test_no_chaining():
    w = words(260, 3)
    a = make_article("A", " ".join(w[0:200]), at(0))
    b = make_article("B", " ".join(w[20:220]), at(1))
    c = make_article("C", " ".join(w[40:240]), at(2))
    cfg = mh.DEFAULT_CONFIG
    fa, fb, fc = (mh.article_features(x, cfg)[3] for x in (a, b, c))
    assert mh.verify(fa, fb, cfg)[0] == mh.NEAR and mh.verify(fb, fc, cfg)[0] == mh.NEAR
    assert mh.verify(fa, fc, cfg)[0] is None
    links, dup_of, _ = run([c, b, a])
    assert dup_of == {"A": None, "B": "A", "C": None}
    assert links == {"B": ("A", "near")}


def test_resolve_groups_picks_best_canonical_without_chaining():
    r = lambda i: (0, i, "", 0, 0, "x%d" % i)  # noqa: E731
    edges = [("x1", r(1), "x2", r(2), "near", 0.9, 0.9),
             ("x2", r(2), "x3", r(3), "near", 0.9, 0.9),
             ("x0", r(0), "x4", r(4), "contained", 0.5, 0.95),
             ("x3", r(3), "x4", r(4), "near", 0.9, 0.9)]
    for order in (edges, edges[::-1]):
        got = dict(nd.resolve_groups(order))
        assert got == {"x2": ("x1", "near", 0.9, 0.9), "x4": ("x0", "contained", 0.5, 0.95)}


def test_exact_copies_of_a_near_copy_point_to_the_near_canonical(story):
    body = " ".join(story)
    wrapped = "LONDON (Reuters) - " + body
    links, dup_of, _ = run([make_article("o", body, at(0)), make_article("w1", wrapped, at(1)),
                            make_article("w2", wrapped, at(2))])
    assert dup_of == {"o": None, "w1": "o", "w2": "o"}
    assert links["w2"] == ("o", "near")


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
    arts += [make_article("x%d" % i, " ".join(words(200, 50 + i)), at(i)) for i in range(5)]
    results = []
    for seed in range(3):
        shuffled = list(arts)
        random.Random(seed).shuffle(shuffled)
        results.append(sorted(run(shuffled)[2]))
    assert results[0] == results[1] == results[2]
    assert len(results[0]) >= 5


def test_oversized_bucket_is_capped_and_counted(story):
    arts = [make_article("d%02d" % i, " ".join(story) + " tail%d" % i, at(i)) for i in range(10)]
    cfg = DedupConfig(max_bucket_size=4, oversized_anchors=2)
    p = TestPipeline()
    out = p | beam.Create(arts) | NearDuplicates(cfg)
    assert_that(out["articles"] | beam.Map(lambda a: (a.article_id, a.duplicate_of)),
                equal_to([("d00", None)] + [("d%02d" % i, "d00") for i in range(1, 10)]))
    result = p.run()
    result.wait_until_finish()
    counters = {m.key.metric.name: m.committed for m in result.metrics().query(
        MetricsFilter().with_namespace(nd.NAMESPACE))["counters"]}
    assert counters["oversized_buckets"] > 0
    assert counters["near_copies"] == 9
    # Each of 10 members pairs only with the 2 anchors: 2*10 - 3 distinct pairs, not 45.
    assert counters["candidate_pairs"] <= 17
    assert counters["verified_pairs"] == counters["candidate_pairs"]


def test_counters(story):
    body = " ".join(story)
    arts = [make_article("o", body, at(0)), make_article("e", body, at(1)),
            make_article("t", " ".join(story[:150]), at(2)),
            make_article("n", body + " (AP)", at(3)),
            make_article("h", "", at(4), headline="Only a headline"),
            make_article("r", " ".join(words(300, 9)), at(5))]
    p = TestPipeline()
    _ = p | beam.Create(arts) | NearDuplicates()
    result = p.run()
    result.wait_until_finish()
    counters = {m.key.metric.name: m.committed for m in result.metrics().query(
        MetricsFilter().with_namespace(nd.NAMESPACE))["counters"]}
    assert counters["exact_copies"] == 1
    assert counters["near_copies"] == 1
    assert counters["contained_copies"] == 1
    assert counters["short_articles"] == 1
    assert counters["verified_pairs"] == 3          # o-t, o-n, t-n
    assert counters.get("rejected_candidates", 0) == counters["candidate_pairs"] - 3


@pytest.mark.parametrize("dofn", [
    nd.ComputeFeatures(mh.DEFAULT_CONFIG), nd.ResolveExact(), nd.BandKeysFn(mh.DEFAULT_CONFIG),
    nd.BucketPairsFn(DedupConfig(source_priority=("AP",))), nd.VerifyFn(mh.DEFAULT_CONFIG),
    nd.ResolveGroupsFn(), nd.AttachFn()])
def test_dofns_pickle(dofn):
    # Beam's own pickler (what runners use to ship DoFns) and plain pickle.
    from apache_beam.internal import pickler
    for dumps, loads in ((pickle.dumps, pickle.loads), (pickler.dumps, pickler.loads)):
        copy = loads(dumps(dofn))
        assert type(copy) is type(dofn)
        assert getattr(copy, "config", None) == getattr(dofn, "config", None)
    feats = mh.article_features(make_article("a", " ".join(words(50, 1))), mh.DEFAULT_CONFIG)
    assert pickle.loads(pickle.dumps(feats)) == feats
