"""Features of an article and their weights: terms, headline terms and
normalized entity keys, counted (``raw_features``), then weighted by their
rarity in the run (``document_frequencies``, ``weight_features``).

Document frequencies come from the data itself, so the weights need no model
and adapt to each run's vocabulary.
"""
from __future__ import annotations

import math
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from wiredesk.schemas.records import Entity
from wiredesk.transforms.cleaning.tokens import fold
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.text import clip, split_headline, terms

__all__ = ["NAME_LABELS", "NUMBER_LABELS", "ENTITY_LABELS", "normalize_entity",
           "entities_from_spans", "raw_features", "df_key", "df_features", "document_frequencies", "idf",
           "block_weights", "weight_features"]

NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT",
                         "WORK_OF_ART", "LAW", "PRODUCT", "LANGUAGE"})
NUMBER_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "MONEY", "QUANTITY", "PERCENT",
                           "ORDINAL"})
ENTITY_LABELS = NAME_LABELS | NUMBER_LABELS

_WS = re.compile(r"\s+")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def normalize_entity(text: str, label: str) -> Optional[str]:
    """A matching key for an entity mention, or None for unusable ones."""
    t = _WS.sub(" ", fold(text)).strip()
    t = t.replace("’", "'")
    t = re.sub(r"['’]s$", "", t)
    t = re.sub(r"^(the|a|an)\s+", "", t)
    t = re.sub(r"[^\w\s]", "", t)
    t = _WS.sub(" ", t).strip()
    if not t or len(t) < 2 and not t.isdigit():
        return None
    if label in NUMBER_LABELS:
        if label == "DATE":
            years = _YEAR.findall(t)
            if len(years) == 1 and len(t) > 4:
                return years[0]
            return t if any(c.isdigit() for c in t) else None
        if not any(c.isdigit() for c in t):
            return None
    return t


def entities_from_spans(spans: Iterable[Tuple[str, str]]) -> List[Entity]:
    """(text, label) spans -> Entities with a key, unusable ones dropped."""
    out = []
    for text, label in spans:
        if label not in ENTITY_LABELS:
            continue
        norm = normalize_entity(text, label)
        if norm:
            out.append(Entity(text, label, norm))
    return out


def raw_features(headline: Optional[str], body: Optional[str],
                 entities: Sequence, config: EventConfig = DEFAULT_CONFIG) -> Dict[str, float]:
    """Counts of features, prefixed by block: ``t:`` body+headline terms,
    ``h:`` headline terms, ``e:`` entity keys (a person's surname too)."""
    h, b = split_headline(headline, body, config.headline_from_body)
    feats: Dict[str, float] = {}
    for w in terms(h + "\n" + clip(b, config.term_max_chars)):
        k = "t:" + w
        feats[k] = feats.get(k, 0) + 1
    for w in set(terms(h)):
        feats["h:" + w] = 1
    for e in entities:
        if not isinstance(e, Entity):
            e = entities_from_spans([e])
            if not e:
                continue
            e = e[0]
        keys = [e.norm]
        if e.label == "PERSON" and " " in e.norm:
            keys.append(e.norm.rsplit(" ", 1)[1])
        for key in keys:
            k = "e:" + key
            feats[k] = feats.get(k, 0) + 1
    return feats


def df_key(feature: str) -> str:
    """Headline terms share the document frequency of the term."""
    return "t:" + feature[2:] if feature.startswith("h:") else feature


def df_features(raw: Dict[str, float]) -> List[str]:
    """The features an article counts once toward document frequencies."""
    return [f for f in raw if not f.startswith("h:")]


def document_frequencies(raws: Iterable[Dict[str, float]]) -> Tuple[Dict[str, int], int]:
    """(feature -> number of articles that have it, number of articles)."""
    df: Dict[str, int] = {}
    n = 0
    for raw in raws:
        n += 1
        for f in df_features(raw):
            df[f] = df.get(f, 0) + 1
    return df, n


def idf(df: int, n_docs: int) -> float:
    """Smoothed inverse document frequency."""
    return math.log((n_docs + 1) / (df + 1)) + 1.0


def block_weights(config: EventConfig) -> Dict[str, float]:
    """Feature block prefix -> its weight in the vector."""
    return {"t": config.w_terms, "h": config.w_headline, "e": config.w_entities}


def weight_features(raw: Dict[str, float], df, n_docs: int,
                    config: EventConfig = DEFAULT_CONFIG) -> Dict[str, float]:
    """Unit-length sparse vector: per block sublinear tf-idf, L2-normalized
    and scaled by sqrt(block weight); the ``max_features`` heaviest kept.
    ``df`` is anything with ``get(feature, default)``: a dict, or the run's
    ``frequencies.DfSketch``."""
    blocks: Dict[str, Dict[str, float]] = {}
    for f, tf in raw.items():
        w = (1.0 + math.log(tf)) * idf(df.get(df_key(f), 1), n_docs)
        blocks.setdefault(f[0], {})[f] = w
    bw = block_weights(config)
    vec: Dict[str, float] = {}
    for b, feats in blocks.items():
        if bw.get(b, 0) <= 0:
            continue
        norm = math.sqrt(sum(v * v for v in feats.values()))
        s = math.sqrt(bw[b]) / norm
        for f, v in feats.items():
            vec[f] = v * s
    if config.max_features and len(vec) > config.max_features:
        vec = dict(sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[: config.max_features])
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {f: v / norm for f, v in vec.items()}
