"""Words: the one tokenizer every stage uses.

A word is a maximal run of letters and digits (Unicode word characters less the
underscore), lower-cased. Dedup shingles these words (its vectorized byte-level
twin in ``transforms.dedup`` is tested against :func:`words`), events build
their terms from them, and ``word_count`` counts them, so the stages can never
disagree about what a word is.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List, Optional

__all__ = ["WORD", "words", "fold", "count_words"]

#: A word: letters and digits, no underscore.
WORD = re.compile(r"[^\W_]+")


def words(text: Optional[str]) -> List[str]:
    """Lower-cased words of ``text`` in order (repeats kept); [] for no text."""
    return WORD.findall(text.lower()) if text else []


def fold(text: str) -> str:
    """Lower-cased with accents removed ("Zürich" -> "zurich"), for matching terms."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def count_words(text: Optional[str]) -> int:
    """How many words ``text`` has."""
    return sum(1 for _ in WORD.finditer(text)) if text else 0
