"""Versions stage: keep the current version of each story, the others as superseded.

A story is identified by its id alone when the id is globally unique by
construction (a URI or URN such as a ninjs ``uri``, a NewsML-G2 ``guid`` or an
Atom ``tag:`` id; they identify the story whatever source label a version
carries), and by (source, id) otherwise (a flat feed's "1234" means nothing
outside its feed). The current version is the one
with the highest ``version``, then the latest version time, then the latest
ingest time; the content hash breaks any remaining tie so the choice never
depends on arrival order. A canceled or withheld current version stays an
article with its status: withdrawn stories are kept, never silently dropped.
"""
from __future__ import annotations

import re
from typing import Iterable, List, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from wiredesk.transforms import typed
from wiredesk.schemas.records import Article, Superseded

NAMESPACE = "wiredesk.versions"
SUPERSEDED = "superseded"


_GLOBAL_ID = re.compile(r"^[a-z][a-z0-9+.-]*:\S", re.IGNORECASE)


def is_global_id(article_id: str) -> bool:
    """True for URIs and URNs ("urn:newsml:...", "https://...", "tag:...")."""
    return bool(_GLOBAL_ID.match(article_id))


def story_key(article: Article) -> str:
    if is_global_id(article.article_id):
        return article.article_id
    return f"{article.source or ''}\x1f{article.article_id}"


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
            published_at=old.published_at, ingested_at=old.ingested_at)
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
            | "KeyByStory" >> beam.Map(lambda a: (story_key(a), a)).with_output_types(
                beam.typehints.Tuple[str, Article])
            | "GroupVersions" >> beam.GroupByKey()
            | "PickCurrent" >> beam.ParDo(ResolveFn()).with_outputs(SUPERSEDED, main="articles")
        )
        return {"articles": typed(out.articles, Article),
                "superseded": typed(out[SUPERSEDED], Superseded)}
