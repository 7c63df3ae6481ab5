"""HTML to plain text via lxml (parsing, pruning) and inscriptis (layout).

Regex on tags cannot handle real feed HTML (unclosed tags, CDATA, comments,
entities); lxml's libxml2 HTML parser is the robust parser and inscriptis
renders block structure the way a browser would.
"""

from __future__ import annotations

import html as _html
import re
import threading
from html.parser import HTMLParser as _TokenParser

from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement
from lxml import etree
from lxml.html import HTMLParser, document_fromstring

from .text import normalize_text

__all__ = ["html_to_text"]

# Elements whose content is never article text.
_DROP_TAGS = (
    "script", "style", "noscript", "iframe", "template", "svg", "math",
    "object", "embed", "canvas", "audio", "video", "source", "track",
    "button", "select", "option", "textarea", "input", "form", "head",
    "title", "meta", "link", "base",
)

# Block-level elements rendered as their own paragraph (blank line before and
# after). inscriptis' stock profiles give <div>/<li> only a single newline and
# indent lists, which would glue separate paragraphs together after
# normalization; a paragraph-per-block profile keeps story structure.
_BLOCK_TAGS = (
    "p", "div", "section", "article", "main", "header", "footer", "aside",
    "nav", "blockquote", "figure", "figcaption", "address", "li", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "hgroup", "details", "summary",
    "table", "caption", "tr", "center", "fieldset", "dl", "ul", "ol", "hr",
)


def _build_config() -> ParserConfig:
    css = dict(CSS_PROFILES["strict"])
    for tag in _BLOCK_TAGS:
        css[tag] = HtmlElement(display=Display.block, margin_before=1, margin_after=1)
    for tag in _DROP_TAGS:
        css[tag] = HtmlElement(display=Display.none)
    return ParserConfig(css=css, display_images=False, display_links=False)


_CONFIG = _build_config()
_LOCAL = threading.local()
# Code points libxml2 rejects ("All strings must be XML compatible").
_XML_INCOMPATIBLE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _parser() -> HTMLParser:
    """This thread's parser: its error log, read after a parse, is that parse's own."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = HTMLParser(remove_comments=True, remove_pis=True, remove_blank_text=False)
    return parser


# Elements without an end tag: dropping one must not drop what follows it.
_VOID_TAGS = frozenset({"input", "meta", "link", "base", "source", "track", "embed", "br", "hr", "img", "wbr"})


class _FlatText(_TokenParser):
    """Text of markup read as a flat token stream, with no nesting limit.

    For markup nested deeper than libxml2 allows: the text, a paragraph per
    block element, without what the dropped elements hold.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list = []
        self._dropped = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in _DROP_TAGS and tag not in _VOID_TAGS:
            self._dropped += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag) -> None:
        if tag in _DROP_TAGS and tag not in _VOID_TAGS:
            self._dropped = max(0, self._dropped - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data) -> None:
        if not self._dropped:
            self.parts.append(re.sub(r"[ \t\n\r\f]+", " ", data))

    def parse_marked_section(self, i, report=1):
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:  # "<![word[" other than CDATA: skipped like a bogus comment, as browsers do
            end = self.rawdata.find(">", i)
            return len(self.rawdata) if end < 0 else end + 1


def _flat_text(markup: str) -> str:
    reader = _FlatText()
    reader.feed(markup)
    reader.close()
    return "".join(reader.parts)


def _protect_ampersands(tree) -> None:
    """Re-escape "&" in parsed text so inscriptis' extra unescape is a no-op.

    inscriptis 2.x calls ``html.unescape`` on text lxml has already decoded,
    so a literal "&amp;lt;" in the source would come out as "<" instead of
    "&lt;". Escaping "&" once more makes that second pass restore exactly
    what lxml decoded.
    """
    for node in tree.iter():
        if node.text and "&" in node.text:
            node.text = node.text.replace("&", "&amp;")
        if node.tail and "&" in node.tail:
            node.tail = node.tail.replace("&", "&amp;")


def _render(markup: str) -> str:
    parser = _parser()
    tree = document_fromstring(markup, parser=parser)
    if any(error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for error in parser.error_log):
        # libxml2 stops at its nesting limit (256) and silently drops the rest
        # of the document; read that markup flat instead.
        return _flat_text(markup)
    etree.strip_elements(tree, *_DROP_TAGS, with_tail=False)
    _protect_ampersands(tree)
    try:
        return Inscriptis(tree, _CONFIG).get_text()
    except RecursionError:
        # inscriptis walks the tree recursively; lxml caps depth at 256 but
        # keep a flat fallback in case a deployment raises that limit.
        return "\n\n".join(tree.itertext())


def html_to_text(html: str) -> str:
    """Convert an HTML fragment or document to normalized plain text.

    Drops non-content elements (script, style, noscript, iframe, forms, media),
    unescapes entities and turns block elements into paragraph breaks. Never
    raises: markup nested deeper than libxml2's limit is read as a flat token
    stream, and markup libxml2 cannot parse at all (empty after pruning) falls
    back to entity-unescaped input text.
    """
    if not html or not html.strip():
        return ""
    markup = _XML_INCOMPATIBLE.sub("", html)
    markup = _XML_DECLARATION.sub("", markup, count=1)
    try:
        text = _render(markup)
    except (etree.ParserError, ValueError, RecursionError):
        try:
            text = _render("<pre>" + markup + "</pre>")
        except (etree.ParserError, ValueError, RecursionError):
            text = _html.unescape(markup)
    return normalize_text(text)
