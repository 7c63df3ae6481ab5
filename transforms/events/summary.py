"""What an event is called and what it is about: the events-table row.

``event_id`` is the hashed id of the event's earliest canonical article, so it
is stable across re-runs and later coverage never changes it;
``summarize_event`` builds the digest line (title, first and last seen,
counts, sources, top entities and terms, representative article).
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from wiredesk.schemas.records import Article, EntityCount, Event
from wiredesk.transforms.cleaning.tokens import words
from wiredesk.transforms.events.features import idf
from wiredesk.transforms.events.text import terms

#: Entity kinds worth listing in a digest (dates and numbers are not).
DIGEST_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "LAW",
                           "WORK_OF_ART"})
TOP = 10
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def event_id(members: Iterable[Tuple[Optional[str], str]]) -> str:
    """``members``: (published_at, article_id) of the event's canonical articles."""
    first = min(members, key=lambda m: (m[0] is None, m[0] or "", m[1]))
    return "ev-" + hashlib.blake2b(first[1].encode("utf-8"), digest_size=8).hexdigest()


def first_sentence(text: str, limit: int = 200) -> str:
    first = _SENTENCE_END.split(text.strip(), 1)[0].split("\n", 1)[0]
    if len(first) > limit:
        cut = first.rfind(" ", 0, limit)
        first = first[: cut if cut > limit // 2 else limit] + "..."
    return first


def top_entities(canonicals: Sequence[Article]) -> List[EntityCount]:
    """Entities by the number of canonical articles that name them; each shown
    by its most frequent spelling and label."""
    articles = Counter()
    spellings: Dict[str, Counter] = defaultdict(Counter)
    labels: Dict[str, Counter] = defaultdict(Counter)
    for a in canonicals:
        seen = set()
        for e in a.entities or []:
            if e.label not in DIGEST_LABELS:
                continue
            spellings[e.norm][e.text] += 1
            labels[e.norm][e.label] += 1
            seen.add(e.norm)
        articles.update(seen)

    def most(counter: Counter) -> str:
        return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    ranked = sorted(articles.items(), key=lambda kv: (-kv[1], most(spellings[kv[0]])))[:TOP]
    return [EntityCount(text=most(spellings[n]), label=most(labels[n]), count=c) for n, c in ranked]


@lru_cache(maxsize=200_000)
def _term(word: str) -> Optional[str]:
    """The feature term of one lower-cased word (None for stop words)."""
    stemmed = terms(word)
    return stemmed[0] if stemmed else None


def top_terms(canonicals: Sequence[Article], df: Dict[str, int], n_docs: int) -> List[str]:
    """Terms weighted by how many of the event's articles use them times their
    rarity in the whole run (idf); shown as their most frequent surface form."""
    weight = Counter()
    surface: Dict[str, Counter] = defaultdict(Counter)
    for a in canonicals:
        seen = set()
        for word in words(f"{a.headline or ''}\n{a.body or ''}"):
            term = None if word[0].isdigit() else _term(word)  # numbers are not topics
            if term is None:
                continue
            surface[term][word] += 1
            seen.add(term)
        for term in seen:
            weight[term] += idf(df.get("t:" + term, 1), max(n_docs, 1))
    ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return [min(surface[t].items(), key=lambda kv: (-kv[1], kv[0]))[0] for t, _ in ranked]


def representative(canonicals: Sequence[Article]) -> Article:
    """The canonical article whose entities the rest of the event shares most
    (an entity-overlap medoid); articles with a headline first; ties to the
    earliest, then the smallest id."""
    counts = Counter()
    for a in canonicals:
        counts.update({e.norm for e in a.entities or []})

    def score(a: Article) -> float:
        norms = {e.norm for e in a.entities or []}
        return sum(counts[n] - 1 for n in norms) / math.sqrt(len(norms) + 1)

    return min(canonicals, key=lambda a: (not a.headline, -round(score(a), 9),
                                          a.published_at is None, a.published_at or "", a.article_id))


def summarize_event(event: str, members: Sequence[Article], df: Dict[str, int], n_docs: int,
                    merged: Sequence[str] = ()) -> Event:
    """One events-table row from all of an event's articles (copies included); ``merged``: earlier runs'
    events merged into it."""
    canonicals = [a for a in members if a.duplicate_of is None] or list(members)
    rep = representative(canonicals)
    times = sorted(t for t in (a.published_at or a.ingested_at for a in members) if t)
    sources = sorted({a.source for a in members if a.source})
    return Event(
        event_id=event,
        title=rep.headline or first_sentence(rep.body) or None,
        first_seen=times[0] if times else None,
        last_seen=times[-1] if times else None,
        article_count=len(members),
        canonical_count=len(canonicals),
        source_count=len(sources),
        sources=sources,
        top_entities=top_entities(canonicals),
        top_terms=top_terms(canonicals, df, n_docs),
        representative_article_id=rep.article_id,
        merged_event_ids=sorted(merged),
    )
