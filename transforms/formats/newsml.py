"""IPTC NewsML-G2: a ``newsItem``, or a ``newsMessage`` whose ``itemSet``
holds several items.

Structure used (NewsML-G2 2.x, namespace ``http://iptc.org/std/nar/2006-10-01/``)::

    newsItem @guid @version
      itemMeta    itemClass@qcode, versionCreated, firstCreated, pubStatus@qcode,
                  provider
      contentMeta headline (role main or none), language@tag, dateline,
                  located/name, creator/name, by, urgency, subject/name,
                  creditline
      contentSet  inlineXML (XHTML html/body, or NITF body.content with
                  body.head hl1/byline/dateline as fallbacks) | inlineData |
                  remoteContent

Media items (itemClass picture, video, audio, graphic) are rejected: their
headline and caption are not a story.

XML is parsed with defusedxml: wire input is untrusted, and a DTD with
nested entities ("billion laughs") or an external entity (XXE) must become a
reject, not a memory blow-up or a file read.
"""
from __future__ import annotations

import html as _html
import re
import xml.etree.ElementTree as ET
from typing import Iterator, List, Optional, Tuple, Union
from urllib.parse import urlsplit

import defusedxml
import defusedxml.ElementTree as SafeET

from wiredesk.schemas.records import Reject, WireRecord

from ..cleaning.dateline import split_dateline
from .common import as_int, new_record, non_empty_str, preview, read_reject
from .newsml_xhtml import CONCEPT_TAGS, NAR, body_of, local_name, nitf_head, spaced_text, url_of, xhtml_headline

__all__ = ["FORMAT", "NAR", "iter_newsml", "item_record", "local_name", "parse_xml"]

FORMAT = "newsml"
_N = "{" + NAR + "}"

#: NewsML-G2 item types that are not text stories.
_OTHER_ITEMS = ("packageItem", "conceptItem", "knowledgeItem", "planningItem",
                "catalogItem")

#: ``itemMeta/itemClass`` codes (IPTC ninat: and common aliases) of newsItems
#: that carry media, not a story: their headline and caption are not an article.
MEDIA_CLASSES = frozenset({"picture", "photo", "image", "graphic", "video",
                           "audio", "interactive"})

Item = Union[WireRecord, Reject]


def parse_xml(data: bytes) -> Tuple[Optional[ET.Element], Optional[str]]:
    """``(root, problem)``: the parsed document, safely, or why it failed."""
    try:
        return SafeET.fromstring(data), None
    except defusedxml.DefusedXmlException as exc:
        return None, (f"unsafe XML refused ({type(exc).__name__}): entity and "
                      "external DTD declarations are not allowed in wire input; "
                      "send the document without a DTD")
    except ET.ParseError as exc:
        return None, f"malformed XML: {exc}; the file must be well-formed XML"
    except (ValueError, RecursionError) as exc:
        return None, f"malformed XML: {exc}"


def _text(elem: Optional[ET.Element]) -> Optional[str]:
    """All text inside an element, whitespace-trimmed, or None if empty."""
    if elem is None:
        return None
    return non_empty_str(" ".join("".join(elem.itertext()).split()))


def _qcode_value(elem: Optional[ET.Element]) -> Optional[str]:
    """``stat:usable`` -> ``usable``; also handles ``uri=".../usable"``."""
    if elem is None:
        return None
    code = elem.get("qcode") or elem.get("uri") or elem.get("literal")
    if not code:
        return None
    return code.rsplit(":", 1)[-1].rstrip("/").rsplit("/", 1)[-1] or None


#: URI path segments that name a page of a web site, not a party.
_GENERIC_SEGMENTS = frozenset({"about", "about-us", "aboutus", "home", "index",
                               "index.html", "en", "de", "fr", "es", "www", "contact"})


def _party_code(elem: ET.Element) -> Optional[str]:
    """A party's name from its identifier alone: the code of a qcode
    (``nprov:dpa`` -> ``dpa``); for a uri, the last path segment of a
    vocabulary address (``http://cvx.iptc.org/iptc-provider/dpa`` -> ``dpa``),
    else the site's name (``https://www.dpa.com/about`` -> ``dpa``)."""
    qcode = non_empty_str(elem.get("qcode"))
    if qcode:
        return non_empty_str(qcode.rsplit(":", 1)[-1])
    uri = non_empty_str(elem.get("uri"))
    if not uri:
        return None
    parts = urlsplit(uri.strip())
    segments = [seg for seg in parts.path.split("/")
                if seg and seg.lower() not in _GENERIC_SEGMENTS]
    if len(segments) >= 2 or (segments and not parts.netloc):
        return segments[-1]
    labels = [lab for lab in (parts.hostname or "").split(".") if lab and lab != "www"]
    if len(labels) >= 2:
        return labels[-2]
    return segments[-1] if segments else (labels[0] if labels else None)


def _names(elem: ET.Element) -> Optional[str]:
    """The ``name`` children of a party, joined: name parts are separate
    elements (``<name part="nprt:given">``), never run together."""
    parts = [spaced_text(n) for n in elem.findall(_N + "name")]
    return non_empty_str(" ".join(p for p in parts if p))


def _party_name(elem: Optional[ET.Element]) -> Optional[str]:
    """A party (provider, located): its ``name``, else literal, else the code
    of its qcode or uri."""
    if elem is None:
        return None
    return _names(elem) or non_empty_str(elem.get("literal")) or _party_code(elem)


#: A CMS login rather than a person's name: digits, "@", "_", or one
#: lower-case word ("mmueller", "dpa-user4711").
_LOGIN_CHARS = re.compile(r"[\d@_]")


def _is_login(name: str) -> bool:
    return bool(_LOGIN_CHARS.search(name)) or (
        len(name.split()) == 1 and not any(ch.isupper() for ch in name))


#: ``contributor`` roles (IPTC crol:, any alias) that write the story.
_AUTHOR_ROLES = frozenset({"", "author", "writer", "reporter", "correspondent"})


def _role_of(party: ET.Element) -> str:
    return (party.get("role") or "").rsplit(":", 1)[-1].lower()


def _person_name(creator: ET.Element) -> Optional[str]:
    """A creator's name when the creator is a person named in words; never
    an identifier (uri/qcode) or a CMS user name."""
    kind = (creator.get("type") or "").rsplit(":", 1)[-1].lower()
    if kind and kind != "person":
        return None
    name = _names(creator) or non_empty_str(creator.get("literal"))
    if name is None or _is_login(name):
        return None
    return name


def byline_of(meta: ET.Element, item: Optional[ET.Element] = None,
              source: Optional[str] = None) -> Optional[str]:
    """``contentMeta/by``, else a ``creditline`` that is more than the
    source's name, else the creators who are persons with a name (else such
    contributors in an author role), else the byline of an inline NITF
    ``body.head``."""
    by = spaced_text(meta.find(_N + "by"))
    if by:
        return by
    credit = spaced_text(meta.find(_N + "creditline"))
    if credit and (source is None or credit.casefold() != source.casefold()):
        return credit
    names = [_person_name(c) for c in meta.findall(_N + "creator")]
    names = [n for n in names if n] or [
        _person_name(c) for c in meta.findall(_N + "contributor")
        if _role_of(c) in _AUTHOR_ROLES and _person_name(c)]
    if names:
        return ", ".join(names)
    return nitf_head(item, "byline") if item is not None else None


#: "LONDON, March 7 (Reuters)" -> "LONDON, March 7": the agency in a
#: dateline is a credit, as when the dateline is taken from the body.
_DATELINE_AGENCY = re.compile(r"\s*\([^()]{1,40}\)[\s\-\u2010-\u2015]*$")


def dateline_of(meta: ET.Element, item: ET.Element,
                lead: Optional[str] = None) -> Optional[str]:
    """``contentMeta/dateline``, else the NITF ``body.head`` dateline, else a
    dateline opening the body's first paragraph ("Erfurt (dpa) - ..."), found
    by the dateline cleaner, else the name of ``contentMeta/located``."""
    for text in (_text(meta.find(_N + "dateline")), nitf_head(item, "dateline")):
        if text:
            text = non_empty_str(_DATELINE_AGENCY.sub("", text))
            if text:
                return text
    if lead:
        place, _, _ = split_dateline(lead)
        if place:
            return place
    return _party_name(meta.find(_N + "located"))


def _role_code(headline: ET.Element) -> str:
    """The code of a headline role qcode: ``hltype:main`` -> ``main``."""
    return (headline.get("role") or "").strip().rsplit(":", 1)[-1].lower()


def headline_of(meta: ET.Element) -> Optional[str]:
    """The main headline: one without a role (or a role whose code is main,
    whatever the scheme alias: ``hdltype:main``, ``hltype:main``), else the first."""
    headlines = meta.findall(_N + "headline")
    for headline in headlines:
        if _role_code(headline) in ("", "main"):
            text = _text(headline)
            if text:
                return text
    for headline in headlines:
        text = _text(headline)
        if text:
            return text
    return None


def subjects_of(meta: ET.Element) -> List[str]:
    """Names of the subjects (direct ``name`` children; broader terms skipped)."""
    names = (_text(s.find(_N + "name")) for s in meta.findall(_N + "subject"))
    return [n for n in names if n]


def _is_concept_item(item: ET.Element) -> bool:
    return any(local_name(node.tag) in CONCEPT_TAGS for node in item.iter())


def item_record(item: ET.Element, origin: str, position: str,
                ingested_at: Optional[str], raw) -> Item:
    """One ``newsItem`` element -> a WireRecord, or a reject saying why not."""
    guid = non_empty_str(item.get("guid"))

    def reject(reason: str) -> Reject:
        return read_reject(reason, origin, position, raw, FORMAT, guid)

    kind = local_name(item.tag)
    if kind != "newsItem":
        return reject(f"NewsML-G2 {kind} is not a news story (only newsItem "
                      "carries story text); send the newsItems themselves")
    if guid is None:
        return reject("newsItem has no guid attribute: every item needs a guid "
                      "that stays the same across its versions")
    version = None
    if item.get("version") is not None:
        version = as_int(item.get("version"))
        if version is None:
            return reject(f"newsItem version attribute is {preview(item.get('version'))}, "
                          "not an integer: use version=\"1\", \"2\", ...")
    item_meta = item.find(_N + "itemMeta")
    item_meta = item_meta if item_meta is not None else ET.Element("itemMeta")
    item_class = (_qcode_value(item_meta.find(_N + "itemClass")) or "").lower()
    if item_class in MEDIA_CLASSES:
        return reject(f"newsItem is a {item_class} item (itemClass "
                      f"{item_meta.find(_N + 'itemClass').get('qcode') or item_class}), "
                      "not a text story: only text items become articles")
    meta = item.find(_N + "contentMeta")
    meta = meta if meta is not None else ET.Element("contentMeta")
    body, body_format, dropped, lead = body_of(item)
    if body is None and _is_concept_item(item):
        return reject("no story text: a NewsML-G2 concept/event item, not a news "
                      "item (its contentSet has no inlineXML or inlineData text)")
    warnings = []
    if dropped:
        warnings.append("dropped XHTML " + ", ".join(f"<{d}>" for d in dropped)
                        + " from the body (page furniture, not story text)")
    headline = headline_of(meta) or nitf_head(item, "hl1")
    if headline is None:
        headline, where = xhtml_headline(item.find(_N + "contentSet"))
        if headline:
            warnings.append(f"headline taken from the XHTML <{where}>: "
                            "contentMeta has no headline")
    if headline is None and body is None:
        return reject("newsItem has no text: give contentMeta/headline or a "
                      "contentSet with inlineXML or inlineData")
    if headline and body_format == "html":
        # The XML parser has unescaped it once; normalize reads a headline in
        # the body's format, so it goes as HTML: "&lt;endash&gt;" stays text.
        headline = _html.escape(headline, quote=False)
    version_created = _text(item_meta.find(_N + "versionCreated"))
    published = (_text(item_meta.find(_N + "firstCreated"))
                 or _text(meta.find(_N + "contentCreated")) or version_created)
    language = meta.find(_N + "language")
    lang = non_empty_str(language.get("tag")) if language is not None else None
    lang = lang or non_empty_str(item.get("{http://www.w3.org/XML/1998/namespace}lang"))
    source = (_party_name(item_meta.find(_N + "provider"))
              or _text(meta.find(_N + "creditline")))
    return new_record(
        article_id=guid, input_format=FORMAT, origin=origin, position=position,
        ingested_at=ingested_at, raw=raw, source=source,
        headline=headline, body=body, body_format=body_format,
        byline=byline_of(meta, item, source), dateline=dateline_of(meta, item, lead),
        language=lang, url=url_of(item), published_at=published,
        version=version, version_created=version_created,
        status=_qcode_value(item_meta.find(_N + "pubStatus")),
        urgency=as_int(_text(meta.find(_N + "urgency"))),
        subjects=subjects_of(meta), warnings=warnings,
    )


def iter_items(root: ET.Element) -> List[ET.Element]:
    """The items of a document: the root item, or a newsMessage's itemSet."""
    if local_name(root.tag) == "newsMessage":
        items = []
        for item_set in root.findall(_N + "itemSet"):
            items.extend(child for child in item_set if isinstance(child.tag, str))
        return items
    return [root]


def iter_newsml(data: bytes, origin: str, ingested_at: Optional[str],
                root: Optional[ET.Element] = None) -> Iterator[Item]:
    """Items of a NewsML-G2 document: one per item, positions "item N"."""
    if root is None:
        root, problem = parse_xml(data)
        if problem:
            yield read_reject(problem, origin, "offset 0", data, FORMAT)
            return
    if not root.tag.startswith(_N):
        yield read_reject(f"unsupported XML root <{local_name(root.tag)}>: expected "
                          f"a NewsML-G2 newsItem/newsMessage (namespace {NAR}), "
                          "an RSS or an Atom feed", origin, "offset 0", data, None)
        return
    items = iter_items(root)
    if not items:
        yield read_reject("newsMessage holds no items: its itemSet is empty or "
                          "missing", origin, "offset 0", data, FORMAT)
        return
    single = len(items) == 1 and items[0] is root
    for number, item in enumerate(items, start=1):
        raw = data if single else ET.tostring(item, encoding="unicode")
        yield item_record(item, origin, f"item {number}", ingested_at, raw)
