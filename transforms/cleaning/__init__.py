"""Normalization of wire stories (pure Python, no Beam).

The Beam ``Normalize`` transform calls :func:`clean_article` per story and the
field-level helpers below; each lives in a small module of this package.
"""

from .article import Cleaned, clean_article, clean_line
from .boilerplate import strip_boilerplate
from .credits import extract_credits
from .dateline import split_dateline
from .html_text import html_to_text
from .language import detect_language, normalize_language
from .text import content_hash, normalize_text, word_count
from .timestamps import parse_timestamp

__all__ = [
    "Cleaned",
    "clean_article",
    "clean_line",
    "content_hash",
    "detect_language",
    "extract_credits",
    "html_to_text",
    "normalize_language",
    "normalize_text",
    "parse_timestamp",
    "split_dateline",
    "strip_boilerplate",
    "word_count",
]
