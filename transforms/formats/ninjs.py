"""IPTC ninjs ("News in JSON") objects, versions 1.x, 2.x and 3.x.

ninjs renamed its properties between versions: 1.x has ``headline``,
``body_text``/``body_html``, ``byline``, ``subject[]``; 2.x keeps lowercase names but
adds ``headlines[]``, ``bodies[]``, ``subjects[]``, ``infosources[]``; 3.x
switches to camelCase (``versionCreated``, ``pubStatus``, ``contentType``,
``infoSources``, ``copyrightHolder``). Each accessor below tries the names of
all versions so one mapping serves every feed we receive.

Reference: https://github.com/iptc/newsinjson (specification/ninjs-schema_*.json).
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from wiredesk.schemas.records import Reject, WireRecord

from .common import as_int, body_format_of, new_record, non_empty_str, preview, read_reject

FORMAT = "ninjs"

#: Keys only ninjs objects carry (flat records use ``id``/``headline``/``body``).
NINJS_KEYS = frozenset({
    "uri", "versioncreated", "versionCreated", "firstcreated", "firstCreated",
    "bodies", "body_text", "body_html", "body_xhtml", "headlines", "$schema",
    "pubstatus", "pubStatus", "representationtype", "representationType",
    "infosources", "infoSources", "copyrightholder", "copyrightHolder",
    "guid",
})

#: ninjs 1.x patternProperties: ``^headline_[a-zA-Z0-9_]+`` and
#: ``^body_[a-zA-Z0-9_]+`` (IPTC's user guide uses e.g. ``headline_main``,
#: ``body_nitf``); the 2.x/3.x arrays replaced them.
_HEADLINE_PATTERN = re.compile(r"headline_[a-zA-Z0-9_]+")
_BODY_PATTERN = re.compile(r"body_[a-zA-Z0-9_]+")


#: Headline/body roles that mark the main variant in ``headlines[]``/``bodies[]``.
_MAIN_ROLES = ("main", "default", "", None)

#: Publication statuses the pipeline understands (IPTC pubstatus vocabulary).
STATUSES = ("usable", "withheld", "canceled")

#: ninjs ``type`` values of media objects (a photo, a clip): their headline
#: and caption are not a story, so they do not become articles. "text",
#: "composite" (a story with associations) and unknown types are read.
MEDIA_TYPES = frozenset({"picture", "graphic", "video", "audio", "image"})


def is_ninjs(obj: Dict[str, Any]) -> bool:
    """Decide per JSON object whether it is ninjs or a flat wire record.

    ``uri`` wins over ``id`` (some ninjs producers add an ``id`` too); an
    object with ``id`` and no ninjs identifier is flat; otherwise any ninjs-only
    key makes it ninjs, so that a ninjs object missing its ``uri`` is rejected
    with a ninjs reason rather than "missing id".
    """
    if "uri" in obj:
        return True
    if "id" in obj:
        return False
    return any(key in NINJS_KEYS or _pattern_key(key) for key in obj)


def _pattern_key(key: str) -> bool:
    return bool(_HEADLINE_PATTERN.fullmatch(key) or _BODY_PATTERN.fullmatch(key))


def _is_story(obj: Dict[str, Any]) -> bool:
    """True when an object carries story fields itself (not an envelope)."""
    return any(key in obj for key in ("uri", "guid", "headline", "headlines", "body",
                                      "body_text", "body_html", "bodies")) \
        or any(_pattern_key(key) for key in obj)


def envelope_items(value: Any) -> Optional[List[Any]]:
    """The items inside a ninjs envelope, or None when ``value`` is not one.

    Agencies wrap ninjs items: ``{"item": [...]}`` (several items), AP's
    media API ``{"data": {"item": {...}}}`` and its feeds
    ``{"data": {"items": [{"item": {...}}, ...]}}``. An envelope is an
    object without story fields of its own whose ``item`` (one object or a
    list), ``items`` (of objects or ``{"item": ...}``) or ``data`` holds the
    stories.
    """
    if not isinstance(value, dict) or _is_story(value):
        return None
    if isinstance(value.get("data"), dict):
        inner = envelope_items(value["data"])
        if inner is not None:
            return inner
    for key in ("item", "items"):
        found = value.get(key)
        if isinstance(found, dict):
            found = [found]
        if isinstance(found, list) and found:
            items = []
            for entry in found:  # AP feeds: [{"item": {...}}, ...]
                inner = envelope_items(entry)
                items.extend(inner if inner is not None else [entry])
            return items
    return None


def _first(obj: Dict[str, Any], *names: str) -> Any:
    """The value of the first of ``names`` present and not None."""
    for name in names:
        if obj.get(name) is not None:
            return obj[name]
    return None


def _dicts(value: Any) -> List[Dict[str, Any]]:
    """The dict entries of a list (ninjs arrays), ignoring anything else."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _content_type(part: Dict[str, Any]) -> str:
    return str(_first(part, "contentType", "contenttype", "mimetype") or "").lower()


def _by_role(parts: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Parts with a usable value, main/default roles first (stable order)."""
    usable = [p for p in parts if non_empty_str(p.get("value"))]
    return sorted(usable, key=lambda p: p.get("role") not in _MAIN_ROLES)


def headline_of(obj: Dict[str, Any]) -> Optional[str]:
    """``headline`` (1.x), else the main entry of ``headlines[]`` (2.x/3.x)."""
    headline = non_empty_str(obj.get("headline"))
    if headline:
        return headline
    parts = _by_role(_dicts(obj.get("headlines")))
    if parts:
        return parts[0]["value"]
    return _pattern_value(obj, _HEADLINE_PATTERN)[1]


def _pattern_value(obj: Dict[str, Any], pattern: re.Pattern[str]
                   ) -> Tuple[Optional[str], Optional[str]]:
    """``(key, value)`` of the first 1.x pattern property with text; a key
    naming the main variant (``headline_main``, ``body_default``) first."""
    keys = [k for k in obj if pattern.fullmatch(k) and non_empty_str(obj[k])]
    keys.sort(key=lambda k: k.split("_", 1)[1].lower() not in ("main", "default"))
    return (keys[0], obj[keys[0]]) if keys else (None, None)


def _is_html_type(content_type: str) -> bool:
    # "body_xhtml" appears as a contenttype in IPTC's own 2.x examples.
    return "html" in content_type


def body_of(obj: Dict[str, Any]) -> Tuple[Optional[str], str]:
    """The story body and its format ("html" or "text").

    Preference: ``body_html``/``body_xhtml`` (1.x), ``body_text``, then
    ``bodies[]`` with an HTML content type, then text/plain, then any body.
    HTML is preferred because it keeps paragraph structure for normalize.
    """
    for key, fmt in (("body_html", "html"), ("body_xhtml", "html"), ("body_text", "text")):
        value = non_empty_str(obj.get(key))
        if value:
            return value, fmt
    parts = _by_role(_dicts(obj.get("bodies")))
    for part in parts:
        if _is_html_type(_content_type(part)):
            return part["value"], "html"
    for part in parts:
        if _content_type(part) == "text/plain":
            return part["value"], "text"
    if parts:
        return parts[0]["value"], body_format_of(parts[0]["value"])
    key, value = _pattern_value(obj, _BODY_PATTERN)
    if value:
        return value, "html" if "html" in key.lower() else body_format_of(value)
    return None, "text"


def _name(value: Any) -> Optional[str]:
    """A party's name: a string, or the ``name``/``literal`` of an object."""
    if isinstance(value, dict):
        return non_empty_str(_first(value, "name", "literal"))
    return non_empty_str(value)


def source_of(obj: Dict[str, Any]) -> Optional[str]:
    """First info source, else copyright holder, else a provider field."""
    for party in _dicts(_first(obj, "infoSources", "infosources", "infosource")):
        name = _name(party)
        if name:
            return name
    return _name(_first(obj, "copyrightHolder", "copyrightholder", "provider"))


def byline_of(obj: Dict[str, Any]) -> Optional[str]:
    """``by`` (2.x/3.x), else ``byline`` (the 1.x name of the same field),
    else the ``by`` of AP's ``bylines[]``."""
    found = _name(obj.get("by")) or _name(obj.get("byline"))
    if found:
        return found
    names = [non_empty_str(b.get("by")) for b in _dicts(obj.get("bylines"))]
    return non_empty_str(", ".join(n for n in names if n))


def subjects_of(obj: Dict[str, Any]) -> List[str]:
    """Names of ``subjects[]`` (2.x/3.x) or ``subject[]`` (1.x)."""
    parts = _dicts(_first(obj, "subjects", "subject"))
    return [p["name"] for p in parts if non_empty_str(p.get("name"))]


def _renditions(obj: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Renditions as a list: 1.x keyed them by name in an object."""
    value = obj.get("renditions")
    if isinstance(value, dict):
        return [dict(v, name=k) for k, v in value.items() if isinstance(v, dict)]
    return _dicts(value)


def url_of(obj: Dict[str, Any]) -> Optional[str]:
    """A web address for the story: ``links[]`` href, else an HTML rendition.

    Picture or video renditions are not the story's address, so only
    renditions typed text/html (or named web/html) count.
    """
    for link in _dicts(obj.get("links")):
        href = non_empty_str(link.get("href"))
        if href:
            return href
    for rendition in _renditions(obj):
        href = non_empty_str(rendition.get("href"))
        kind = _content_type(rendition)
        if href and ("html" in kind or rendition.get("name") in ("web", "html")):
            return href
    return None


def status_of(obj: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """``(status, problem)``: pubstatus lowercased, "cancelled" spelled "canceled"."""
    value = _first(obj, "pubStatus", "pubstatus")
    if value is None:
        return None, None
    status = str(value).strip().lower()
    if status == "cancelled":
        status = "canceled"
    if status not in STATUSES:
        return None, (f"ninjs 'pubstatus' is {preview(value)}; use one of "
                      f"{', '.join(STATUSES)}")
    return status, None


def record_from_object(obj: Dict[str, Any], raw: str, origin: str,
                       position: str, ingested_at: Optional[str]
                       ) -> Union[WireRecord, Reject]:
    """Map one ninjs object to a WireRecord, or reject it with the reason."""
    uri = non_empty_str(obj.get("uri"))
    warnings = []
    if uri is None and non_empty_str(obj.get("guid")):
        # Superdesk's ninjs replaces "uri" by "guid" (the item is not on the
        # web yet): the guid is the story's global id.
        uri = obj["guid"]
        warnings.append("ninjs object has no 'uri': its 'guid' is the id")

    def reject(reason: str) -> Reject:
        return read_reject(reason, origin, position, raw, FORMAT, uri)

    if uri is None:
        return reject("ninjs object has no 'uri' (the story identifier "
                      "ninjs requires): add a non-empty string 'uri'")
    kind = obj.get("type")
    if isinstance(kind, str) and kind.strip().lower() in MEDIA_TYPES:
        return reject(f"ninjs object is of type {kind.strip()!r}, a media item, "
                      "not a text story: only text objects become articles")
    version = None
    if obj.get("version") is not None:
        version = as_int(obj["version"])
        if version is None:
            return reject(f"ninjs 'version' is {preview(obj['version'])}, not "
                          "an integer: send the version number, e.g. \"2\"")
    status, problem = status_of(obj)
    if problem:
        return reject(problem)
    headline = headline_of(obj)
    body, body_format = body_of(obj)
    if headline is None and body is None:
        return reject("ninjs object has no text: give 'headline'/'headlines' "
                      "or 'body_text'/'body_html'/'bodies'")
    version_created = non_empty_str(_first(obj, "versionCreated", "versioncreated"))
    published = non_empty_str(_first(obj, "firstCreated", "firstcreated")) or version_created
    return new_record(
        article_id=uri, input_format=FORMAT, origin=origin, position=position,
        ingested_at=ingested_at, raw=raw, source=source_of(obj),
        headline=headline, body=body, body_format=body_format,
        byline=byline_of(obj), dateline=_name(obj.get("located")),
        language=non_empty_str(obj.get("language")), url=url_of(obj),
        published_at=published, version=version,
        version_created=version_created, status=status,
        urgency=as_int(obj.get("urgency")), subjects=subjects_of(obj),
        warnings=warnings,
    )
