"""Character-level text normalization shared by every cleaning step.

Everything downstream (dedup hashing, clustering, dateline/credit regexes)
assumes text that went through :func:`normalize_text`, so this module is the
single definition of "normalized": NFC, ASCII quotes and dashes, no invisible
characters, single spaces within lines, paragraphs separated by exactly
``"\\n\\n"``.

NFC, not NFKC: normalization makes text comparable but never changes what a
reader sees in the published fields. NFKC decomposes Thai SARA AM, turns
full-width brackets into ``<``/``>``, "\u2122" into "TM", folds ligatures and
superscripts. The comparison form (NFKC + casefold) is applied only where text
is compared: the tokenizer (:mod:`tokens`, hence dedup shingles and event terms)
and :func:`content_hash`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
import unicodedata

from .tokens import count_words

__all__ = ["normalize_text", "single_line", "word_count", "content_hash"]

# Typographic punctuation folded to ASCII. Applied *after* NFKC because NFKC
# itself produces some of these (e.g. U+2034 TRIPLE PRIME -> three U+2032,
# U+FE58 SMALL EM DASH -> U+2014), so folding first would miss them.
_FOLD = {
    # single quotes, primes, apostrophes
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u2032": "'", "\u2035": "'", "\u2039": "'", "\u203a": "'",
    "\u02bc": "'",
    # double quotes, double primes, guillemets
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u2033": '"', "\u2036": '"', "\u00ab": '"', "\u00bb": '"',
    "\u301d": '"', "\u301e": '"', "\u301f": '"',
    # hyphens and dashes: hyphen, nb-hyphen, figure, en, em, horizontal bar,
    # minus, small em dash / small hyphen (NFKC leaves some of these)
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u2e3a": "--", "\u2e3b": "---",
    "\ufe58": "-", "\ufe63": "-", "\uff0d": "-",
    # ellipsis (NFKC already expands U+2026, kept for clarity)
    "\u2026": "...",
}

# Line-break characters that str.splitlines() honours. Unified to "\n" so a
# paragraph written with U+2029 or "\r\n" is the same text as one with "\n\n".
_LINE_BREAKS = {
    "\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x1c": "\n", "\x1d": "\n",
    "\x1e": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n\n",
    "\t": " ", "\x1f": " ",
}

_CRLF = re.compile(r"\r\n")
# Any whitespace except newline, i.e. whitespace *within* a line.
_INLINE_WS = re.compile(r"[^\S\n]+")
# Two or more newlines (possibly with blank-only lines between, which are
# already empty after the per-line strip) form one paragraph break.
_PARA_BREAKS = re.compile(r"\n{3,}")
_SPACE_AROUND_NL = re.compile(r" *\n *")


@functools.lru_cache(maxsize=1)
def _removal_table() -> dict[int, str | None]:
    """Translation table: line breaks unified, invisible characters deleted.

    Built lazily (about 0.1 s, once per process) rather than at import so that
    importing the pipeline stays cheap. Deletes every control (Cc), format (Cf:
    zero-width space/joiners, BOM, bidi marks, soft hyphen) and lone surrogate
    (Cs) code point; surrogates would otherwise make ``str.encode`` fail in
    :func:`content_hash` and in Parquet writers.
    """
    table: dict[int, str | None] = {}
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs"):
            table[cp] = None
    table[ord("\n")] = "\n"
    for src, dst in _LINE_BREAKS.items():
        table[ord(src)] = dst
    return table


_FOLD_TABLE = str.maketrans(_FOLD)


def _collapse_whitespace(text: str) -> str:
    """Single spaces inside lines, no blank-line runs, no edge whitespace.

    Single newlines are kept (they may be meaningful line structure, e.g.
    poetry or list items); any run of blank lines becomes one paragraph break.
    """
    text = _INLINE_WS.sub(" ", text)
    text = _SPACE_AROUND_NL.sub("\n", text)
    text = _PARA_BREAKS.sub("\n\n", text)
    return text.strip()


def _normalize(text: str, form: str) -> str:
    if not text:
        return ""
    text = _CRLF.sub("\n", text)
    text = text.translate(_removal_table())
    # Fold before the Unicode normalization too: NFKC splits U+2033 DOUBLE
    # PRIME into two single primes, which would end up as '' instead of ".
    text = text.translate(_FOLD_TABLE)
    text = unicodedata.normalize(form, text)
    text = text.translate(_FOLD_TABLE)
    # Folding only emits ASCII, and neither NFC nor NFKC produces a control or
    # format character, so no further removal or normalization pass is needed;
    # the idempotence tests check every code point.
    return _collapse_whitespace(text)


def normalize_text(text: str) -> str:
    """Return the canonical (display) form of ``text``; idempotent and total.

    NFC, so what a reader sees is unchanged (Thai vowels, "\u2122", full-width
    brackets, ligatures and superscripts stay as sent); see the module doc.
    Order matters for idempotence and fidelity: invisible characters are
    removed *before* NFC because dropping e.g. a zero-width space between "e"
    and a combining acute accent lets them compose; folding runs both before
    and after the normalization; whitespace handling is last (NBSP and the
    ideographic space are whitespace within a line and become plain spaces).
    """
    return _normalize(text, "NFC")


def single_line(text: str) -> str:
    """Normalize and join all lines with single spaces (for headlines)."""
    return normalize_text(normalize_text(text).replace("\n", " "))


def word_count(text: str) -> int:
    """Words of the normalized text, as :mod:`tokens` splits them for every stage
    ("don't" is two, a CJK run one): a size signal, not a linguistic count."""
    return count_words(normalize_text(text)) if text else 0


def content_hash(text: str) -> str:
    """BLAKE2b-128 hex digest of the text's comparison form.

    The hashed form is the normalized text under NFKC (what ``normalize_text``
    produced before it kept compatibility characters), so copies that differ
    only in typography, whitespace, invisible or compatibility characters
    ("\ufb01nance" / "finance", full-width / ASCII digits) collide, which is what
    exact dedup wants, and hashes are the same as before. Case is kept: a copy
    in capitals is not an exact duplicate.
    """
    data = _normalize(text or "", "NFKC").encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()
