"""The events stage under TestPipeline: one event per story, copies inherit,
stable ids, same result in any input order."""
import random

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from test_versions import art

from wiredesk.pipeline.build import build_pipeline
from wiredesk.transforms.cleaning.timestamps import epoch_seconds
from wiredesk.transforms.events import DEFAULT_CONFIG, ClusterEvents
from wiredesk.transforms.events.features import raw_features
from wiredesk.transforms.events.records import BlockMember
from wiredesk.transforms.events.reference import cluster_articles
from wiredesk.transforms.events.steps import BurstBoost
from wiredesk.transforms.events.timing import data_burst_boost

STORIES = {
    "quake": [
        "A magnitude 7.1 earthquake struck off Hokkaido on Monday, Japan's Meteorological Agency said, "
        "shaking buildings in Sapporo and triggering a tsunami advisory for the coast.",
        "Japan lifted a tsunami advisory for Hokkaido after Monday's magnitude 7.1 earthquake near Sapporo; "
        "the Meteorological Agency reported no major damage.",
        "Residents of Sapporo described violent shaking as the 7.1 earthquake hit Hokkaido, and the Japan "
        "Meteorological Agency warned of aftershocks.",
    ],
    "election": [
        "Chile's President Gabriel Boric conceded defeat in Santiago on Sunday as Jose Antonio Kast won the "
        "presidential runoff with 56 percent of the vote.",
        "Jose Antonio Kast was elected president of Chile, beating the candidate backed by Gabriel Boric in "
        "Sunday's runoff, electoral officials in Santiago said.",
        "Markets in Santiago rallied after Jose Antonio Kast's runoff win in Chile; outgoing President Gabriel "
        "Boric promised an orderly transition.",
    ],
}


def story_articles():
    rows = []
    for name, bodies in STORIES.items():
        for i, body in enumerate(bodies):
            rows.append(art(f"{name}-{i}", source=f"Outlet {i}", body=body, content_hash=f"{name}{i}",
                            published_at=f"2024-03-1{i}T08:00:00Z"))
    return rows


def test_stories_become_events_and_copies_inherit():
    rows = story_articles()
    copy = rows[0]._replace(article_id="quake-copy", source="Partner", duplicate_of="quake-0")
    with TestPipeline() as p:
        out = p | beam.Create(rows + [copy]) | ClusterEvents()
        grouped = (out["articles"] | "StoryEvent" >> beam.Map(lambda a: (a.article_id.split("-")[0], a.event_id))
                   | "DistinctStoryEvent" >> beam.Distinct() | "PerStory" >> beam.combiners.Count.PerKey())
        assert_that(grouped, equal_to([("quake", 1), ("election", 1)]), label="one event per story")
        assert_that(out["articles"] | "Pair" >> beam.Filter(lambda a: a.article_id in ("quake-0", "quake-copy"))
                    | "Inherited" >> beam.Map(lambda a: (tuple(a.entities), a.event_id))
                    | "DistinctInherited" >> beam.Distinct()
                    | "CountInherited" >> beam.combiners.Count.Globally(), equal_to([1]),
                    label="copy inherits entities and event")
        counts = out["events"] | "Counts" >> beam.Map(lambda e: (e.article_count, e.canonical_count, e.source_count))
        assert_that(counts, equal_to([(4, 3, 4), (3, 3, 3)]), label="event rows count copies and sources")


def test_same_events_in_any_order(tmp_path):
    rows = story_articles()
    results = []
    for seed in (1, 2):
        random.Random(seed).shuffle(rows)
        prefix = str(tmp_path / f"run{seed}")
        with TestPipeline() as p:
            out = p | beam.Create(list(rows)) | ClusterEvents()
            out["articles"] | beam.Map(lambda a: f"{a.article_id}\t{a.event_id}") \
                | beam.io.WriteToText(prefix, shard_name_template="")
        results.append(sorted(open(prefix).read().split("\n")))
    assert results[0] == results[1]
    events = {}
    for line in filter(None, results[0]):
        article, event = line.split("\t")
        events.setdefault(event, []).append(article)
    assert sorted(sorted(a) for a in events.values()) == [[f"election-{i}" for i in range(3)],
                                                          [f"quake-{i}" for i in range(3)]]


def test_seeds_form_one_event():
    options = PipelineOptions([])
    with TestPipeline(options=options) as p:
        out = build_pipeline(p, options, output_dir="")
        assert_that(out["articles"] | "EventIds" >> beam.Map(lambda a: a.event_id)
                    | "DistinctEvents" >> beam.Distinct()
                    | "CountEvents" >> beam.combiners.Count.Globally(), equal_to([1]), label="one event")
        assert_that(out["events"] | "EventCounts" >> beam.Map(lambda e: (e.article_count, e.source_count)),
                    equal_to([(5, 5)]), label="five articles from five outlets")


FILLER = ["says", "report", "update", "live", "watch", "new", "latest", "first", "week", "today"]
STORY_WORDS = [["harbour", "crane", "collapse", "dockers", "rotterdam", "port", "inquiry", "cargo"],
               ["glacier", "melt", "alpine", "record", "swiss", "scientists", "summer", "ice"],
               ["chess", "olympiad", "grandmaster", "budapest", "final", "gold", "team", "draw"],
               ["vaccine", "malaria", "trial", "ghana", "children", "dose", "approval", "who"],
               ["railway", "strike", "unions", "france", "trains", "pension", "sncf", "talks"]]


def headline_bursts(n_stories=5, per_story=12, seed=8):
    """Short headlines of several stories, each story a burst of reports
    minutes apart, hours after the previous one; stories share filler words."""
    rnd = random.Random(seed)
    filler = FILLER
    topics = STORY_WORDS[:n_stories]
    rows = []
    for s, words in enumerate(topics):
        for i in range(per_story):
            text = " ".join(rnd.sample(words, 2) + rnd.sample(filler, 1)).capitalize()
            minute, second = divmod(s * 7200 + 37 * i + 13, 60)
            hour, minute = divmod(minute, 60)
            rows.append(art(f"s{s}-{i:02d}", source=f"Outlet {i}", headline=text, headline_original=text,
                            body="", content_hash=f"h{s}-{i}",
                            published_at=f"2024-03-10T{8 + hour:02d}:{minute:02d}:{second:02d}Z"))
    return rows


def _bare_dates(rows):
    return [r._replace(published_at=r.published_at[:10] + "T00:00:00Z") for r in rows]


@pytest.mark.parametrize("config_changes, times", [
    ({}, "as given"),
    ({"merge_min_size": 1}, "as given"),
    ({}, "none"),
    ({}, "bare dates"),
])
def test_pipeline_matches_the_reference_driver(tmp_path, config_changes, times):
    """ClusterEvents (both passes, spread over Beam keys) and the one-process
    driver reference.cluster_articles group the same articles together."""
    config = DEFAULT_CONFIG.replace(**config_changes)
    rows = headline_bursts()
    if times == "none":
        rows = [r._replace(published_at=None) for r in rows]
    elif times == "bare dates":
        rows = _bare_dates(rows)
    prefix = str(tmp_path / "events")
    with TestPipeline() as p:
        out = p | beam.Create(rows) | ClusterEvents(config)
        out["articles"] | beam.Map(lambda a: repr((a.article_id, a.event_id, a.headline, a.published_at,
                                                    [tuple(e) for e in a.entities]))) \
            | beam.io.WriteToText(prefix, shard_name_template="")
    import ast

    from wiredesk.schemas.records import Entity
    got = [ast.literal_eval(line) for line in open(prefix).read().splitlines()]
    assert len(got) == len(rows)
    raws = {i: raw_features(h, None, [Entity(*e) for e in ents], DEFAULT_CONFIG) for i, _, h, _, ents in got}
    times = {i: epoch_seconds(t) for i, _, _, t, _ in got}
    reference = cluster_articles(sorted(raws), raws, times, config)

    def partition(assign):
        groups = {}
        for article, key in assign:
            groups.setdefault(key, set()).add(article)
        return sorted(sorted(g) for g in groups.values())

    beam_events = partition((i, e) for i, e, _, _, _ in got)
    assert beam_events == partition(reference.items())
    if times == "as given":
        # no event spans two stories, and the bursts hold the five stories in six events
        assert all(len({i.split("-")[0] for i in event}) == 1 for event in beam_events)
        assert len(beam_events) == 6


def test_burst_boost_step_matches_the_pure_function():
    rows = headline_bursts()
    members = [BlockMember(a.article_id, epoch_seconds(a.published_at), b"",
                           list(sorted(set(a.headline.lower().split()))[:2])) for a in rows]
    blocks = {}
    for m in members:
        for k in m.keys:
            blocks.setdefault(k, []).append(m.article_id)
    want = data_burst_boost({m.article_id: m.time for m in members}, blocks)
    assert want == DEFAULT_CONFIG.time_burst_boost  # bursts this tight earn the full (capped) boost
    with TestPipeline() as p:
        got = p | beam.Create(members) | BurstBoost(DEFAULT_CONFIG)
        assert_that(got, equal_to([want]), label="same boost")
