"""Text of an article as the events stage reads it: headline and body split,
clipped, and turned into stemmed content terms.

The terms are what article vectors are built from (``features``) and what an
event's digest lists (``summary``), so both read words the same way. Words
come from ``cleaning.tokens`` (the one tokenizer), stems from PyStemmer.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import List, Optional, Tuple

from wiredesk.transforms.cleaning.tokens import fold, words

__all__ = ["STEMMER", "clip", "split_headline", "ner_text", "stop_words", "terms", "stem"]


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
        parts = first.split()
        if rest.strip() and 2 <= len(parts) <= 20 and not first.endswith((".", ":", "\"", "”")):
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
    """Content terms of ``text``: its words (``cleaning.tokens.words``, the one
    tokenizer), accent-folded; stop words and one-character words out; words
    that start with a digit kept as they are, the others stemmed."""
    out = []
    stop = stop_words()
    for w in words(fold(text)):
        if len(w) < 2:
            continue
        if w[0].isdigit():
            out.append(w)
        elif w not in stop:
            out.append(stem(w))
    return out


#: PyStemmer's algorithm: "porter", the original Porter (1980) stemmer the
#: stage has always used by hand. "english" (Porter2) gave the same events on
#: all four shared sets (ECB+, UCI, GVC, NewsWCL50), so the older one stays.
STEMMER = "porter"
_LOCAL = threading.local()


def _stemmer():
    """This thread's PyStemmer (a Stemmer object is not thread-safe)."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _LOCAL.stemmer = Stemmer.Stemmer(STEMMER)
    return stemmer


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of a lower-cased word; words of two letters or fewer, and
    words that are not all ASCII letters, stay as they are."""
    if len(word) <= 2 or not word.isalpha() or not word.isascii():
        return word
    return _stemmer().stemWord(word)
