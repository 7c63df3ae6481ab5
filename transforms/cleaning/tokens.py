"""Words: the one tokenizer every stage uses.

A word is a maximal run of letters and digits (Unicode word characters less the
underscore) of the text's comparison form (:func:`comparison_form`: NFKC, then
casefold), so "\ufb01nance" is "finance" and full-width "\uff21\uff22\uff23\uff11\uff12\uff13" is "abc123".
Published text keeps its compatibility characters (``text.normalize_text`` is
NFC); comparing is the tokenizer's job. Dedup shingles these words (its vectorized byte-level
twin in ``transforms.dedup`` is tested against :func:`words`), events build
their terms from them, and ``word_count`` counts them, so the stages can never
disagree about what a word is.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List, Optional

__all__ = ["WORD", "comparison_form", "words", "fold", "count_words"]

#: A word: letters and digits, no underscore.
WORD = re.compile(r"[^\W_]+")


def comparison_form(text: str) -> str:
    """``text`` as it is compared, never shown: NFKC, then casefold.

    The byte-level tokenizer twin in ``transforms.dedup.shingles`` starts from
    this form too, so it finds the same words as :func:`words`.
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: Optional[str]) -> List[str]:
    """Words of ``text``'s comparison form in order (repeats kept); [] for no text."""
    return WORD.findall(comparison_form(text)) if text else []


def fold(text: str) -> str:
    """Comparison form with accents removed ("Zürich" -> "zurich"), for matching terms."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def count_words(text: Optional[str]) -> int:
    """How many words ``text`` has (as :func:`words` splits it)."""
    return sum(1 for _ in WORD.finditer(comparison_form(text))) if text else 0
