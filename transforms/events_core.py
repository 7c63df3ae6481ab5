"""Pure core of wiredesk's event clustering: no Beam, no spaCy model.

Draft under research; see benchmarks/events_research.py.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timezone
from functools import lru_cache
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from spacy.lang.en.stop_words import STOP_WORDS


class EventConfig(NamedTuple):
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
    threshold: float = 0.6
    linkage: str = "average"
    expand_rounds: int = 2
    expand_k: int = 10
    expand_alpha: float = 1.0
    expand_min_sim: float = 0.1
    # blocking
    block_keys: int = 20
    block_max_df: float = 0.05
    block_min_max_df: int = 50
    block_window: int = 100
    edge_min: float = 0.05
    # time
    time_grace_days: float = 1.0
    time_tau_days: float = 3.0
    time_horizon_days: float = 10.0


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
STOP = frozenset(w.lower() for w in STOP_WORDS) | _EXTRA_STOP


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def tokens(text: str) -> List[str]:
    """Lower-cased, accent-folded content tokens, stemmed; stop words out."""
    out = []
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
        if len(w) < 2 or w in STOP:
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


class Entity(NamedTuple):
    text: str
    label: str
    norm: str


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
    return {f: v / norm for f, v in vec.items()}


def cosine(a: Dict[str, float], b: Dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[f] for f, v in a.items() if f in b)


def time_factor(ta: Optional[float], tb: Optional[float],
                config: EventConfig = DEFAULT_CONFIG) -> float:
    """Gaussian in the gap in days (1 when either time is unknown); 0 past
    the horizon."""
    if ta is None or tb is None:
        return 1.0
    days = abs(ta - tb) / 86400.0
    if days > config.time_horizon_days:
        return 0.0
    days = max(0.0, days - config.time_grace_days)
    return math.exp(-days * days / (2 * config.time_tau_days ** 2))


def similarity(va, vb, ta=None, tb=None, config: EventConfig = DEFAULT_CONFIG) -> float:
    f = time_factor(ta, tb, config)
    return 0.0 if f == 0.0 else cosine(va, vb) * f


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
    return max(config.block_min_max_df, int(config.block_max_df * n_docs))


def blocking_keys(vec: Dict[str, float], df: Dict[str, int], n_docs: int,
                  config: EventConfig = DEFAULT_CONFIG) -> List[str]:
    """The article's highest-weighted features that are shared (df >= 2) and
    not common (df <= max_block_df): its blocking keys."""
    hi = max_block_df(n_docs, config)
    cands = [(w, f) for f, w in vec.items()
             if not f.startswith("h:") and 2 <= df.get(f, 0) <= hi]
    cands.sort(key=lambda x: (-x[0], x[1]))
    return [f for _, f in cands[: config.block_keys]]


def block_pairs(members: Sequence[Tuple[str, Optional[float]]],
                config: EventConfig = DEFAULT_CONFIG) -> List[Tuple[str, str]]:
    """Candidate pairs within one block of ``(article_id, time)``.

    Members are sorted by (time, id) (untimed last); each is paired with the
    next ``block_window`` members only (sorted neighbourhood), and pairs whose
    times are further apart than the horizon are dropped. Pairs are (lo, hi)
    by id, so blocks in any order give the same set.
    """
    order = sorted(members, key=lambda m: (m[1] is None, m[1] or 0.0, m[0]))
    horizon = config.time_horizon_days * 86400.0
    out = []
    W = config.block_window
    for i, (a, ta) in enumerate(order):
        for b, tb in order[i + 1: i + 1 + W]:
            if ta is not None and tb is not None and tb - ta > horizon:
                break
            out.append((a, b) if a < b else (b, a))
    return out


def pair_edge(a: str, va, ta, b: str, vb, tb, config: EventConfig = DEFAULT_CONFIG):
    """``(lo, hi, sim)`` rounded so that it does not depend on argument order,
    or None when below ``edge_min``."""
    if b < a:
        a, va, ta, b, vb, tb = b, vb, tb, a, va, ta
    s = round(similarity(va, vb, ta, tb, config), 9)
    return (a, b, s) if s >= config.edge_min else None


# --------------------------------------------------------------------------
# clustering over the sparse candidate graph
# --------------------------------------------------------------------------

def cluster_edges(nodes: Iterable[str], edges: Iterable[Tuple[str, str, float]],
                  threshold: float, linkage: str = "average") -> Dict[str, str]:
    """Agglomerative clustering over a sparse similarity graph.

    ``average``: UPGMA where a missing edge counts as similarity 0, so two
    groups merge only when their members are similar on average -- one
    strong link through an intermediate article is not enough (no chaining).
    Merges go best-first with ties broken by ids, so the result does not
    depend on the order of nodes or edges. Returns node -> smallest node id
    of its cluster.
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


def _add(acc: Dict[str, float], vec: Dict[str, float], scale: float = 1.0):
    for f, v in vec.items():
        acc[f] = acc.get(f, 0.0) + v * scale


def _unit(vec: Dict[str, float], top: Optional[int] = None) -> Dict[str, float]:
    if top and len(vec) > top:
        vec = dict(sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:top])
    n = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {f: v / n for f, v in vec.items()}


def cluster_centroids(nodes: Iterable[str], edges: Iterable[Tuple[str, str, float]],
                      vecs: Dict[str, Dict[str, float]], threshold: float,
                      times: Optional[Dict[str, Optional[float]]] = None,
                      config: EventConfig = DEFAULT_CONFIG, top: int = 300) -> Dict[str, str]:
    """Centroid-linkage agglomeration restricted to the candidate graph:
    repeatedly merge the two linked clusters whose centroids are most similar
    (cosine of summed unit vectors), while that is >= threshold."""
    import heapq

    nodes = sorted(set(nodes))
    adj: Dict[str, set] = {n: set() for n in nodes}
    for a, b, s in edges:
        adj[a].add(b)
        adj[b].add(a)
    cent = {n: dict(vecs[n]) for n in nodes}
    unit = {n: vecs[n] for n in nodes}
    size = {n: 1 for n in nodes}
    members = {n: [n] for n in nodes}
    tmin = {n: (times or {}).get(n) for n in nodes}
    tmax = dict(tmin)

    def csim(a, b):
        return round(cosine(unit[a], unit[b]), 12)

    heap = []
    for a in nodes:
        for b in adj[a]:
            if a < b:
                s = csim(a, b)
                if s >= threshold:
                    heap.append((-s, a, b, 1, 1))
    heapq.heapify(heap)
    while heap:
        negs, a, b, sa, sb = heapq.heappop(heap)
        if a not in size or b not in size or size[a] != sa or size[b] != sb:
            continue
        _add(cent[a], cent.pop(b))
        unit.pop(b)
        unit[a] = _unit(cent[a], top)
        size[a] += size.pop(b)
        members[a].extend(members.pop(b))
        nb = (adj.pop(a) | adj.pop(b)) - {a, b}
        for c in nb:
            adj[c].discard(a)
            adj[c].discard(b)
            adj[c].add(a)
        adj[a] = nb
        for c in nb:
            s = csim(a, c)
            if s >= threshold:
                x, y = (a, c) if a < c else (c, a)
                heapq.heappush(heap, (-s, x, y, size[x], size[y]))
    out = {}
    for root, ms in members.items():
        name = min(ms)
        for m in ms:
            out[m] = name
    return out


def cluster_online(ids: Sequence[str], vecs: Dict[str, Dict[str, float]],
                   times: Dict[str, Optional[float]], threshold: float,
                   candidates: Optional[Dict[str, Iterable[str]]] = None,
                   config: EventConfig = DEFAULT_CONFIG, top: int = 300) -> Dict[str, str]:
    """Leader/centroid clustering in a deterministic order (time, id): each
    article joins the cluster whose centroid it is most similar to, if at
    least ``threshold``, else starts one. ``candidates`` (article -> linked
    articles) restricts which clusters are compared."""
    order = sorted(ids, key=lambda i: (times.get(i) is None, times.get(i) or 0.0, i))
    assign: Dict[str, str] = {}
    cent: Dict[str, Dict[str, float]] = {}
    unit: Dict[str, Dict[str, float]] = {}
    tspan: Dict[str, Tuple[Optional[float], Optional[float]]] = {}
    for i in order:
        v, t = vecs[i], times.get(i)
        if candidates is not None:
            cl = {assign[j] for j in candidates.get(i, ()) if j in assign}
        else:
            cl = set(cent)
        best, bs = None, threshold
        for c in sorted(cl):
            lo, hi = tspan[c]
            f = 1.0
            if t is not None and lo is not None:
                gap = 0.0 if lo <= t <= hi else min(abs(t - lo), abs(t - hi))
                f = time_factor(0.0, gap, config)
            s = cosine(v, unit[c]) * f
            if s >= bs:
                best, bs = c, s
        if best is None:
            best = i
            cent[i] = dict(v)
            unit[i] = v
            tspan[i] = (t, t)
        else:
            _add(cent[best], v)
            unit[best] = _unit(cent[best], top)
            lo, hi = tspan[best]
            if t is not None:
                tspan[best] = (t if lo is None else min(lo, t), t if hi is None else max(hi, t))
        assign[i] = best
    return assign


def expand_vectors(vecs: Dict[str, Dict[str, float]], edges: Iterable[Tuple[str, str, float]],
                   k: int = 10, alpha: float = 1.0, min_sim: float = 0.0,
                   top: Optional[int] = 300) -> Dict[str, Dict[str, float]]:
    """Neighbour expansion: v' = unit(v + alpha * sum_j s_j v_j / sum_j s_j)
    over the article's k most similar candidates (ties by id)."""
    nb: Dict[str, List[Tuple[float, str]]] = {}
    for a, b, s in edges:
        if s >= min_sim:
            nb.setdefault(a, []).append((s, b))
            nb.setdefault(b, []).append((s, a))
    out = {}
    for i, v in vecs.items():
        lst = sorted(nb.get(i, []), key=lambda x: (-x[0], x[1]))[:k]
        if not lst:
            out[i] = v
            continue
        acc = dict(v)
        tot = sum(s for s, _ in lst)
        for s, j in lst:
            _add(acc, vecs[j], alpha * s / tot)
        out[i] = _unit(acc, top)
    return out


# --------------------------------------------------------------------------
# reference driver (one process): what the Beam transforms do, in order
# --------------------------------------------------------------------------

def candidate_pairs(ids, vecs, times, df, n_docs, config: EventConfig = DEFAULT_CONFIG,
                    stats: Optional[dict] = None) -> List[Tuple[str, str]]:
    blocks: Dict[str, List[Tuple[str, Optional[float]]]] = {}
    for i in ids:
        for k in blocking_keys(vecs[i], df, n_docs, config):
            blocks.setdefault(k, []).append((i, times.get(i)))
    pairs = set()
    for members in blocks.values():
        pairs.update(block_pairs(members, config))
    if stats is not None:
        sizes = [len(m) for m in blocks.values()]
        stats.update(blocks=len(blocks), max_block=max(sizes or [0]), candidate_pairs=len(pairs))
    return sorted(pairs)


def score_pairs(pairs, vecs, times, config: EventConfig = DEFAULT_CONFIG):
    out = []
    for a, b in pairs:
        e = pair_edge(a, vecs[a], times.get(a), b, vecs[b], times.get(b), config)
        if e:
            out.append(e)
    return out


def cluster_articles(ids: Sequence[str], raws: Dict[str, Dict[str, float]],
                     times: Dict[str, Optional[float]], config: EventConfig = DEFAULT_CONFIG,
                     stats: Optional[dict] = None) -> Dict[str, str]:
    """article id -> cluster key (smallest member id), all steps in one process."""
    df, n = document_frequencies(raws[i] for i in ids)
    vecs = {i: weight_features(raws[i], df, n, config) for i in ids}
    pairs = candidate_pairs(ids, vecs, times, df, n, config, stats)
    edges = score_pairs(pairs, vecs, times, config)
    for _ in range(config.expand_rounds):
        vecs = expand_vectors(vecs, edges, config.expand_k, config.expand_alpha,
                              config.expand_min_sim)
        edges = score_pairs(pairs, vecs, times, config)
    if stats is not None:
        stats["edges"] = len(edges)
    if config.linkage == "centroid":
        return cluster_centroids(ids, edges, vecs, config.threshold, times, config)
    return cluster_edges(ids, edges, config.threshold, config.linkage)
