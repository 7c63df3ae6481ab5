"""Version resolution: the newest version wins whatever the arrival order."""
import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from wiredesk.schemas.records import Article
from wiredesk.transforms.identity import story_key
from wiredesk.transforms.versions import ResolveVersions, resolve_versions


def art(article_id="a1", source="AP", version=None, version_created=None, status="usable", body="text", **kw):
    fields = dict(
        article_id=article_id, source=source, headline="h", headline_original="h", body=body,
        body_original=body, byline=None, dateline=None, credit=None, language="en",
        language_detected=False, url=None, published_at="2019-05-15T00:00:00Z", ingested_at=None,
        version=version, version_created=version_created, status=status, urgency=None, subjects=[],
        content_hash=f"hash-{body}", word_count=1, input_format="ninjs", origin="f", position="line 1",
        duplicate_of=None, event_id=None)
    fields.update(kw)
    return Article(**fields)


def test_higher_version_wins_in_any_order():
    versions = [art(version=v, body=f"v{v}") for v in (1, 3, 2)]
    for _ in range(5):
        random.shuffle(versions)
        current, superseded = resolve_versions(versions)
        assert current.version == 3
        assert sorted(s.version for s in superseded) == [1, 2]
        assert all(s.superseded_by_version == 3 for s in superseded)


def test_later_version_time_wins_without_numbers():
    early = art(version_created="2019-05-15T08:00:00Z", body="early")
    late = art(version_created="2019-05-15T09:30:00Z", body="late")
    assert resolve_versions([late, early])[0].body == "late"
    assert resolve_versions([early, late])[0].body == "late"


def test_canceled_latest_version_is_kept_with_status():
    current, superseded = resolve_versions([art(version=1), art(version=2, status="canceled", body="")])
    assert current.status == "canceled" and len(superseded) == 1


def test_identical_redelivery_is_superseded_once():
    current, superseded = resolve_versions([art(version=1), art(version=1, position="line 2")])
    assert len(superseded) == 1 and current.version == 1


def keyed(source_id, source="AP", **kw):
    """An article as normalize makes it: keyed by its story key."""
    return art(story_key(source_id, source, "feed.jsonl"), source=source, source_article_id=source_id, **kw)


@pytest.mark.parametrize("seed", [0, 1])
def test_resolve_versions_transform(seed):
    rows = [keyed("a", version=1, body="a1"), keyed("a", version=2, body="a2"),
            keyed("b", source="Reuters", version=1, body="b1"),
            keyed("a", source="Reuters", version=1, body="other-source-same-id")]
    random.Random(seed).shuffle(rows)
    with TestPipeline() as p:
        out = p | beam.Create(rows) | ResolveVersions()
        assert_that(out["articles"] | beam.Map(lambda a: (a.article_id, a.source_article_id, a.body)),
                    equal_to([("AP/a", "a", "a2"), ("Reuters/b", "b", "b1"),
                              ("Reuters/a", "a", "other-source-same-id")]),
                    label="current versions")
        assert_that(out["superseded"] | beam.Map(lambda s: (s.article_id, s.source_article_id, s.version,
                                                            s.superseded_by_version)),
                    equal_to([("AP/a", "a", 1, 2)]), label="superseded versions")


def test_global_ids_identify_the_story_whatever_the_source_label():
    """ninjs uri / NewsML guid: a version without copyrightholder is still the same story."""
    uri = "urn:newsml:example.com:20240311:quake"
    with TestPipeline() as p:
        out = p | beam.Create([keyed(uri, source="Wire News", version=1, body="v1"),
                               keyed(uri, source=None, version=2, body="v2"),
                               keyed("1234", source="Feed A", body="a"), keyed("1234", source="Feed B", body="b")]) \
            | ResolveVersions()
        assert_that(out["articles"] | beam.Map(lambda a: (a.article_id, a.body)),
                    equal_to([(uri, "v2"), ("Feed A/1234", "a"), ("Feed B/1234", "b")]),
                    label="uri once, plain ids per source")
