"""Pull agency/staff credits off the end of a story body.

Wire copy ends with sign-offs that are metadata, not story: Reuters'
"(Reporting by X; Editing by Y)", AP's copyright notice and "X contributed to
this report", AFP's "(c) AFP 2019", a bare "- Reuters". They are peeled off
the last line one at a time, so any stack of them in any order is removed.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from .agencies import is_agency

__all__ = ["extract_credits", "join_credits", "peel_credits"]

_ROLE = (
    r"(?:additional |further |other |reuters |ap |afp )?"
    r"(?:reporting|reported|writing|written|editing|edited|compil(?:ed|ing)|"
    r"research(?:ed|ing)?|translat(?:ed|ion|ing)|graphics|production|produced|"
    r"contributed|contributing|sourcing|photos?|video|fact[- ]checking)"
)
# "Reporting by", "Writing and editing by": the role words directly precede
# "by", so "Reporting from Kabul was hampered by ..." is not a credit.
_ROLES_BY = rf"{_ROLE}(?:(?:,| and| &) {_ROLE})* by "
# "(Reporting by X; Editing by Y)" at the end of a line, alone or inline
# after the last sentence.
_PAREN_CREDIT = re.compile(rf"\((?P<credit>{_ROLES_BY}[^()\n]{{1,400}})\)\s*$", re.IGNORECASE)
# The same without parentheses, as a line of its own: "Compiled by ...".
_BY_LINE = re.compile(rf"(?P<credit>{_ROLES_BY}[^\n]{{1,250}})", re.IGNORECASE)
# "Associated Press writer Jane Doe in Paris contributed to this report."
_CONTRIBUTED = re.compile(
    r"(?P<credit>[^\n]{3,250}?\bcontributed(?: reporting)? (?:to|for) (?:this|the) "
    r"(?:report|story|article))\.?",
    re.IGNORECASE,
)
# "Copyright 2019 The Associated Press. All rights reserved. ...",
# "(c) AFP 2019", "© 2019 Reuters".
_COPYRIGHT = re.compile(r"(?:copyright\b|©|\(c\)\s*(?:\d{4}|[A-Z]))[^\n]{0,400}", re.IGNORECASE)
_COPYRIGHT_TAIL = re.compile(
    r"[.;]?\s+(?:all rights reserved|this material may not|no part of this)\b.*$",
    re.IGNORECASE,
)
# "- Reuters" / "-- AP" alone on the last line.
_DASH_AGENCY = re.compile(r"(?:-{1,3}|[\u2010-\u2015]{1,2})\s*(?P<credit>[^\W\d_][\w .&'-]{0,40}?)\.?")


def _line_credit(line: str) -> Optional[str]:
    """Credit text if the whole line is a credit, else None."""
    for pattern in (_BY_LINE, _CONTRIBUTED):
        m = pattern.fullmatch(line)
        if m:
            return m.group("credit").strip().rstrip(".")
    m = _COPYRIGHT.fullmatch(line)
    if m:
        return _COPYRIGHT_TAIL.sub("", line).strip().rstrip(".")
    m = _DASH_AGENCY.fullmatch(line)
    if m and is_agency(m.group("credit")):
        return m.group("credit").strip()
    return None


def _line_credits(line: str) -> Optional[tuple[str, str]]:
    """``(credit, kept)`` when ``line`` is or ends with a credit; ``kept`` is
    what remains of the line ("" when the whole line was the credit)."""
    credit = _line_credit(line)
    if credit is not None:
        return credit, ""
    m = _PAREN_CREDIT.search(line)
    if m:
        return m.group("credit").strip(), line[: m.start()].rstrip()
    return None


def join_credits(*credits: Optional[str]) -> Optional[str]:
    """Join non-empty credits with "; ", dropping case-insensitive repeats."""
    seen: dict[str, str] = {}
    for credit in credits:
        if credit and credit.strip():
            seen.setdefault(credit.strip().lower(), credit.strip())
    return "; ".join(seen.values()) or None


def peel_credits(text: str, skip: Optional[Callable[[str], bool]] = None) -> tuple[list[str], str]:
    """Remove credits from the end of ``text``: ``(credits in document order, rest)``.

    ``skip`` marks trailing lines to drop silently while peeling (clean_article
    passes the boilerplate classifier, so "credit / Share this: / credit"
    stacks come off in one go). Stops rather than leave no story text.
    Works on a list of lines, so the cost is linear in the text length.
    """
    lines = text.rstrip().split("\n")
    found: list[str] = []
    end = len(lines)          # lines[:end] is what is left
    last_kept = None          # replacement for lines[end - 1] after an inline credit

    first_text = next((i for i, line in enumerate(lines) if line.strip()), len(lines))

    def has_story_before(index: int) -> bool:
        return first_text < index

    while end:
        line = (last_kept if last_kept is not None else lines[end - 1]).strip()
        if not line:
            end, last_kept = end - 1, None
            continue
        if skip is not None and skip(line):
            if not has_story_before(end - 1):
                break
            end, last_kept = end - 1, None
            continue
        popped = _line_credits(line)
        if popped is None:
            break
        credit, kept = popped
        if not kept and not has_story_before(end - 1):
            break
        found.append(credit)
        if kept:
            last_kept = kept
        else:
            end, last_kept = end - 1, None
    rest_lines = lines[:end]
    if last_kept is not None and end:
        rest_lines[-1] = last_kept
    rest = "\n".join(rest_lines).rstrip()
    return found[::-1], rest


def extract_credits(text: str) -> tuple[Optional[str], str]:
    """Return ``(credit, rest)``: trailing credits removed from ``text``.

    Credits are listed in document order and joined with "; ". A body that
    is nothing but a credit keeps its text (an empty story is worse than a
    credit line left in place).
    """
    if not text:
        return None, text or ""
    found, rest = peel_credits(text)
    if not found:
        return None, text
    return join_credits(*found), rest
