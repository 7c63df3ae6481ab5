"""Entities stage: NER batches formed by a GroupByKey (no finish_bundle output), the model loaded once per worker."""
import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from wiredesk.schemas.records import Article, Entity
from wiredesk.transforms import entities
from wiredesk.transforms.entities import BATCH_ARTICLES, ExtractEntities, NerFn, batch_count, batch_of


def article(i, headline="Barack Obama visited Paris on Monday.", body="Angela Merkel met him in Berlin."):
    fields = {name: None for name in Article._fields if name not in Article._field_defaults}
    fields.update(article_id=f"A/{i}", headline=headline, body=body, language_detected=False, status="usable",
                  subjects=[], content_hash=f"h{i}", word_count=len(body.split()), input_format="jsonl",
                  origin="feed.jsonl", position=f"line {i}", entities=None)
    return Article(**fields)


def test_batch_count_and_stable_batch():
    assert [batch_count(n, 256) for n in (0, 1, 256, 257, 1926)] == [1, 1, 1, 2, 8]
    assert batch_of("AP/1234", 1) == 0
    assert batch_of("AP/1234", 7) == batch_of("AP/1234", 7) == 5  # pinned: blake2b, the same on every worker
    sizes = [0] * 8
    for i in range(2048):
        sizes[batch_of(f"A/{i}", 8)] += 1
    assert sum(sizes) == 2048 and max(sizes) < 2 * 256


class CountingNer:
    """A stand-in model: every text's first word as an entity; counts loads and pipe calls."""
    loads = 0

    def __init__(self):
        type(self).loads += 1
        self.calls = []

    def pipe(self, texts, batch_size):
        texts = list(texts)
        self.calls.append(len(texts))
        for text in texts:
            yield type("Doc", (), {"ents": [type("Span", (), {"text": text.split()[0], "label_": "PERSON"})()]})()


def test_every_article_comes_back_once_in_batches(monkeypatch):
    """More articles than one batch holds, in several bundles: none is lost (BatchElements on Dask lost each
    bundle's last batch), each analysed once, in ceil(n / batch_articles) nlp.pipe calls."""
    monkeypatch.setattr(entities, "load_ner", lambda name=None: CountingNer())
    monkeypatch.setattr(entities, "doc_entities", lambda doc: [Entity(e.text, e.label_, e.text.lower())
                                                               for e in doc.ents])
    arts = [article(i, headline=f"Name{i} said") for i in range(25)]
    with TestPipeline() as p:
        out = (p | beam.Create(arts, reshuffle=True) | ExtractEntities(batch_articles=10)
               | beam.Map(lambda a: (a.article_id, tuple(a.entities))))
        assert_that(out, equal_to([(f"A/{i}", (Entity(f"Name{i}", "PERSON", f"name{i}"),)) for i in range(25)]))
    assert batch_count(25, 10) == 3


def test_real_model_entities_equal_nlp_pipe_alone():
    pytest.importorskip("spacy")
    try:
        nlp = entities.load_ner()
    except entities.ModelNotFound as exc:
        pytest.skip(str(exc))
    arts = [article(i) for i in range(5)] + [article(9, "Tokyo and Osaka", "Toyota said so.")]
    want = [(a.article_id, tuple(entities.doc_entities(d)))
            for a, d in zip(arts, nlp.pipe([entities.ner_text(a) for a in arts]))]
    assert any(ents for _, ents in want)
    with TestPipeline() as p:
        out = p | beam.Create(arts) | ExtractEntities() | beam.Map(lambda a: (a.article_id, tuple(a.entities)))
        assert_that(out, equal_to(want))


def test_the_model_is_loaded_once_per_process(monkeypatch):
    """setup on every bundle (as the Dask runner calls it) reuses the worker's model."""
    CountingNer.loads = 0
    monkeypatch.setattr(entities, "load_ner", lambda name=None: CountingNer())
    fn = NerFn()
    for _ in range(3):
        fn.setup()
        model = fn._nlp
        fn.teardown()
    assert CountingNer.loads == 1 and model is not None
    assert BATCH_ARTICLES == 256
