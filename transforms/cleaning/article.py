"""clean_article: the full normalization of one story, composed from the
single-purpose steps in this package."""

from __future__ import annotations

from typing import NamedTuple, Optional

from .boilerplate import classify_line, strip_boilerplate
from .credits import join_credits, peel_credits
from .dateline import split_lead_ins
from .html_text import html_to_text
from .text import normalize_text, single_line

__all__ = ["Cleaned", "clean_article"]

# Each body pass only removes text, so the loop ends; real stories settle in
# one or two passes and the cap keeps contrived input linear.
_MAX_BODY_PASSES = 6


class Cleaned(NamedTuple):
    headline: Optional[str]
    body: str
    dateline: Optional[str]
    credit: Optional[str]


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


def _to_text(value: Optional[str], html: bool) -> str:
    if not value:
        return ""
    return html_to_text(value) if html else normalize_text(value)


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
    "html" the headline is HTML-stripped too. The headline becomes a single
    line (None when empty). Cleaning the result again (as "text") returns the
    same headline and body.
    """
    html = _is_html(body_format)
    headline_text = single_line(_to_text(headline, html)) or None
    body_text, dateline, credit = _clean_body(_to_text(body, html))
    return Cleaned(headline=headline_text, body=body_text, dateline=dateline, credit=credit)
