"""clean_article: the full normalization of one story, composed from the
single-purpose steps in this package."""

from __future__ import annotations

import html as _html
import re
from typing import NamedTuple, Optional

from .boilerplate import classify_line, strip_boilerplate
from .credits import join_credits, peel_credits
from .dateline import split_lead_ins
from .html_text import html_to_text
from .text import normalize_text, single_line

__all__ = ["Cleaned", "clean_article", "clean_line"]

# Each body pass only removes text, so the loop ends; real stories settle in
# one or two passes and the cap keeps contrived input linear.
_MAX_BODY_PASSES = 6


class Cleaned(NamedTuple):
    headline: Optional[str]
    body: str
    dateline: Optional[str]
    credit: Optional[str]


# Passes that undo escaping left in text (one level each: "&amp;amp;" needs two).
_MAX_UNESCAPE_PASSES = 4

# An HTML character reference with its ";": named, decimal or hex. Text that
# still holds one after conversion was escaped once more than its format says
# (a plain-text field written as HTML, a double-escaped feed); the reference
# is never meant to be read literally in a news story.
_CHAR_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

# Real HTML tags (a bare "<" as in "profits < 5%" is not one), as found in
# escaped-twice HTML bodies and in headlines of any format.
_MARKUP_TAG = re.compile(
    r"</?(?:p|br|div|span|a|b|i|em|strong|u|s|sup|sub|small|mark|q|cite|abbr|font|"
    r"ul|ol|li|h[1-6]|table|tr|td|th|blockquote|img|script|style|figure|"
    r"figcaption|section|article|header|footer|aside|nav|main|html|head|body|"
    r"title|noscript|iframe|hr)(?:\s*/?|\s[^<>]*=[^<>]*)>",
    re.IGNORECASE,
)

_HTML_FORMATS = frozenset({"html", "xhtml", "text/html", "application/xhtml+xml"})
_TEXT_FORMATS = frozenset({"text", "plain", "text/plain"})


def _is_html(body_format: str) -> bool:
    """"html" or "text" (MIME spellings tolerated); anything else is a bug upstream."""
    kind = (body_format or "").strip().lower()
    if kind in _HTML_FORMATS:
        return True
    if kind in _TEXT_FORMATS:
        return False
    raise ValueError(f"body_format must be 'text' or 'html', got {body_format!r}")


def _unescape_references(text: str) -> str:
    """Decode the character references left in normalized text, level by level.

    html_to_text decodes exactly once, as HTML says; a reference that
    survives it, or one in a plain-text field, is escaping the producer
    applied once too often. Unknown names ("&bogus;") stay as they are.
    Every level is undone ("&amp;amp;amp;amp;amp;" is "&"), so cleaning the
    result again changes nothing; a pass that decodes a reference shortens
    the text, so the passes stop.
    """
    while _CHAR_REF.search(text):
        decoded = normalize_text(_CHAR_REF.sub(lambda m: _html.unescape(m.group(0)), text))
        if decoded == text:
            break
        text = decoded
    return text


def _text_as_html(text: str) -> str:
    """Normalized text as HTML that keeps its paragraphs and line breaks."""
    return "".join("<p>" + para.replace("\n", "<br>") + "</p>" for para in text.split("\n\n"))


def _to_text(value: Optional[str], html: bool) -> str:
    """Text of a field: HTML converted, references decoded, and any real tags
    still present (HTML escaped twice, or HTML sent as "text") converted too,
    so the result never holds markup."""
    if not value:
        return ""
    text = _unescape_references(html_to_text(value) if html else normalize_text(value))
    for _ in range(_MAX_UNESCAPE_PASSES):
        if not _MARKUP_TAG.search(text):
            break
        text = _unescape_references(html_to_text(_text_as_html(text)))
    return text


def _is_boilerplate(line: str) -> bool:
    return classify_line(line) is not None


def _clean_body(body: str) -> tuple[str, Optional[str], Optional[str]]:
    """Lead-ins, boilerplate and credits, repeated until the body is stable.

    Each step is complete on its own (all stacked datelines, all trailing
    credits interleaved with boilerplate); the loop only catches the rare
    interplay, e.g. an isolated share line above the dateline or a trailer
    cut that moves another marker into the last part of the text. That makes
    clean_article a fixed point in practice.
    """
    dateline: Optional[str] = None
    lead_credits: list[Optional[str]] = []
    tail_credits: list[str] = []
    for _ in range(_MAX_BODY_PASSES):
        before = body
        lead_ins, body = split_lead_ins(body)
        for found_dateline, lead_credit in lead_ins:
            dateline = dateline or found_dateline
            lead_credits.append(lead_credit)
        body = strip_boilerplate(body)
        credits, body = peel_credits(body, skip=_is_boilerplate)
        # Later passes uncover credits that sat *before* earlier ones.
        tail_credits[:0] = credits
        body = normalize_text(body)
        if body == before:
            break
    return body, dateline, join_credits(*lead_credits, *tail_credits)


def clean_article(headline: Optional[str], body: Optional[str], body_format: str) -> Cleaned:
    """Normalize one story: text/HTML -> normalized text, fields pulled out.

    ``body_format`` is "text" or "html" (anything else is a ValueError); with
    "html" the headline is HTML-stripped too. Markup left after that (a
    character reference or a tag in a "text" field, HTML escaped twice) is
    converted as well, so neither field ever holds tags or references. The
    headline becomes a single line (None when empty). Cleaning the result
    again (as "text") returns the same headline and body.
    """
    html = _is_html(body_format)
    headline_text = single_line(_to_text(headline, html)) or None
    body_text, dateline, credit = _clean_body(_to_text(body, html))
    return Cleaned(headline=headline_text, body=body_text, dateline=dateline, credit=credit)


def clean_line(value: Optional[str]) -> Optional[str]:
    """A short metadata field (byline, dateline) as one line of plain text:
    tags and character references removed as in headlines, None when empty.
    Idempotent."""
    return single_line(_to_text(value, False)) or None
