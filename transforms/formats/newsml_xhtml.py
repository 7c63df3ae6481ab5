"""The story text of a NewsML-G2 ``contentSet``: inline XHTML (or NITF) as HTML.

Split from :mod:`newsml` (item metadata): the ``contentSet`` is read here
(inlineXML, inlineData, remoteContent, an inline NITF ``body.head``). Rules:

* the body is the XHTML ``html/body`` or NITF ``body.content``; an inlineXML
  holding NewsML-G2 concept or event metadata (``concept``,
  ``eventDetails``) is not story text;
* page furniture of the XHTML body (``header``, ``footer``, ``nav``,
  ``aside``) is dropped by element: dpa opens its bodies with a ``header``
  that repeats keywords, a timestamp, the genre and the headline;
* a headline found only in the XHTML ``head/title`` or a body ``h1`` is the
  fallback headline.
"""
from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import List, Optional, Tuple

from .common import body_format_of, non_empty_str

NAR = "http://iptc.org/std/nar/2006-10-01/"
_N = "{" + NAR + "}"

#: XHTML elements that frame a page, not the story: dropped from bodies.
FURNITURE = ("header", "footer", "nav", "aside")


def local_name(tag) -> str:
    """``{ns}name`` -> ``name`` (comments and PIs have non-string tags)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


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


def _drop_furniture(elem: ET.Element) -> List[str]:
    """Remove header/footer/nav/aside elements (keeping the text after them);
    returns the names of the elements removed, in document order."""
    dropped: List[str] = []
    for parent in list(elem.iter()):
        for child in list(parent):
            if local_name(child.tag) in FURNITURE:
                dropped.append(local_name(child.tag))
                tail = child.tail or ""
                index = list(parent).index(child)
                if tail.strip():
                    if index:
                        prev = parent[index - 1]
                        prev.tail = (prev.tail or "") + tail
                    else:
                        parent.text = (parent.text or "") + tail
                parent.remove(child)
    return dropped


def _inner_html(elem: ET.Element) -> str:
    """The children of an (already namespace-free) element as an HTML fragment."""
    parts = [elem.text or ""]
    for child in elem:
        parts.append(ET.tostring(child, encoding="unicode", method="html"))
    return "".join(parts).strip()


#: NewsML-G2 concept and event metadata elements: not story text.
CONCEPT_TAGS = frozenset({"concept", "conceptItem", "eventDetails", "event",
                          "conceptId", "knowledgeItem", "planningItem"})


def _is_metadata(elem: ET.Element) -> bool:
    """True for NewsML-G2 concept/event XML (by element name: text elements
    written without an XHTML namespace inherit the NAR one)."""
    return local_name(elem.tag) in CONCEPT_TAGS


def xhtml_body(inline_xml: ET.Element
               ) -> Tuple[Optional[str], List[str], Optional[str]]:
    """``(html, dropped, lead)``: the body of an inlineXML as HTML, the names
    of the furniture elements dropped from it and the text of its first
    paragraph (where a dateline such as "Erfurt (dpa) -" stands).

    NITF's ``<body>`` also holds ``body.head`` (headline, byline, dateline,
    abstract) and ``body.end``: only ``body.content`` is story text, so it
    wins over any ``body`` element.
    """
    for names in (("body.content",), ("body",)):
        for node in inline_xml.iter():
            if local_name(node.tag) in names and node is not inline_xml:
                node = _strip_namespaces(node)
                dropped = _drop_furniture(node)
                html = _inner_html(node)
                if html:
                    return html, dropped, first_paragraph(node)
    children = [c for c in inline_xml if isinstance(c.tag, str)]
    if not children or any(_is_metadata(c) for c in children):
        return None, [], None
    node = _strip_namespaces(inline_xml)
    dropped = _drop_furniture(node)
    return non_empty_str(_inner_html(node)), dropped, first_paragraph(node)


def _text(elem: Optional[ET.Element]) -> Optional[str]:
    if elem is None:
        return None
    return non_empty_str(" ".join("".join(elem.itertext()).split()))


def spaced_text(elem: Optional[ET.Element]) -> Optional[str]:
    """Text of a metadata element whose child elements are separate parts
    (``<by><name>Anna</name><name>Schmidt</name></by>``): joined by spaces."""
    if elem is None:
        return None
    return non_empty_str(" ".join(" ".join(elem.itertext()).split()))


def xhtml_headline(content_set: Optional[ET.Element]) -> Tuple[Optional[str], Optional[str]]:
    """``(headline, where)`` from inline XHTML: ``head/title``, else the first
    ``h1`` of the body outside its furniture; ``where`` names the element."""
    if content_set is None:
        return None, None
    for inline in content_set.iter("{" + NAR + "}inlineXML"):
        for node in inline.iter():
            if local_name(node.tag) == "title":
                text = _text(node)
                if text:
                    return text, "title"
        for body in inline.iter():
            if local_name(body.tag) == "body":
                body = _strip_namespaces(body)
                _drop_furniture(body)
                for node in body.iter("h1"):
                    text = _text(node)
                    if text:
                        return text, "h1"
    return None, None


def first_paragraph(body: ET.Element) -> Optional[str]:
    """Text of the first non-empty ``p`` of a (namespace-free) body."""
    for node in body.iter("p"):
        text = _text(node)
        if text:
            return text
    return None


def nitf_head(item: ET.Element, name: str) -> Optional[str]:
    """Text of the first ``body.head/<name>`` of an inline NITF document."""
    content_set = item.find(_N + "contentSet")
    if content_set is None:
        return None
    for head in content_set.iter():
        if local_name(head.tag) == "body.head":
            for node in head.iter():
                if local_name(node.tag) == name:
                    text = spaced_text(node)
                    if text:
                        return text
    return None


def _inline_data_format(inline: ET.Element, data: str) -> str:
    """Format of inlineData: its contenttype, else what the text looks like."""
    kind = (inline.get("contenttype") or "").lower()
    if "html" in kind:
        return "html"
    return "text" if kind else body_format_of(data)


def body_of(item: ET.Element) -> Tuple[Optional[str], str, List[str], Optional[str]]:
    """The story body from ``contentSet``: inlineXML first, then inlineData;
    also the furniture dropped from it and its first paragraph's text."""
    content_set = item.find(_N + "contentSet")
    if content_set is None:
        return None, "text", [], None
    for inline in content_set.findall(_N + "inlineXML"):
        html, dropped, lead = xhtml_body(inline)
        if html:
            return html, "html", dropped, lead
    for inline in content_set.findall(_N + "inlineData"):
        data = non_empty_str(inline.text)
        if data:
            data = data.strip()
            return data, _inline_data_format(inline, data), [], data.split("\n", 1)[0]
    return None, "text", [], None


def url_of(item: ET.Element) -> Optional[str]:
    """The web page of the story: a text/html ``remoteContent`` href."""
    content_set = item.find(_N + "contentSet")
    if content_set is None:
        return None
    for remote in content_set.findall(_N + "remoteContent"):
        if "html" in (remote.get("contenttype") or "") and remote.get("href"):
            return remote.get("href")
    return None
