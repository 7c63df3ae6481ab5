"""Pure core of wiredesk's event clustering: no Beam, no spaCy model.

Steps (``transforms/events.py`` runs them per Beam key; ``cluster_articles``
runs them in one process for tests and research):

1. ``raw_features``: stemmed content terms of headline + body, the headline's
   terms again, normalized entity keys (spaCy NER); ``df_features`` ->
   document frequencies, computed from the data itself.
2. ``weight_features``: sublinear tf-idf per feature block, unit length;
   ``pack_vector`` turns it into compact bytes for the data plane.
3. ``blocking_keys``: an article's highest-weighted shared features;
   ``block_edges`` scores pairs inside one block (a capped sorted
   neighbourhood, so the work is linear in the number of articles).
4. ``neighbour_lists`` from the first scores, then ``expand_vector``
   (``expand_rounds`` times): each vector moves toward its best neighbours'
   current vectors; the blocks are scored once more.
5. ``cluster_edges``: average-link agglomeration over the edges only.
"""
from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from datetime import datetime, timezone
from functools import lru_cache
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from wiredesk.schemas.records import Entity


class EventConfig(NamedTuple):
    """Every knob of the events stage, with the shipped defaults."""

    ner_max_chars: Optional[int] = 1500
    term_max_chars: Optional[int] = 4000
    headline_from_body: bool = True
    w_terms: float = 1.0
    w_headline: float = 0.5
    w_entities: float = 1.0
    entity_types: bool = False
    w_person: float = 1.0
    w_org: float = 0.5
    w_place: float = 0.5
    w_number: float = 0.25
    idf_power: float = 1.0
    max_features: int = 150
    evidence_vocab: float = 20.0
    evidence_min_features: int = 10
    threshold: float = 0.7
    expand_rounds: int = 2
    expand_k: int = 10
    expand_alpha: float = 1.0
    expand_min_sim: float = 0.1
    expand_top: int = 150
    expand_min_total: float = 0.5
    # blocking
    block_keys: int = 20
    block_max_df: float = 0.05
    block_min_max_df: int = 50
    block_max_df_abs: int = 2000
    block_window: int = 100
    edge_min: float = 0.05
    # time
    time_grace_days: float = 1.0
    time_tau_days: float = 3.0
    time_horizon_days: float = 10.0
    #: Coverage of one story comes in bursts: two articles published minutes
    #: apart score up to (1 + boost) times their content similarity (an
    #: exponential in the gap, scale time_burst_minutes). Only a boost: it
    #: never lowers a score, so stories running over days lose nothing. The
    #: boost used is what the data supports (``burst_boost``), at most
    #: time_burst_boost. Times at exactly midnight UTC are taken as bare
    #: dates and get no boost.
    time_burst_boost: float = 3.0
    time_burst_minutes: float = 6.0
    # second pass: clusters of the first pass, as one member each
    merge_clusters: bool = True
    merge_min_size: int = 2


DEFAULT_CONFIG = EventConfig()

# --------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def _clip(text: str, max_chars: Optional[int]) -> str:
    if max_chars is None or len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars]


def split_headline(headline: Optional[str], body: Optional[str],
                   from_body: bool = True) -> Tuple[str, str]:
    """(headline, body) with None as ""; a short first body line becomes the
    headline when the article has none (many wire bodies open with it)."""
    headline = (headline or "").strip()
    body = (body or "").strip()
    if body and headline and body == headline:
        body = ""
    if not headline and from_body and body:
        first, _, rest = body.partition("\n")
        first = first.strip()
        words = first.split()
        if rest.strip() and 2 <= len(words) <= 20 and not first.endswith((".", ":", "\"", "”")):
            return first, rest.strip()
    return headline, body


def ner_text(headline: Optional[str], body: Optional[str],
             max_chars: Optional[int] = DEFAULT_CONFIG.ner_max_chars) -> str:
    """The text given to spaCy NER: headline, blank line, body, clipped."""
    h = (headline or "").strip()
    b = (body or "").strip()
    if h and b and b != h:
        text = h + "\n\n" + b
    else:
        text = h or b
    return _clip(text, max_chars)


_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*", re.UNICODE)

_EXTRA_STOP = {
    "said", "says", "say", "told", "tell", "according", "reported", "report", "reports",
    "news", "new", "year", "years", "time", "just", "like", "also", "people", "way",
    "s", "t", "mr", "mrs", "ms", "dr", "got", "get", "including", "week", "day", "days",
}


@lru_cache(maxsize=1)
def stop_words() -> frozenset:
    """spaCy's English stop words plus wire-copy fillers. Loaded on first use,
    so the process that only builds the pipeline never imports spaCy."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w.lower() for w in STOP_WORDS) | _EXTRA_STOP


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def tokens(text: str) -> List[str]:
    """Lower-cased, accent-folded content tokens, stemmed; stop words out."""
    out = []
    stop = stop_words()
    for m in _TOKEN.finditer(_fold(text)):
        w = m.group(0).replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if w[0].isdigit():
            w = w.replace(",", "")
            if len(w) < 2:
                continue
            out.append(w)
            continue
        if len(w) < 2 or w in stop:
            continue
        out.append(stem(w))
    return out


# ---- Porter stemmer (Porter 1980), compact ---------------------------------

_V = "aeiou"


def _cons(w, i):
    c = w[i]
    if c in _V:
        return False
    if c == "y":
        return i == 0 or not _cons(w, i - 1)
    return True


def _m(w):
    n, i, L = 0, 0, len(w)
    while i < L and _cons(w, i):
        i += 1
    while i < L:
        while i < L and not _cons(w, i):
            i += 1
        if i >= L:
            break
        while i < L and _cons(w, i):
            i += 1
        n += 1
    return n


def _has_v(w):
    return any(not _cons(w, i) for i in range(len(w)))


def _dbl(w):
    return len(w) >= 2 and w[-1] == w[-2] and _cons(w, len(w) - 1)


def _cvc(w):
    return (len(w) >= 3 and _cons(w, len(w) - 1) and not _cons(w, len(w) - 2)
            and _cons(w, len(w) - 3) and w[-1] not in "wxy")


_S2 = [("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"),
       ("izer", "ize"), ("abli", "able"), ("alli", "al"), ("entli", "ent"), ("eli", "e"),
       ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"), ("ator", "ate"),
       ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
       ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble")]
_S3 = [("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"),
       ("ful", ""), ("ness", "")]
_S4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
       "ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize"]


@lru_cache(maxsize=200_000)
def stem(w: str) -> str:
    if len(w) <= 2 or not w.isalpha() or not w.isascii():
        return w
    if w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("ies"):
        w = w[:-2]
    elif w.endswith("ss"):
        pass
    elif w.endswith("s"):
        w = w[:-1]
    fix = False
    if w.endswith("eed"):
        if _m(w[:-3]) > 0:
            w = w[:-1]
    elif w.endswith("ed") and _has_v(w[:-2]):
        w, fix = w[:-2], True
    elif w.endswith("ing") and _has_v(w[:-3]):
        w, fix = w[:-3], True
    if fix:
        if w.endswith(("at", "bl", "iz")):
            w += "e"
        elif _dbl(w) and w[-1] not in "lsz":
            w = w[:-1]
        elif _m(w) == 1 and _cvc(w):
            w += "e"
    if w.endswith("y") and _has_v(w[:-1]):
        w = w[:-1] + "i"
    for suf, rep in _S2:
        if w.endswith(suf):
            if _m(w[: -len(suf)]) > 0:
                w = w[: -len(suf)] + rep
            break
    for suf, rep in _S3:
        if w.endswith(suf):
            if _m(w[: -len(suf)]) > 0:
                w = w[: -len(suf)] + rep
            break
    for suf in _S4:
        if w.endswith(suf):
            base = w[: -len(suf)]
            if _m(base) > 1 and (suf != "ion" or base.endswith(("s", "t"))):
                w = base
            break
    if w.endswith("e"):
        base = w[:-1]
        if _m(base) > 1 or (_m(base) == 1 and not _cvc(base)):
            w = base
    if _m(w) > 1 and _dbl(w) and w.endswith("l"):
        w = w[:-1]
    return w


# --------------------------------------------------------------------------
# entities
# --------------------------------------------------------------------------

NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT",
                         "WORK_OF_ART", "LAW", "PRODUCT", "LANGUAGE"})
NUMBER_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "MONEY", "QUANTITY", "PERCENT",
                           "ORDINAL"})
ENTITY_LABELS = NAME_LABELS | NUMBER_LABELS

_ENT_STRIP = re.compile(r"^(the|a|an)\s+|['’]s$|[^\w\s]")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def normalize_entity(text: str, label: str) -> Optional[str]:
    """A matching key for an entity mention, or None for unusable ones."""
    t = _WS.sub(" ", _fold(text)).strip()
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
            return years[0] if len(years) == 1 and len(t) > 4 else (t if any(c.isdigit() for c in t) else None)
        if not any(c.isdigit() for c in t):
            return None
    return t


def entities_from_spans(spans: Iterable[Tuple[str, str]]) -> List[Entity]:
    out = []
    for text, label in spans:
        if label not in ENTITY_LABELS:
            continue
        norm = normalize_entity(text, label)
        if norm:
            out.append(Entity(text, label, norm))
    return out


# --------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------

def parse_time(published_at) -> Optional[float]:
    """Seconds since the epoch, or None."""
    if published_at is None or published_at == "":
        return None
    if isinstance(published_at, (int, float)):
        return float(published_at)
    if isinstance(published_at, datetime):
        dt = published_at
    else:
        s = str(published_at).strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


ENTITY_BLOCK = {"PERSON": "p", "ORG": "o", "NORP": "o", "PRODUCT": "o", "WORK_OF_ART": "o",
                "EVENT": "o", "LAW": "o", "LANGUAGE": "o", "GPE": "g", "LOC": "g", "FAC": "g",
                "DATE": "n", "TIME": "n", "CARDINAL": "n", "MONEY": "n", "QUANTITY": "n",
                "PERCENT": "n", "ORDINAL": "n"}


def raw_features(headline: Optional[str], body: Optional[str],
                 entities: Sequence, config: EventConfig = DEFAULT_CONFIG) -> Dict[str, float]:
    """Counts of features, prefixed by block: ``t:`` body+headline terms,
    ``h:`` headline terms, entity keys ``p:`` persons, ``o:`` organisations
    and other names, ``g:`` places, ``n:`` dates and numbers (or all in
    ``e:`` when ``entity_types`` is off)."""
    h, b = split_headline(headline, body, config.headline_from_body)
    feats: Dict[str, float] = {}
    for w in tokens(h + "\n" + _clip(b, config.term_max_chars)):
        k = "t:" + w
        feats[k] = feats.get(k, 0) + 1
    for w in set(tokens(h)):
        feats["h:" + w] = 1
    for e in entities:
        if not isinstance(e, Entity):
            e = entities_from_spans([e])
            if not e:
                continue
            e = e[0]
        blk = ENTITY_BLOCK.get(e.label, "o") if config.entity_types else "e"
        keys = [e.norm]
        if e.label == "PERSON" and " " in e.norm:
            keys.append(e.norm.rsplit(" ", 1)[1])
        for key in keys:
            k = blk + ":" + key
            feats[k] = feats.get(k, 0) + 1
    return feats


def df_key(feature: str) -> str:
    """Headline terms share the document frequency of the term."""
    return "t:" + feature[2:] if feature.startswith("h:") else feature


def idf(df: int, n_docs: int) -> float:
    return math.log((n_docs + 1) / (df + 1)) + 1.0


def block_weights(config: EventConfig) -> Dict[str, float]:
    return {"t": config.w_terms, "h": config.w_headline, "e": config.w_entities,
            "p": config.w_person, "o": config.w_org, "g": config.w_place, "n": config.w_number}


def weight_features(raw: Dict[str, float], df: Dict[str, int], n_docs: int,
                    config: EventConfig = DEFAULT_CONFIG) -> Dict[str, float]:
    """Sparse unit vector: per block sublinear tf-idf, L2-normalized, scaled
    by sqrt(block weight); the whole vector is L2-normalized at the end."""
    blocks: Dict[str, Dict[str, float]] = {}
    for f, tf in raw.items():
        w = (1.0 + math.log(tf)) * idf(df.get(df_key(f), 1), n_docs) ** config.idf_power
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
    scale = evidence_scale(len(df_features(raw)), config) / norm
    return {f: v * scale for f, v in vec.items()}


def evidence_scale(n_features: int, config: EventConfig = DEFAULT_CONFIG) -> float:
    """Length of an article's vector, from how many distinct features it has.

    Two reports of one event that draw n_a and n_b words from the event's
    vocabulary (effective size V) have an expected cosine of about
    1 / sqrt((1 + V/n_a)(1 + V/n_b)): a pair of headlines scores several
    times lower than a pair of full articles about the same event. Scaling
    each vector by sqrt((1 + V/n) / (1 + V/n_full)) makes their dot products
    comparable, so one threshold serves both. n is clamped to
    [evidence_min_features, max_features]; full-length articles keep 1.
    ``evidence_vocab`` = 0 turns it off.
    """
    V = config.evidence_vocab
    if V <= 0:
        return 1.0
    n_full = float(config.max_features or 150)
    n = min(max(float(n_features), float(config.evidence_min_features), 1.0), n_full)
    return math.sqrt((1.0 + V / n) / (1.0 + V / n_full))


DAY_SECONDS = 86400.0


def is_precise(t: Optional[float]) -> bool:
    """A time of day, not a bare date (a date parses to midnight UTC)."""
    return t is not None and t % DAY_SECONDS != 0.0


def burst_seconds(config: EventConfig = DEFAULT_CONFIG) -> float:
    """The burst time scale in seconds."""
    return 60.0 * config.time_burst_minutes


def time_factor(ta: Optional[float], tb: Optional[float],
                config: EventConfig = DEFAULT_CONFIG) -> float:
    """How much the publication gap changes a pair's similarity: 1 when
    either time is unknown; 0 past the horizon; a Gaussian in the days beyond
    the grace period; times (1 + boost * exp(-gap / burst)) when both times
    are precise (not a bare date), for articles of one burst of coverage."""
    if ta is None or tb is None:
        return 1.0
    gap = abs(ta - tb)
    days = gap / 86400.0
    if days > config.time_horizon_days:
        return 0.0
    days = max(0.0, days - config.time_grace_days)
    f = math.exp(-days * days / (2 * config.time_tau_days ** 2))
    if config.time_burst_boost > 0 and is_precise(ta) and is_precise(tb):
        f *= 1.0 + config.time_burst_boost * math.exp(-gap / burst_seconds(config))
    return f


# --------------------------------------------------------------------------
# document frequencies
# --------------------------------------------------------------------------

def df_features(raw: Dict[str, float]) -> List[str]:
    """The features an article counts once toward document frequencies."""
    return [f for f in raw if not f.startswith("h:")]


def document_frequencies(raws: Iterable[Dict[str, float]]) -> Tuple[Dict[str, int], int]:
    df: Dict[str, int] = {}
    n = 0
    for raw in raws:
        n += 1
        for f in df_features(raw):
            df[f] = df.get(f, 0) + 1
    return df, n


# --------------------------------------------------------------------------
# blocking
# --------------------------------------------------------------------------

def max_block_df(n_docs: int, config: EventConfig = DEFAULT_CONFIG) -> int:
    """Features in more articles than this are too common to block on:
    ``block_max_df`` of the articles (at least ``block_min_max_df``), never
    more than ``block_max_df_abs``. Blocks below the cap can still be large;
    ``block_edges`` bounds their cost with its window."""
    return min(config.block_max_df_abs, max(config.block_min_max_df, int(config.block_max_df * n_docs)))


def blocking_keys(vec: Dict[str, float], df: Dict[str, int], n_docs: int,
                  config: EventConfig = DEFAULT_CONFIG) -> List[str]:
    """The article's highest-weighted features that are shared (df >= 2) and
    not common (df <= max_block_df): its blocking keys."""
    hi = max_block_df(n_docs, config)
    cands = [(w, f) for f, w in vec.items()
             if not f.startswith("h:") and 2 <= df.get(f, 0) <= hi]
    cands.sort(key=lambda x: (-x[0], x[1]))
    return [f for _, f in cands[: config.block_keys]]



# --------------------------------------------------------------------------
# compact vectors: what travels between Beam steps
# --------------------------------------------------------------------------
#
# A weighted vector is a dict {feature: weight} while it is built; between
# steps it is a ``SparseVector``: sorted 64-bit feature ids (a keyed BLAKE2b
# hash of the feature string, the same on every worker and run) and float32
# weights, packed into one bytes object. Bytes cross Beam's data plane at
# memcpy speed, and blocks and expansions score them with numpy/scipy.

_FEATURE_KEY = b"wiredesk-events-v1"


@lru_cache(maxsize=500_000)
def feature_id(feature: str) -> int:
    """Stable 63-bit id of a feature string (BLAKE2b, keyed, no salt)."""
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8, key=_FEATURE_KEY).digest()
    return int.from_bytes(digest, "little") >> 1


def pack_vector(vec: Dict[str, float]) -> bytes:
    """{feature: weight} -> bytes (count, sorted feature ids, float32 weights)."""
    if not vec:
        return b""
    ids = np.fromiter((feature_id(f) for f in vec), dtype=np.int64, count=len(vec))
    weights = np.fromiter(vec.values(), dtype=np.float32, count=len(vec))
    order = np.argsort(ids, kind="stable")
    return ids[order].tobytes() + weights[order].tobytes()


def unpack_vector(packed: bytes) -> Tuple[np.ndarray, np.ndarray]:
    """bytes -> (int64 ids, float32 weights), read-only views."""
    n = len(packed) // 12
    return (np.frombuffer(packed, dtype=np.int64, count=n),
            np.frombuffer(packed, dtype=np.float32, count=n, offset=8 * n))


def _matrix(vectors: Sequence[bytes]):
    """CSR matrix (one row per packed vector) over the union of their ids."""
    from scipy import sparse

    parts = [unpack_vector(v) for v in vectors]
    lengths = np.fromiter((len(i) for i, _ in parts), dtype=np.int64, count=len(parts))
    if lengths.sum() == 0:
        return sparse.csr_matrix((len(parts), 1), dtype=np.float64)
    ids = np.concatenate([i for i, _ in parts])
    weights = np.concatenate([w for _, w in parts]).astype(np.float64)
    cols, inverse = np.unique(ids, return_inverse=True)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    return sparse.csr_matrix((weights, inverse, indptr), shape=(len(parts), len(cols)))


def time_bin(t: Optional[float], config: EventConfig = DEFAULT_CONFIG) -> Optional[int]:
    """The burst-scale bin of a precise time (None for no time or a bare date)."""
    if not is_precise(t):
        return None
    return int(math.floor(t / burst_seconds(config)))


def close_pairs(bin_counts: Iterable[int]) -> Tuple[int, int]:
    """(pairs in one bin, all pairs) among articles counted per time bin."""
    counts = list(bin_counts)
    n = sum(counts)
    return sum(c * (c - 1) // 2 for c in counts), n * (n - 1) // 2


def burst_boost(key_close: int, key_pairs: int, all_close: int, all_pairs: int,
                config: EventConfig = DEFAULT_CONFIG) -> float:
    """The burst boost the data supports, at most ``time_burst_boost``.

    ``lift`` is how much likelier two articles that share a blocking key are
    to fall in one burst-scale bin than any two articles (the first counts
    summed over blocks, the second over all articles with a precise time,
    not a bare date). Where coverage comes in bursts, articles that share
    words cluster in time and the lift is high; where times say nothing about
    stories (a dense feed, or times that are ingest times), it is about 1,
    and the boost, ``lift - 1``, is about 0. The boost is a likelihood ratio, so it never claims more than
    the data shows.
    """
    if config.time_burst_boost <= 0 or key_pairs <= 0 or all_pairs <= 0 or all_close <= 0 or key_close <= 0:
        return 0.0
    lift = (key_close / key_pairs) / (all_close / all_pairs)
    return round(min(config.time_burst_boost, max(0.0, lift - 1.0)), 6)


def time_factors(ta: np.ndarray, tb: np.ndarray, config: EventConfig = DEFAULT_CONFIG) -> np.ndarray:
    """``time_factor`` over arrays of times (NaN = unknown)."""
    gap = np.abs(ta - tb)
    days = gap / 86400.0
    known = ~np.isnan(days)
    d = np.where(known, np.maximum(0.0, days - config.time_grace_days), 0.0)
    out = np.exp(-d * d / (2 * config.time_tau_days ** 2))
    if config.time_burst_boost > 0:
        # is_precise over arrays (fmod of NaN is NaN, and ``known`` drops it)
        precise = known & (np.fmod(ta, DAY_SECONDS) != 0.0) & (np.fmod(tb, DAY_SECONDS) != 0.0)
        burst = np.exp(-np.where(precise, gap, np.inf) / burst_seconds(config))
        out = out * (1.0 + config.time_burst_boost * burst)
    out[known & (days > config.time_horizon_days)] = 0.0
    return out


# --------------------------------------------------------------------------
# blocking and scoring inside a block
# --------------------------------------------------------------------------

class BlockMember(NamedTuple):
    """What an article brings to each of its blocks."""
    article_id: str
    time: Optional[float]
    vector: bytes          # pack_vector output
    keys: Tuple[str, ...]  # all of the article's blocking keys


def block_order(members: Iterable[BlockMember]) -> List[BlockMember]:
    """Members sorted by (time, id), undated last: the sorted neighbourhood."""
    return sorted(members, key=lambda m: (m.time is None, m.time or 0.0, m.article_id))


def block_edges(key: str, members: Iterable[BlockMember],
                config: EventConfig = DEFAULT_CONFIG) -> List[Tuple[str, str, float]]:
    """Scored candidate pairs of one block: ``(lo id, hi id, similarity)``
    for pairs scoring at least ``edge_min``.

    Each member is paired with the next ``block_window`` members in (time, id)
    order, and never across more than ``time_horizon_days``: a block of m
    articles costs at most m * block_window pairs, so the work grows linearly
    with the number of articles however common a key gets. In a block small
    enough to pair everyone, a pair is scored only if ``key`` is the first
    blocking key the two articles share, so pairs sharing several small
    blocks are scored once (pairs from windowed blocks may repeat; the
    clustering step keeps one). Scores are rounded to 1e-6 so that they do
    not depend on the order of floating-point sums.
    """
    order = block_order(members)
    m = len(order)
    if m < 2:
        return []
    if m <= min(SMALL_BLOCK, config.block_window + 1):
        return _small_block_edges(key, order, config)
    window = config.block_window
    full = m <= window + 1
    X = _matrix([o.vector for o in order])
    times = np.array([np.nan if o.time is None else o.time for o in order], dtype=np.float64)
    out: List[Tuple[str, str, float]] = []
    step = max(1, 2048 // max(1, window))
    for start in range(0, m, step):
        stop = min(m, start + step)
        hi = min(m, stop + window)
        sims = (X[start:stop] @ X[start:hi].T).toarray()
        for r in range(stop - start):
            i = start + r
            j0, j1 = i + 1, min(m, i + 1 + window)
            if j0 >= j1:
                continue
            s = sims[r, j0 - start:j1 - start]
            s = s * time_factors(np.full(j1 - j0, times[i]), times[j0:j1], config)
            hits = np.nonzero((s >= config.edge_min) & (s > 0.0))[0].tolist()
            if not hits:
                continue
            a = order[i]
            akeys = set(a.keys)
            for h in hits:
                b = order[j0 + h]
                if full and not _scored_here(key, akeys, b.keys):
                    continue
                out.append(_edge(a.article_id, b.article_id, float(s[h])))
    return out


def _scored_here(key: str, akeys: set, bkeys: Sequence[str]) -> bool:
    """True when ``key`` is the first blocking key two articles share: the
    one block of all-pairs scoring where their pair is scored."""
    return min(akeys.intersection(bkeys), default=key) == key


def _edge(a: str, b: str, sim: float) -> Tuple[str, str, float]:
    # not capped at 1: a short text's vector is longer than unit (its
    # evidence, see evidence_scale) and a burst multiplies a score, and
    # average linkage lets that strength make up for pairs with no edge
    sim = round(sim, 6)
    return (a, b, sim) if a < b else (b, a, sim)


#: Blocks up to this size are scored pair by pair (numpy on the two packed
#: vectors); larger ones as one sparse matrix product per slice of rows.
SMALL_BLOCK = 12


def _small_block_edges(key: str, order: List[BlockMember],
                       config: EventConfig) -> List[Tuple[str, str, float]]:
    """All pairs of a small block, each scored only in the block of the first
    key its two articles share (the same edges as the matrix path)."""
    out: List[Tuple[str, str, float]] = []
    keysets = [set(o.keys) for o in order]
    vecs: List[Optional[Tuple[np.ndarray, np.ndarray]]] = [None] * len(order)
    for i, a in enumerate(order):
        for j in range(i + 1, len(order)):
            b = order[j]
            if not _scored_here(key, keysets[i], b.keys):
                continue
            f = time_factor(a.time, b.time, config)
            if f == 0.0:
                continue
            if vecs[i] is None:
                vecs[i] = unpack_vector(a.vector)
            if vecs[j] is None:
                vecs[j] = unpack_vector(b.vector)
            (ia, wa), (ib, wb) = vecs[i], vecs[j]
            _, xa, xb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
            s = float(np.dot(wa[xa].astype(np.float64), wb[xb].astype(np.float64))) * f
            if s >= config.edge_min and s > 0.0:
                out.append(_edge(a.article_id, b.article_id, s))
    return out


# --------------------------------------------------------------------------
# neighbour expansion
# --------------------------------------------------------------------------

def _length(weights: np.ndarray) -> float:
    """Euclidean length of a packed vector's weights (1 for an empty one)."""
    w = weights.astype(np.float64)
    return float(np.sqrt(np.dot(w, w))) or 1.0


def _sum_heaviest(ids: Sequence[np.ndarray], weights: Sequence[np.ndarray],
                  top: int) -> Tuple[np.ndarray, np.ndarray, float]:
    """Sum sparse vectors given as (ids, float64 weights) parts; keep the
    ``top`` heaviest features (ties by smaller id: deterministic). Returns
    (sorted ids, sums, length of the kept sums)."""
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0), 1.0
    cols, inverse = np.unique(np.concatenate(ids), return_inverse=True)
    acc = np.bincount(inverse, weights=np.concatenate(weights), minlength=len(cols))
    if len(acc) > top:
        keep = np.lexsort((cols, -acc))[:top]
        keep.sort()
        cols, acc = cols[keep], acc[keep]
    return cols, acc, float(np.sqrt(np.dot(acc, acc))) or 1.0


def expand_vector(own: bytes, neighbours: Iterable[Tuple[float, str, bytes]],
                  config: EventConfig = DEFAULT_CONFIG) -> bytes:
    """Neighbour expansion of one article (pseudo-relevance feedback).

    v' = |v| * unit(unit(v) + alpha * sum_j p_j unit(v_j) / max(sum_j p_j,
    expand_min_total)) over its ``expand_k`` most similar neighbours (ties by
    id), where p_j = s_j - expand_min_sim is how far neighbour j clears the
    floor; the ``expand_top`` heaviest features are kept.

    Articles about one event use different words for it; after expansion each
    carries the vocabulary of its closest neighbours, so two reports that
    share few words but many neighbours score high, while two events of one
    topic, whose neighbourhoods differ, stay apart. A neighbour just above the
    floor pulls little (a lone weak neighbour would otherwise drag an article
    all the way to it, and two unrelated short items would end up alike), and
    the expanded vector keeps the length of the article's own (its evidence,
    see ``evidence_scale``).
    """
    best = sorted(((s, j, v) for s, j, v in neighbours if s >= config.expand_min_sim),
                  key=lambda n: (-n[0], n[1]))[: config.expand_k]
    if not best:
        return own
    pulls = [s - config.expand_min_sim for s, _, _ in best]
    total = max(sum(pulls), config.expand_min_total)
    parts = [unpack_vector(own)] + [unpack_vector(v) for _, _, v in best]
    scales = [1.0] + [config.expand_alpha * p / total for p in pulls]
    lengths = [_length(w) for _, w in parts]
    cols, acc, norm = _sum_heaviest([i for i, _ in parts],
                                    [w.astype(np.float64) * (sc / n) for (_, w), sc, n in zip(parts, scales, lengths)],
                                    config.expand_top)
    # unit directions are mixed; the result keeps the length (evidence) of
    # the article's own vector (see evidence_scale)
    return cols.astype(np.int64).tobytes() + (acc * (lengths[0] / norm)).astype(np.float32).tobytes()


def neighbour_lists(edges: Iterable[Tuple[str, str, float]],
                    config: EventConfig = DEFAULT_CONFIG) -> Dict[str, List[Tuple[float, str]]]:
    """article -> its ``expand_k`` best (similarity, neighbour) by the edges."""
    nb: Dict[str, List[Tuple[float, str]]] = {}
    for a, b, s in edges:
        if s >= config.expand_min_sim:
            nb.setdefault(a, []).append((s, b))
            nb.setdefault(b, []).append((s, a))
    return {i: sorted(lst, key=lambda x: (-x[0], x[1]))[: config.expand_k] for i, lst in nb.items()}


def best_edges(edges: Iterable[Tuple[str, str, float]]) -> List[Tuple[str, str, float]]:
    """One edge per pair (the highest score), sorted."""
    best: Dict[Tuple[str, str], float] = {}
    for a, b, s in edges:
        if s > best.get((a, b), -1.0):
            best[(a, b)] = s
    return sorted((a, b, s) for (a, b), s in best.items())


# --------------------------------------------------------------------------
# clustering over the sparse candidate graph
# --------------------------------------------------------------------------

def cluster_edges(nodes: Iterable[str], edges: Iterable[Tuple[str, str, float]],
                  threshold: float) -> Dict[str, str]:
    """Agglomerative clustering over a sparse similarity graph.

    Average linkage (UPGMA) where a missing edge counts as similarity 0, so two
    groups merge only when their members are similar on average. Scores of
    full texts without a burst are at most 1, so one link through an
    intermediate article is never enough (no chaining). Scores above 1 (short
    texts' longer vectors, bursts; at most about 1.63^2 * (1 + 3) = 10.6 with
    the defaults) let strong evidence make up for missing pairs: one link of
    score s can bring in an article that has no edge to up to s / threshold -
    1 members of the other group, which is the point for headlines of one
    burst and bounds how far it goes. Merges go best-first with ties broken
    by ids, so the result does not depend on the order of nodes or edges.
    Returns node -> smallest node id of its cluster.
    """
    import heapq

    size: Dict[str, int] = {}
    for n in nodes:
        size[n] = 1
    adj: Dict[str, Dict[str, float]] = {n: {} for n in size}
    for a, b, s in edges:
        if a == b:
            continue
        for x in (a, b):
            if x not in size:
                size[x] = 1
                adj[x] = {}
        adj[a][b] = max(adj[a].get(b, 0.0), s)
        adj[b][a] = adj[a][b]
    members: Dict[str, List[str]] = {n: [n] for n in size}

    def link(a, b):
        return adj[a][b] / (size[a] * size[b])

    heap = []
    for a, nb in adj.items():
        for b in nb:
            if a < b:
                l = link(a, b)
                if l >= threshold:
                    heap.append((-round(l, 12), a, b, 1, 1))
    heapq.heapify(heap)
    while heap:
        negl, a, b, sa, sb = heapq.heappop(heap)
        if a not in adj or b not in adj or size[a] != sa or size[b] != sb:
            continue
        # merge b into a (a < b), keeping the smaller id as the cluster name
        na, nb_ = adj.pop(a), adj.pop(b)
        na.pop(b, None)
        nb_.pop(a, None)
        merged = dict(na)
        for c, s in nb_.items():
            merged[c] = merged.get(c, 0.0) + s
        size[a] = size[a] + size.pop(b)
        members[a].extend(members.pop(b))
        for c in na:
            adj[c].pop(a, None)
        for c in nb_:
            adj[c].pop(b, None)
        adj[a] = merged
        for c, s in merged.items():
            adj[c][a] = s
            l = s / (size[a] * size[c])
            if l >= threshold:
                x, y = (a, c) if a < c else (c, a)
                heapq.heappush(heap, (-round(l, 12), x, y, size[x], size[y]))
    out = {}
    for root, ms in members.items():
        name = min(ms)
        for m in ms:
            out[m] = name
    return out




# --------------------------------------------------------------------------
# second pass: clusters as members
# --------------------------------------------------------------------------

def median_time(times: Iterable[Optional[float]]) -> Optional[float]:
    """Lower median of the known times (None when none is known): always one
    of the members' own times, so a cluster of bare dates keeps a bare date
    (an average of two midnights would be a precise noon)."""
    known = sorted(t for t in times if t is not None)
    if not known:
        return None
    return known[(len(known) - 1) // 2]


def cluster_member(cluster: str, members: Iterable[BlockMember],
                   config: EventConfig = DEFAULT_CONFIG) -> BlockMember:
    """One cluster of the first pass as one member of the second.

    Its vector is the unit-length mean of its members' unit vectors (the
    ``expand_top`` heaviest features), its time the lower median of their
    known times, its blocking keys the ``block_keys`` keys most common among its
    members (ties by key). Average linkage asks that two clusters be similar
    member by member, which many short texts of one story rarely are (most
    pairs of headlines share no word); their means, which hold the story's
    whole vocabulary, are.
    """
    members = sorted(members, key=lambda m: m.article_id)
    parts = [unpack_vector(m.vector) for m in members]
    cols, acc, norm = _sum_heaviest([i for i, _ in parts],
                                    [w.astype(np.float64) / _length(w) for _, w in parts],
                                    config.expand_top)
    vector = cols.astype(np.int64).tobytes() + (acc / norm).astype(np.float32).tobytes()
    counts: Dict[str, int] = {}
    for m in members:
        for k in m.keys:
            counts[k] = counts.get(k, 0) + 1
    keys = tuple(sorted(counts, key=lambda k: (-counts[k], k))[: config.block_keys])
    return BlockMember(cluster, median_time(m.time for m in members), vector, keys)


def merge_assignments(first: Dict[str, str], second: Dict[str, str]) -> Dict[str, str]:
    """article -> final cluster: the second pass's cluster of the article's
    first-pass cluster. Clusters are named by their smallest article id at
    both passes, so the name is the smallest article id of the whole group."""
    return {a: second.get(c, c) for a, c in first.items()}


# --------------------------------------------------------------------------
# reference driver (one process): what the Beam transforms do, in order
# --------------------------------------------------------------------------

def data_burst_boost(times: Dict[str, Optional[float]], blocks: Dict[str, List[str]],
                     config: EventConfig = DEFAULT_CONFIG) -> float:
    """``burst_boost`` from article times and blocks (key -> article ids)."""
    def bin_counts(ids):
        counts: Dict[int, int] = {}
        for i in ids:
            b = time_bin(times.get(i), config)
            if b is not None:
                counts[b] = counts.get(b, 0) + 1
        return counts.values()

    key_close = key_pairs = 0
    for k in sorted(blocks):
        c, p = close_pairs(bin_counts(blocks[k]))
        key_close += c
        key_pairs += p
    all_close, all_pairs = close_pairs(bin_counts(sorted(times)))
    return burst_boost(key_close, key_pairs, all_close, all_pairs, config)


def _blocks(members: Iterable[BlockMember]) -> Dict[str, List[BlockMember]]:
    """block key -> its members (``events.to_blocks`` + GroupByKey)."""
    blocks: Dict[str, List[BlockMember]] = {}
    for m in members:
        for k in m.keys:
            blocks.setdefault(k, []).append(m)
    return blocks


def _score_blocks(blocks: Dict[str, List[BlockMember]], config: EventConfig) -> List[Tuple[str, str, float]]:
    """One edge per pair over all blocks (``events.ScoreBlocks``)."""
    out: List[Tuple[str, str, float]] = []
    for k in sorted(blocks):
        out.extend(block_edges(k, blocks[k], config))
    return best_edges(out)


def cluster_articles(ids: Sequence[str], raws: Dict[str, Dict[str, float]],
                     times: Dict[str, Optional[float]], config: EventConfig = DEFAULT_CONFIG,
                     stats: Optional[dict] = None) -> Dict[str, str]:
    """article id -> cluster key (smallest member id), every step of
    ``transforms.events.ClusterEvents`` in one process (tests, research)."""
    df, n = document_frequencies(raws[i] for i in ids)
    df = {f: c for f, c in df.items() if c >= 2}
    vecs = {i: weight_features(raws[i], df, n, config) for i in ids}
    members = {i: BlockMember(i, times.get(i), pack_vector(vecs[i]), tuple(blocking_keys(vecs[i], df, n, config)))
               for i in ids}
    blocks = _blocks(members[i] for i in ids)
    config = config._replace(time_burst_boost=data_burst_boost(
        {i: times.get(i) for i in ids}, {k: [m.article_id for m in ms] for k, ms in blocks.items()}, config))

    edges = _score_blocks(blocks, config)
    if config.expand_rounds:
        nb = neighbour_lists(edges, config)
        for _ in range(config.expand_rounds):
            packed = {i: m.vector for i, m in members.items()}
            members = {i: m._replace(vector=expand_vector(packed[i], [(s, j, packed[j]) for s, j in nb.get(i, [])],
                                                          config))
                       for i, m in members.items()}
        blocks = _blocks(members[i] for i in ids)
        edges = _score_blocks(blocks, config)
    if stats is not None:
        stats.update(blocks=len(blocks), max_block=max((len(m) for m in blocks.values()), default=0),
                     edges=len(edges))
    first = cluster_edges(ids, edges, config.threshold)
    if not config.merge_clusters:
        return first
    groups: Dict[str, List[BlockMember]] = {}
    for i in ids:
        groups.setdefault(first[i], []).append(members[i])
    large = [cluster_member(c, groups[c], config) for c in sorted(groups)
             if len(groups[c]) >= config.merge_min_size]
    cedges = _score_blocks(_blocks(large), config)
    nodes = sorted({a for a, _, _ in cedges} | {b for _, b, _ in cedges})
    second = cluster_edges(nodes, cedges, config.threshold)
    if stats is not None:
        stats.update(clusters=len(large), cluster_edges=len(cedges))
    return merge_assignments(first, second)

