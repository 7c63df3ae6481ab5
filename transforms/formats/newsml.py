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

import copy
import re
import xml.etree.ElementTree as ET
from typing import Iterator, List, Optional, Tuple, Union

import defusedxml
import defusedxml.ElementTree as SafeET

from wiredesk.schemas.records import Reject, WireRecord

from .common import as_int, body_format_of, new_record, non_empty_str, preview, read_reject

FORMAT = "newsml"
NAR = "http://iptc.org/std/nar/2006-10-01/"
_N = "{" + NAR + "}"

#: NewsML-G2 item types that are not text stories.
_OTHER_ITEMS = ("packageItem", "conceptItem", "knowledgeItem", "planningItem",
                "catalogItem")

#: ``itemMeta/itemClass`` codes (IPTC ninat: and common aliases) of newsItems
#: that carry media, not a story: their headline and caption are not an article.
MEDIA_CLASSES = frozenset({"picture", "photo", "image", "graphic", "video",
                           "audio", "interactive"})

Item = Union[WireRecord, Reject]


def local_name(tag) -> str:
    """``{ns}name`` -> ``name`` (comments and PIs have non-string tags)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


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


def _party_name(elem: Optional[ET.Element]) -> Optional[str]:
    """A party (provider, creator): its ``name`` child, else literal/qcode."""
    if elem is None:
        return None
    name = _text(elem.find(_N + "name"))
    if name:
        return name
    return non_empty_str(elem.get("literal")) or _qcode_value(elem)


def _strip_namespaces(elem: ET.Element) -> ET.Element:
    """A copy of ``elem`` with XHTML namespaces removed, so it serializes as
    plain HTML (``<p>``), not ``<html:p>``/``<ns0:p>``."""
    elem = copy.deepcopy(elem)
    for node in elem.iter():
        if isinstance(node.tag, str):
            node.tag = local_name(node.tag)
        for key in [k for k in node.attrib if k.startswith("{")]:
            node.attrib[local_name(key)] = node.attrib.pop(key)
    return elem


def _inner_html(elem: ET.Element) -> str:
    """The children of an element serialized as an HTML fragment."""
    elem = _strip_namespaces(elem)
    parts = [elem.text or ""]
    for child in elem:
        parts.append(ET.tostring(child, encoding="unicode", method="html"))
    return "".join(parts).strip()


def _xhtml_body(inline_xml: ET.Element) -> Optional[str]:
    """The XHTML ``html/body`` or NITF ``body.content`` of an inlineXML, as HTML.

    NITF's ``<body>`` also holds ``body.head`` (headline, byline, dateline,
    abstract) and ``body.end``: only ``body.content`` is story text, so it
    wins over any ``body`` element.
    """
    for names in (("body.content",), ("body",)):
        for node in inline_xml.iter():
            if local_name(node.tag) in names and node is not inline_xml:
                html = _inner_html(node)
                if html:
                    return html
    return non_empty_str(_inner_html(inline_xml))


def _nitf_head(item: ET.Element, name: str) -> Optional[str]:
    """Text of the first ``body.head/<name>`` of an inline NITF document."""
    content_set = item.find(_N + "contentSet")
    if content_set is None:
        return None
    for head in content_set.iter():
        if local_name(head.tag) == "body.head":
            for node in head.iter():
                if local_name(node.tag) == name:
                    text = _text(node)
                    if text:
                        return text
    return None


def _inline_data_format(inline: ET.Element, data: str) -> str:
    """Format of inlineData: its contenttype, else what the text looks like."""
    kind = (inline.get("contenttype") or "").lower()
    if "html" in kind:
        return "html"
    return "text" if kind else body_format_of(data)


def body_of(item: ET.Element) -> Tuple[Optional[str], str]:
    """The story body from ``contentSet``: inlineXML first, then inlineData."""
    content_set = item.find(_N + "contentSet")
    if content_set is None:
        return None, "text"
    for inline in content_set.findall(_N + "inlineXML"):
        html = _xhtml_body(inline)
        if html:
            return html, "html"
    for inline in content_set.findall(_N + "inlineData"):
        data = non_empty_str(inline.text)
        if data:
            return data.strip(), _inline_data_format(inline, data)
    return None, "text"


def url_of(item: ET.Element) -> Optional[str]:
    """The web page of the story: a text/html ``remoteContent`` href."""
    content_set = item.find(_N + "contentSet")
    if content_set is None:
        return None
    for remote in content_set.findall(_N + "remoteContent"):
        if "html" in (remote.get("contenttype") or "") and remote.get("href"):
            return remote.get("href")
    return None


def byline_of(meta: ET.Element, item: Optional[ET.Element] = None) -> Optional[str]:
    """``contentMeta/by`` if given, else the creators' names joined, else the
    byline of an inline NITF ``body.head``."""
    by = _text(meta.find(_N + "by"))
    if by:
        return by
    names = [_party_name(c) for c in meta.findall(_N + "creator")]
    names = [n for n in names if n]
    if names:
        return ", ".join(names)
    return _nitf_head(item, "byline") if item is not None else None


#: "LONDON, March 7 (Reuters)" -> "LONDON, March 7": the agency in a
#: dateline is a credit, as when the dateline is taken from the body.
_DATELINE_AGENCY = re.compile(r"\s*\([^()]{1,40}\)[\s\-\u2010-\u2015]*$")


def dateline_of(meta: ET.Element, item: ET.Element) -> Optional[str]:
    """``contentMeta/dateline``, else the NITF ``body.head`` dateline, else the
    name of ``contentMeta/located`` (where the story was filed)."""
    for text in (_text(meta.find(_N + "dateline")), _nitf_head(item, "dateline")):
        if text:
            text = non_empty_str(_DATELINE_AGENCY.sub("", text))
            if text:
                return text
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
    headline = headline_of(meta) or _nitf_head(item, "hl1")
    body, body_format = body_of(item)
    if headline is None and body is None:
        return reject("newsItem has no text: give contentMeta/headline or a "
                      "contentSet with inlineXML or inlineData")
    version_created = _text(item_meta.find(_N + "versionCreated"))
    published = (_text(item_meta.find(_N + "firstCreated"))
                 or _text(meta.find(_N + "contentCreated")) or version_created)
    language = meta.find(_N + "language")
    lang = non_empty_str(language.get("tag")) if language is not None else None
    lang = lang or non_empty_str(item.get("{http://www.w3.org/XML/1998/namespace}lang"))
    return new_record(
        article_id=guid, input_format=FORMAT, origin=origin, position=position,
        ingested_at=ingested_at, raw=raw,
        source=(_party_name(item_meta.find(_N + "provider"))
                or _text(meta.find(_N + "creditline"))),
        headline=headline, body=body, body_format=body_format,
        byline=byline_of(meta, item), dateline=dateline_of(meta, item),
        language=lang, url=url_of(item), published_at=published,
        version=version, version_created=version_created,
        status=_qcode_value(item_meta.find(_N + "pubStatus")),
        urgency=as_int(_text(meta.find(_N + "urgency"))),
        subjects=subjects_of(meta),
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
