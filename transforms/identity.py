"""Story identity: one key per story, unique across sources.

A global id (a URI or URN such as a ninjs ``uri``, a NewsML-G2 ``guid``, an
Atom ``tag:`` id) names the story whatever feed carries it, so it stays itself.
A plain id ("1234") means something only inside its feed: it is qualified by
its source ("feed-a/1234"), or, with no source, by the input file it came from
("wire/a.jsonl#1234"). A plain-text story named after its file
("business/001") is already unique and stays itself. Every stage after
normalize, and every table that points at a story, uses this key as
``article_id``; the id as the source wrote it stays in ``source_article_id``.
"""
from __future__ import annotations

import re
from typing import Optional

__all__ = ["is_global_id", "story_key"]

_GLOBAL_ID = re.compile(r"^[a-z][a-z0-9+.-]*:\S", re.IGNORECASE)


def is_global_id(article_id: str) -> bool:
    """True for URIs and URNs ("urn:newsml:...", "https://...", "tag:...")."""
    return bool(_GLOBAL_ID.match(article_id))


def _escape(qualifier: str, keep_slash: bool = False) -> str:
    # "/" ends a source and "#" a file name; "%" escapes them inside one.
    escaped = qualifier.replace("%", "%25").replace("#", "%23")
    return escaped if keep_slash else escaped.replace("/", "%2F")


def story_key(article_id: str, source: Optional[str], input_name: Optional[str],
              id_from_path: bool = False) -> str:
    """The story's key: unique across sources and input files (see the module docstring).

    ``id_from_path``: the reader named the story after its file (``path_id``), so
    the id is unique as it is.
    """
    if is_global_id(article_id):
        return article_id
    if id_from_path:
        return article_id
    if source:
        return f"{_escape(source)}/{article_id}"
    if input_name:
        return f"{_escape(input_name, keep_slash=True)}#{article_id}"
    return article_id
