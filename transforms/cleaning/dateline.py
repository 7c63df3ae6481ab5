"""Split the wire dateline ("WASHINGTON (AP) - ") off the start of a body.

Wire stories open with a place, optional date and the agency, then a dash.
Each accepted shape is its own pattern below, from most to least structured;
the less structured ones (no agency in parentheses) carry extra checks so an
ordinary first sentence containing a dash is never eaten.
"""

from __future__ import annotations

import re
from typing import Optional

from .agencies import is_agency

__all__ = ["split_dateline", "split_lead_ins"]

# Only the opening of the body is examined: bounds the cost on long bodies.
_HEAD_CHARS = 400

# Dash forms in raw and normalized copy: "-", "--", "---", typographic dashes,
# and the underscore old AP copy used ("WASHINGTON (AP) _ ").
_DASH = r"(?:-{1,3}|[\u2010-\u2015\u2212]{1,2}|_)"
# A word of a place name: starts with a letter; may hold "." "'" "&" and
# inner hyphens ("ST. LOUIS", "U.S.", "WILKES-BARRE", "D.C.").
_WORD = r"[^\W\d_][\w.'&]*(?:-[^\W\d_][\w.'&]*)*"
_PLACE_HEAD = rf"{_WORD}(?: {_WORD}){{0,4}}"
# Region / date parts after commas: "Iraq", "N.Y.", "May 15", "2019".
_PART = rf"(?:{_WORD}|\d{{1,4}}\.?)(?: (?:{_WORD}|\d{{1,4}}\.?)){{0,4}}"
_PLACE = rf"(?P<place>{_PLACE_HEAD}(?:, {_PART}){{0,3}})"
_AGENCY = r"(?P<agency>[^\W\d_][\w.&'/ -]{0,39}?)"

# "WASHINGTON (AP) - ", "PARIS, May 15 (Reuters) - ", "Beirut (AFP) - "
_PLACE_AGENCY = re.compile(rf"{_PLACE} ?\({_AGENCY}\) ?{_DASH}\s*")
# "(CNN) -- ", "(MEMO) - ", and dash-less "(CNN)The ..."
_AGENCY_ONLY = re.compile(rf"\({_AGENCY}\)(?: ?(?P<dash>{_DASH}))?\s*")
# Malformed "(MEMO- The ..." (opening paren, agency, dash, no closing paren).
_AGENCY_UNCLOSED = re.compile(rf"\((?P<agency>[A-Z][A-Z.&]{{1,9}}) ?{_DASH}\s*")
# "NEW YORK -- ", "BAGHDAD, Iraq - " (no agency); also "DESPARDES News
# Monitor - " (outlet lead-in); told apart by the case checks below.
_PLACE_DASH = re.compile(rf"{_PLACE} {_DASH} ")

_SENTENCE_START = re.compile(r"[A-Z0-9\"'(\[]")


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def _is_caps(text: str) -> bool:
    """All letters upper case and at least two of them ("NEW YORK", "U.S.")."""
    letters = _letters(text)
    return len(letters) >= 2 and letters.isupper()


def _words_capitalized(text: str) -> bool:
    """Every word starts with an upper-case letter or a digit ("May 15")."""
    return all(w[0].isupper() or w[0].isdigit() for w in text.replace(",", " ").split())


def _head(place: str) -> tuple[str, str]:
    head, _, region = place.partition(",")
    return head, region


def _place_agency(text: str):
    m = _PLACE_AGENCY.match(text)
    if not m:
        return None
    place, agency = m.group("place"), m.group("agency").strip()
    head, region = _head(place)
    if not _words_capitalized(region):
        return None
    # All-caps place: any agency-looking credit. Title-case place
    # ("Beirut (AFP) -"): only a known agency, else "President Trump (R) -"
    # would qualify.
    if _is_caps(head) or (_words_capitalized(head) and is_agency(agency)):
        if len(agency.split()) <= 5:
            return place, agency, m.end()
    return None


def _agency_only(text: str):
    m = _AGENCY_ONLY.match(text)
    if not m:
        return None
    agency = m.group("agency").strip()
    if m.group("dash"):
        ok = agency[0].isupper() and len(agency.split()) <= 4 and _words_capitalized(agency)
    else:
        # "(CNN)The ..." - without a dash only a bare all-caps acronym
        # followed by a capitalized word, never "(Updates with ...) ...".
        rest = text[m.end():]
        ok = _is_caps(agency) and " " not in agency and bool(rest[:1].isupper())
    return (None, agency, m.end()) if ok else None


def _agency_unclosed(text: str):
    m = _AGENCY_UNCLOSED.match(text)
    if not m or ")" in text[m.start(): m.end()]:
        return None
    return None, m.group("agency"), m.end()


def _place_dash(text: str):
    m = _PLACE_DASH.match(text)
    if not m:
        return None
    rest = text[m.end():]
    # The story must go on with a capitalized sentence on the same line:
    # "NATO - the alliance said" is a sentence, not a dateline.
    if not _SENTENCE_START.match(rest):
        return None
    place = m.group("place")
    head, region = _head(place)
    if len(_letters(head)) < 3:
        return None  # "US - China talks ..." stays intact
    if _is_caps(head) and _words_capitalized(region):
        return place, None, m.end()
    # Outlet lead-in: an all-caps name followed by Title-case words
    # ("DESPARDES News Monitor - "), no comma parts.
    words = head.split()
    if not region and len(words) >= 2 and _is_caps(words[0]) and len(_letters(words[0])) >= 3 \
            and _words_capitalized(head):
        return None, head, m.end()
    return None


_MATCHERS = (_place_agency, _agency_only, _agency_unclosed, _place_dash)


def _match_at(text: str, pos: int):
    """First lead-in starting at ``pos``: ``(dateline, credit, end)`` or None."""
    head = text[pos: pos + _HEAD_CHARS]
    for matcher in _MATCHERS:
        found = matcher(head)
        if found is not None:
            dateline, credit, end = found
            return dateline, credit, pos + end
    return None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def split_dateline(text: str) -> tuple[Optional[str], Optional[str], str]:
    """Return ``(dateline, credit, rest)`` for a body that may open with a dateline.

    ``dateline`` is the place (and date) part, ``credit`` the agency or outlet
    named in the lead-in; either may be None. When nothing matches, or the
    dateline would be all there is, ``(None, None, text)`` is returned with the
    text unchanged.
    """
    if not text:
        return None, None, text or ""
    start = _skip_space(text, 0)
    found = _match_at(text, start)
    if found is None:
        return None, None, text
    dateline, credit, end = found
    end = _skip_space(text, end)
    if end >= len(text):
        return None, None, text
    return dateline, credit, text[end:]


def split_lead_ins(text: str) -> tuple[list[tuple[Optional[str], Optional[str]]], str]:
    """Like :func:`split_dateline` but removes every stacked lead-in
    ("LONDON (Reuters) - NEW YORK - ..."), so the rest never starts with one.

    Works on offsets, so a pathological run of lead-ins stays linear.
    """
    found: list[tuple[Optional[str], Optional[str]]] = []
    if not text:
        return found, text or ""
    pos = _skip_space(text, 0)
    while True:
        match = _match_at(text, pos)
        if match is None:
            break
        dateline, credit, end = match
        end = _skip_space(text, end)
        if end >= len(text):
            break
        found.append((dateline, credit))
        pos = end
    return found, (text[pos:] if found else text)
