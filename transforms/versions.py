"""Versions stage: keep the current version of each story, the others as superseded.

A story is identified by its ``article_id``, the key normalize gave it
(``transforms.identity``: a global id as given, a plain id qualified by its
source or input file), so versions of one story meet and two feeds' "1234" do
not. The current version is the one
with the highest ``version``, then the latest version time, then the latest
ingest time; the content hash breaks any remaining tie so the choice never
depends on arrival order. A canceled or withheld current version stays an
article with its status: withdrawn stories are kept, never silently dropped.
"""
from __future__ import annotations

from typing import Iterable, List, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from wiredesk.schemas.records import Article, Superseded
from wiredesk.transforms.outputs import ParDoOutputs

NAMESPACE = "wiredesk.versions"
SUPERSEDED = "superseded"


def version_rank(a: Article) -> Tuple:
    """Sort key: larger is newer. Missing values rank lowest."""
    return (
        a.version if a.version is not None else -1,
        a.version_created or a.published_at or "",
        a.ingested_at or "",
        a.content_hash,
        a.origin,
        a.position,
    )


def resolve_versions(versions: Iterable[Article]) -> Tuple[Article, List[Superseded]]:
    """The current version of one story and a Superseded row for every other."""
    ordered = sorted(versions, key=version_rank, reverse=True)
    current = ordered[0]
    superseded = [
        Superseded(
            article_id=old.article_id, source=old.source, version=old.version,
            version_created=old.version_created, status=old.status,
            content_hash=old.content_hash, superseded_by_version=current.version,
            superseded_by_content_hash=current.content_hash,
            origin=old.origin, position=old.position,
            published_at=old.published_at, ingested_at=old.ingested_at,
            source_article_id=old.source_article_id)
        for old in ordered[1:]
    ]
    return current, superseded


class ResolveFn(beam.DoFn):
    def __init__(self):
        #: Older or repeated versions replaced by a story's current version.
        self.superseded = Metrics.counter(NAMESPACE, "superseded")
        #: Stories whose current version is canceled or withheld (kept, flagged).
        self.withdrawn = Metrics.counter(NAMESPACE, "withdrawn")
        #: Stories that arrived in more than one version.
        self.updated = Metrics.counter(NAMESPACE, "stories_with_versions")

    def process(self, element):
        _, versions = element
        current, superseded = resolve_versions(versions)
        if superseded:
            self.updated.inc()
        if current.status != "usable":
            self.withdrawn.inc()
        yield current
        for old in superseded:
            self.superseded.inc()
            yield beam.pvalue.TaggedOutput(SUPERSEDED, old)


class ResolveVersions(beam.PTransform):
    """Article -> ``articles`` (current versions) and ``superseded`` (Superseded)."""

    def expand(self, articles):
        out = (
            articles
            | "KeyByStory" >> beam.Map(lambda a: (a.article_id, a)).with_output_types(
                beam.typehints.Tuple[str, Article])
            | "GroupVersions" >> beam.GroupByKey()
            | "PickCurrent" >> ParDoOutputs(ResolveFn(), {"articles": Article, SUPERSEDED: Superseded})
        )
        return {"articles": out["articles"], "superseded": out[SUPERSEDED]}
