"""Text of an article as the events stage reads it: headline and body split,
clipped, and turned into stemmed content terms.

The terms are what article vectors are built from (``features``) and what an
event's digest lists (``summary``), so both read words the same way.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Tuple

from wiredesk.transforms.cleaning.tokens import fold

__all__ = ["clip", "split_headline", "ner_text", "stop_words", "terms", "stem"]


def clip(text: str, max_chars: Optional[int]) -> str:
    """``text`` cut at a word boundary at most ``max_chars`` long (None: whole)."""
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


def ner_text(headline: Optional[str], body: Optional[str], max_chars: Optional[int] = 1500) -> str:
    """The text given to spaCy NER: headline, blank line, body, clipped."""
    h = (headline or "").strip()
    b = (body or "").strip()
    if h and b and b != h:
        text = h + "\n\n" + b
    else:
        text = h or b
    return clip(text, max_chars)


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


def terms(text: str) -> List[str]:
    """Lower-cased, accent-folded content terms, stemmed; stop words out."""
    out = []
    stop = stop_words()
    for m in _TOKEN.finditer(fold(text)):
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
