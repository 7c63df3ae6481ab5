"""Tests of the format readers (transforms/formats): pure Python, no Beam."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import time
import zlib

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reader_helpers import FIXTURES, INGESTED, only, read_bytes, read_fixture

from wiredesk.schemas.records import RAW_MAX_CHARS, Reject, WireRecord
from wiredesk.transforms.formats import FORMATS, detect, flat, iter_file, jsonlines, ninjs, parse_payload


def records(items):
    return [i for i in items if isinstance(i, WireRecord)]


def rejects(items):
    return [i for i in items if isinstance(i, Reject)]


def flat_line(**fields) -> bytes:
    return json.dumps(fields).encode() + b"\n"


class OneShotStream(io.RawIOBase):
    """A non-seekable stream that records how much was read from it."""

    def __init__(self, data: bytes):
        self._inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self):
        return True

    def seekable(self):
        return False

    def seek(self, *args):
        raise io.UnsupportedOperation("not seekable")

    def tell(self):
        raise io.UnsupportedOperation("not seekable")

    def readinto(self, buffer):
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


# ---------------------------------------------------------------- ninjs

def test_ninjs_2x_first_version_maps_fields():
    record = only(read_fixture("ninjs/quake-v1.json"))
    assert isinstance(record, WireRecord)
    assert record.article_id == "https://ninjs.example-wire.com/newsitems/20240311-quake-hokkaido"
    assert record.input_format == "ninjs"
    assert record.version == 1
    assert record.headline == "Strong earthquake shakes northern Japan"
    assert record.body.startswith("SAPPORO, Japan (Example Wire)")
    assert record.body_format == "text"
    assert record.published_at == "2024-03-11T02:14:00Z"
    assert record.version_created == "2024-03-11T02:14:00Z"
    assert record.status == "usable"
    assert record.urgency == 2
    assert record.byline == "Aiko Tanaka"
    assert record.dateline == "SAPPORO, Japan"
    assert record.source == "Example Wire"
    assert record.language == "en"
    assert record.subjects == ["earthquake", "disaster and accident"]
    assert record.ingested_at == INGESTED
    assert record.position == "offset 0"
    assert json.loads(record.raw) == json.loads((FIXTURES / "ninjs/quake-v1.json").read_text())


def test_ninjs_2x_update_prefers_html_body_and_main_headline():
    record = only(read_fixture("ninjs/quake-v2.json"))
    assert record.version == 2
    assert record.version_created == "2024-03-11T03:02:00Z"
    assert record.published_at == "2024-03-11T02:14:00Z"  # firstcreated
    assert record.headline == "Strong earthquake shakes northern Japan, tsunami advisory lifted"  # main, not short
    assert record.body_format == "html"
    assert record.body.startswith("<p>SAPPORO")


def test_ninjs_3x_camel_case():
    record = only(read_fixture("ninjs/rates-3x.json"))
    assert record.article_id == "urn:example-news:2024:ecb-rates-0311"
    assert record.version == 1
    assert record.published_at == "2024-03-11T12:45:00Z"
    assert record.version_created == "2024-03-11T12:45:00Z"
    assert record.status == "usable"
    assert record.body_format == "html"
    assert record.body == ("<p>FRANKFURT (Example News) - The European Central Bank left its key interest rates "
                           "unchanged on Monday and said inflation was falling faster than expected.</p>"
                           "<p>\"We are making good progress,\" the bank's president told reporters.</p>")
    assert record.source == "Example News Agency"  # infoSources[0].name
    assert record.url == "https://news.example.com/business/ecb-rates-0311"
    assert record.language == "en-GB"
    assert record.subjects == ["interest rates", "central bank"]


def test_ninjs_canceled_story():
    record = only(read_fixture("ninjs/canceled.json"))
    assert record.status == "canceled"
    assert record.version == 2
    assert record.headline == "WITHDRAWN: Ferry runs aground off Norwegian coast"
    assert record.source == "Example Wire"  # copyrightholder fallback


def test_ninjs_1x_body_html_with_script_is_kept_as_published():
    record = only(read_fixture("ninjs/script-body-1x.json"))
    assert record.body_format == "html"
    assert record.body == (  # script and all: cleaning is normalize's job
        "<p>LYON (Example Press) - Deux tableaux du XVIIe si\u00e8cle ont \u00e9t\u00e9 vol\u00e9s dans la nuit de "
        "dimanche \u00e0 lundi au mus\u00e9e des Beaux-Arts de Lyon.</p>"
        "<script type=\"text/javascript\">trackView('museum-heist');</script>"
        "<p>L'enqu\u00eate a \u00e9t\u00e9 confi\u00e9e \u00e0 la police judiciaire.</p>")
    assert record.published_at == "2024-03-11T15:20:00+01:00"  # versioncreated fallback
    assert record.subjects == ["crime", "museum"]
    assert record.headline == "Vol au musée : deux tableaux dérobés à Lyon"


@pytest.mark.parametrize("obj, expected", [
    ({"uri": "u", "id": "x", "headline": "h"}, True),
    ({"id": "x", "headline": "h"}, False),
    ({"versionCreated": "2024-01-01T00:00:00Z", "headline": "h"}, True),
    ({"headline": "h"}, False),
])
def test_ninjs_or_flat_is_decided_by_keys(obj, expected):
    assert ninjs.is_ninjs(obj) is expected


def test_ninjs_with_id_and_uri_is_read_as_ninjs():
    record = only(read_bytes("x.jsonl", flat_line(id="flat-1", uri="urn:n:1", headline="H")))
    assert record.input_format == "ninjs" and record.article_id == "urn:n:1"


@pytest.mark.parametrize("obj, reason, article_id", [
    ({"headline": "H", "versioncreated": "2024-03-11T00:00:00Z"},
     "ninjs object has no 'uri' (the story identifier ninjs requires): add a non-empty string 'uri'", None),
    ({"uri": "urn:x", "version": "two", "headline": "H"},
     "ninjs 'version' is 'two', not an integer: send the version number, e.g. \"2\"", "urn:x"),
    ({"uri": "urn:x", "version": "1"},
     "ninjs object has no text: give 'headline'/'headlines' or 'body_text'/'body_html'/'bodies'", "urn:x"),
    ({"uri": "urn:x", "headline": "H", "pubstatus": "deleted"},
     "ninjs 'pubstatus' is 'deleted'; use one of usable, withheld, canceled", "urn:x"),
])
def test_ninjs_rejects_say_what_is_wrong(obj, reason, article_id):
    reject = only(read_bytes("x.json", json.dumps(obj).encode()))
    assert isinstance(reject, Reject)
    assert reject.reason == reason
    assert reject.input_format == "ninjs" and reject.stage == "read"
    assert (reject.article_id, reject.position) == (article_id, "line 1")


def test_ninjs_1x_byline_field_is_read():
    record = only(read_fixture("ninjs/byline-entities-1x.json"))
    assert record.byline == "Sam O'Hara"  # 1.x "byline", 2.x/3.x "by"
    assert record.dateline == "Dallas"
    # Escaped text is kept as published; normalize decodes it (test_cleaning).
    assert record.body_format == "text"
    assert record.body == ("DALLAS (Example Wire) - Federal regulators approved a plan by AT&amp;T and Verizon to "
                           "share cell towers in rural areas.\n\nConsumer groups had argued the deal "
                           "would&nbsp;reduce competition.")


def test_ninjs_by_wins_over_byline():
    record = only(read_bytes("x.json", json.dumps(
        {"uri": "urn:x", "headline": "H", "by": "New Name", "byline": "Old Name"}).encode()))
    assert record.byline == "New Name"


@pytest.mark.parametrize("kind", ["picture", "video", "audio", "graphic", "Picture"])
def test_ninjs_media_objects_are_rejected(kind):
    obj = json.loads((FIXTURES / "ninjs/picture-item.json").read_text())
    reject = only(read_bytes("x.json", json.dumps(dict(obj, type=kind)).encode()))
    assert isinstance(reject, Reject)
    assert reject.reason == (f"ninjs object is of type {kind!r}, a media item, not a text story: "
                             "only text objects become articles")
    assert reject.article_id == "urn:newsml:wire.example.com:20240311:photo-991"


@pytest.mark.parametrize("kind", ["text", "composite", None])
def test_ninjs_text_and_untyped_objects_are_read(kind):
    record = only(read_bytes("x.json", json.dumps({"uri": "urn:x", "type": kind, "headline": "H"}).encode()))
    assert isinstance(record, WireRecord)
    assert (record.input_format, record.article_id, record.headline, record.body) == ("ninjs", "urn:x", "H", None)


def test_ninjs_british_cancelled_spelling_is_normalized():
    record = only(read_bytes("x.json", json.dumps(
        {"uri": "urn:x", "headline": "H", "pubStatus": "Cancelled"}).encode()))
    assert record.status == "canceled"


# ---------------------------------------------------------------- NewsML-G2

def test_newsml_news_item_with_xhtml_body():
    record = only(read_fixture("newsml/newsitem-xhtml.xml"))
    assert record.input_format == "newsml"
    assert record.article_id == "tag:example-wire.com,2024:newsml_WIRE20240311_0071"
    assert record.version == 3
    assert record.status == "usable"
    assert record.version_created == "2024-03-11T14:05:00Z"
    assert record.published_at == "2024-03-11T11:30:00Z"
    assert record.source == "Example Wire"
    assert record.headline == "German train drivers to strike for 35 hours from Thursday"
    assert record.byline == "Katrin Mueller"
    assert record.dateline == "BERLIN"
    assert record.language == "en"
    assert record.urgency == 4
    assert record.subjects == ["labour", "strike"]  # broader term not repeated
    assert record.body_format == "html"
    assert record.body.startswith("<p>BERLIN (Example Wire)")
    assert "<em>future strikes</em>" in record.body and "<br>" in record.body
    assert "ns0:" not in record.body and "html:" not in record.body
    assert "<title>" not in record.body
    assert record.position == "item 1"


def test_newsml_news_message_yields_one_record_per_item():
    first, second = read_fixture("newsml/newsmessage-two-items.xml")
    assert (first.position, second.position) == ("item 1", "item 2")
    assert first.article_id == "urn:newsml:example-wire.com:20240311:wildfire-chile"
    assert first.body_format == "html"
    assert first.source == "Example Wire" and first.byline == "Diego Fuentes"
    assert second.article_id == "urn:newsml:example-wire.com:20240311:cricket-result"
    assert second.version == 2 and second.body_format == "text"
    assert second.body.startswith("DHARAMSALA, India") and "\n\nSpinner" in second.body
    assert second.byline == "By Rahul Mehta" and second.language == "en-IN"
    assert "cricket-result" in second.raw and "wildfire" not in second.raw


def test_newsml_nitf_body_is_body_content_only():
    record = only(read_fixture("newsml/nitf-body-head.xml"))
    assert record.body_format == "html"
    # body.head repeats headline, byline and dateline: not story text.
    assert record.body.startswith("<block") and "<hl1" not in record.body
    assert "Felicia Fonseca" not in record.body and "No injuries" in record.body
    assert record.body == (
        '<block id="Main">\n              <p>FLAGSTAFF, Ariz. (Example Wire) \u2014 Firefighters on Thursday '
        "contained a wildfire that forced the evacuation of about 200 homes, authorities said.</p>\n"
        "              <p>No injuries were reported.</p>\n            </block>")
    assert record.byline == "By Felicia Fonseca"  # NITF byline: no creator/by given
    assert record.dateline == "FLAGSTAFF, Ariz."  # NITF dateline: no located given


def test_newsml_main_headline_whatever_the_role_scheme_alias():
    record = only(read_fixture("newsml/nitf-body-head.xml"))
    assert record.headline == "Fire crews contain wildfire near Flagstaff"  # hltype:main


def test_newsml_nitf_hedline_when_content_meta_has_no_headline():
    doc = (FIXTURES / "newsml/nitf-body-head.xml").read_bytes()
    doc = doc.replace(b"<headline", b"<slugline").replace(b"</headline>", b"</slugline>")
    assert only(read_bytes("x.xml", doc)).headline == "Fire crews contain wildfire near Flagstaff"


def test_newsml_dateline_element_and_media_item():
    text, picture = read_fixture("newsml/newsmessage-dateline-picture.xml")
    assert text.article_id == "tag:wire.example.com,2024:newsml_HOUSING"
    assert text.byline == "By William Stone"
    assert text.dateline == "LONDON, March 7"  # the agency in it is a credit
    assert isinstance(picture, Reject) and picture.position == "item 2"
    assert picture.reason == ("newsItem is a picture item (itemClass ninat:picture), not a text story: "
                              "only text items become articles")
    assert picture.article_id == "tag:wire.example.com,2024:newsml_PIC9"


@pytest.mark.parametrize("dateline, located, expected", [
    ("<dateline>PARIS, May 2 (AFP) -</dateline>", "", "PARIS, May 2"),
    ("<dateline>Kyiv</dateline>", "<located><name>Ukraine</name></located>", "Kyiv"),
    ("", "<located><name>Kyiv</name></located>", "Kyiv"),
])
def test_newsml_dateline_sources(dateline, located, expected):
    doc = ('<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="g"><contentMeta>'
           f'{located}{dateline}<headline>H</headline></contentMeta></newsItem>').encode()
    assert only(read_bytes("x.xml", doc)).dateline == expected


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
%s"""


UNSAFE_XML = "unsafe XML refused (EntitiesForbidden): entity and external DTD declarations are not allowed in "
NEWSML_NS = b'xmlns="http://iptc.org/std/nar/2006-10-01/"'


@pytest.mark.parametrize("name, root, reason", [
    ("bomb.xml",
     b'<newsItem ' + NEWSML_NS + b' guid="g"><contentMeta><headline>&lol9;</headline></contentMeta></newsItem>',
     UNSAFE_XML + "wire input; send the document without a DTD"),
    ("bomb.rss",
     b'<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><guid>g</guid></item>'
     b'</channel></rss>',
     UNSAFE_XML + "feeds"),
])
def test_xml_bomb_is_rejected_not_expanded(name, root, reason):
    started = time.monotonic()
    document = BILLION_LAUGHS % root
    reject = only(read_bytes(name, document))
    assert isinstance(reject, Reject)
    assert reject.reason == reason
    # the raw input, not an expansion
    assert (reject.raw, reject.raw_length, reject.raw_truncated) == (document.decode(), len(document), False)
    assert time.monotonic() - started < 5


def test_xml_external_entity_is_rejected():
    doc = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="g">'
           b'<contentMeta><headline>&xxe;</headline></contentMeta></newsItem>')
    reject = only(read_bytes("x.xml", doc))
    assert isinstance(reject, Reject) and reject.reason == UNSAFE_XML + "wire input; send the document without a DTD"


@pytest.mark.parametrize("doc, reason, article_id, position", [
    (b'<newsItem ' + NEWSML_NS + b' guid="g"><contentMeta>',
     "malformed XML: no element found: line 1, column 76; the file must be well-formed XML", None, "offset 0"),
    (b'<newsItem ' + NEWSML_NS + b'><contentMeta><headline>H</headline></contentMeta></newsItem>',
     "newsItem has no guid attribute: every item needs a guid that stays the same across its versions",
     None, "item 1"),
    (b'<newsItem ' + NEWSML_NS + b' guid="g" version="v2"><contentMeta><headline>H</headline></contentMeta>'
     b'</newsItem>',
     'newsItem version attribute is \'v2\', not an integer: use version="1", "2", ...', "g", "item 1"),
    (b'<newsItem ' + NEWSML_NS + b' guid="g"><itemMeta/></newsItem>',
     "newsItem has no text: give contentMeta/headline or a contentSet with inlineXML or inlineData", "g", "item 1"),
    (b'<packageItem ' + NEWSML_NS + b' guid="p"/>',
     "NewsML-G2 packageItem is not a news story (only newsItem carries story text); send the newsItems themselves",
     "p", "item 1"),
    (b'<nitf><head/><body/></nitf>',
     "unsupported XML root <nitf>: expected a NewsML-G2 newsItem/newsMessage (namespace "
     "http://iptc.org/std/nar/2006-10-01/), an RSS or an Atom feed", None, "offset 0"),
])
def test_newsml_rejects(doc, reason, article_id, position):
    reject = only(read_bytes("x.xml", doc))
    assert isinstance(reject, Reject) and reject.reason == reason
    assert (reject.article_id, reject.position) == (article_id, position)


# ---------------------------------------------------------------- feeds

def test_rss20_entries():
    items = read_fixture("feeds/rss20.rss")
    assert [i.position for i in items] == ["entry 1", "entry 2", "entry 3"]
    bikes, water, robots = items
    assert all(i.input_format == "rss" for i in items)
    assert bikes.article_id == "hcg-2024-03-11-bike-lanes"  # guid
    assert bikes.source == "Harbor City Gazette - Local News"
    assert bikes.headline == "City council approves new bike lanes on Main Street"
    assert bikes.body_format == "html" and bikes.body.startswith("<p>The Harbor City council")
    assert bikes.published_at == "2024-03-11T17:30:00Z"
    assert bikes.byline == "Sam Rivera"
    assert bikes.subjects == ["Transportation", "City Council"]
    assert bikes.url == "https://www.harborcitygazette.example/local/2024/03/11/bike-lanes"
    assert water.published_at == "2024-03-11T19:12:00Z"  # -0500 converted to UTC
    assert water.byline == "Lee Chen"
    assert water.body == (  # script and all: cleaning is normalize's job
        "<p>Crews are repairing a broken water main at 5th and Pine.</p>"
        "<script>document.write('<img src=\"https://ads.example/pixel.gif\" />');</script>"
        "<p>The intersection will stay closed until Tuesday morning.</p>")
    # no guid: falls back to link
    assert robots.article_id == robots.url == "https://www.harborcitygazette.example/local/2024/03/11/robotics"
    assert bikes.version_created is None  # RSS has no updated date


def test_atom_entries():
    planet, walks = read_fixture("feeds/newswire.atom")
    assert planet.input_format == "atom"
    assert planet.article_id == "tag:science.example.org,2024-03-11:rocky-planet-water"
    assert planet.body_format == "html" and planet.body.startswith("<p>Astronomers")
    assert planet.published_at == "2024-03-11T12:00:00Z"  # 13:00+01:00
    assert planet.version_created == "2024-03-11T16:40:00Z"
    assert planet.byline == "Priya Natarajan" and planet.language == "en"
    assert planet.source == "Example Science Wire"
    assert walks.published_at == "2024-03-11T10:15:00Z"  # falls back to updated


def test_rss10_rdf_entries():
    wheat, aid = read_fixture("feeds/rss10.rdf")
    assert wheat.input_format == "rss"
    assert wheat.article_id == "https://agri.example.net/2024/03/11/wheat-prices"
    assert wheat.published_at == "2024-03-11T15:00:00Z"
    assert wheat.byline == "Maria Lopez" and wheat.subjects == ["commodities"]
    assert aid.source == "Farm Report Daily"


def test_feed_entry_without_id_or_link_gets_a_content_id():
    # RSS 2.0 makes guid and link optional: such an item is read, not rejected
    # (issue 11); its id is derived from title, text and date.
    doc = (b'<rss version="2.0"><channel><title>T</title>'
           b'<item><title>No id</title><description>x</description></item>'
           b'<item><title>Ok</title><guid>g-2</guid></item></channel></rss>')
    derived, good = read_bytes("f.rss", doc)
    assert isinstance(derived, WireRecord) and derived.position == "entry 1" and derived.input_format == "rss"
    assert derived.article_id == "feed-" + hashlib.sha256(b"No id\x1fx\x1f").hexdigest()[:20]
    assert derived.warnings == ["id derived from content: the entry has neither a guid/id nor a link"]
    assert isinstance(good, WireRecord) and good.article_id == "g-2" and good.warnings == []


def test_feed_dates_with_zone_names_are_converted_not_read_as_utc():
    cest, bst, edt, ist = read_fixture("feeds/named-zones.rss")
    assert cest.published_at == "2024-05-16T05:45:00Z"  # feedparser alone: 07:45Z
    assert bst.published_at == "2024-05-16T08:00:00Z"
    assert edt.published_at == "2024-05-16T14:30:00Z"
    # IST is India, Ireland or Israel: kept raw so normalize rejects it with
    # the value in the reason, instead of storing a guessed time.
    assert ist.published_at == "Thu, 16 May 2024 13:00:00 IST"


def test_atom_author_with_email_is_the_name():
    record = only(read_fixture("feeds/author-email.atom"))
    assert record.byline == "Priya Shah"


def test_wordpress_feed_trailers_are_read_then_cleaned():
    from wiredesk.transforms.cleaning import clean_article
    excerpt, full = read_fixture("feeds/wordpress-excerpts.rss")
    assert clean_article(excerpt.headline, excerpt.body, excerpt.body_format).body == (
        "The school board on Sunday named Lorraine Okafor as interim leader of the district.")
    assert clean_article(full.headline, full.body, full.body_format).body == (
        "The council voted 5-2 on Tuesday to cut Elm Street from four lanes to two."
        "\n\nConstruction starts in July.")


def test_broken_feed_without_entries_is_one_reject():
    reject = only(read_bytes("f.atom", b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</ti'))
    assert isinstance(reject, Reject)
    assert reject.reason == ("malformed feed: <unknown>:2:50: unclosed token; "
                             "the file must be a well-formed RSS or Atom document")
    assert reject.position == "offset 0" and reject.input_format == "atom"


# ---------------------------------------------------------------- flat JSON

def test_jsonl_fixture_maps_flat_records():
    items = read_fixture("jsonl/wire-2024-03-11.jsonl")
    assert all(isinstance(i, WireRecord) for i in items)
    assert [i.position for i in items] == ["line 1", "line 2", "line 4", "line 5"]  # line 3 blank
    oil = items[0]
    assert oil.input_format == "jsonl"
    assert (oil.article_id, oil.version, oil.source) == ("exw-20240311-0101", 1, "Example Wire")
    assert oil.published_at == "2024-03-11T08:15:00Z" and oil.byline == "Hannah Brooks"
    assert oil.url == "https://wire.example.com/markets/oil-0311" and oil.language == "en"
    assert oil.body_format == "text"
    assert items[1].body_format == "html"
    assert items[2].version == 2  # extra field "desk" allowed
    assert items[3].body is None and items[3].urgency == 1
    assert json.loads(oil.raw)["id"] == "exw-20240311-0101"


INVALID_FLAT = "invalid flat wire record: "
NO_FLAT_TEXT = "no text: the record needs a non-empty 'headline' or 'body' string"
NOT_AN_OBJECT = ("expected a JSON object (a story record), got %s: each record must be an object like "
                 '{"id": "...", "headline": "..."}')


@pytest.mark.parametrize("line, reason", [
    (b'{"id": "a", "headline": "H"',
     "invalid JSON: Expecting ',' delimiter at column 28; each line must hold one complete JSON object"),
    (b'{"headline": "H", "body": "B"}', INVALID_FLAT + "missing required field 'id': add a non-empty string id "
                                        "that stays the same across versions of the story"),
    (b'{"id": "a", "headline": "", "body": "  "}', INVALID_FLAT + NO_FLAT_TEXT),
    (b'{"id": "a", "headline": "H", "version": "abc"}',
     INVALID_FLAT + "field 'version' must be an integer, got a string 'abc': write the number without quotes"),
    (b'{"id": 5, "headline": "H"}',
     INVALID_FLAT + "field 'id' must be a string, got an integer 5: put the value in quotes"),
    (b'{"id": "a", "headline": ["H"]}',
     INVALID_FLAT + "field 'headline' must be a string, got an array ['H']: put the value in quotes; " + NO_FLAT_TEXT),
    (b'"just a string"', NOT_AN_OBJECT % "a string 'just a string'"),
    (b'[{"id": "a", "headline": "H"}]', NOT_AN_OBJECT % "an array [{'id': 'a', 'headline': 'H'}]"),
    (b'42', NOT_AN_OBJECT % "an integer 42"),
    (b'\x89PNG\r\x1a\x00\x00\xff\xd8', "binary data (NUL bytes), not a JSON line"),
    (b'{"id": "a", "headline": "caf\xe9"}',
     "line is not valid UTF-8 (byte 0xe9 at byte 28): re-encode the file as UTF-8"),
])
def test_json_line_rejects_have_reasons(line, reason):
    items = read_bytes("drop.jsonl", flat_line(id="ok", headline="fine") + line + b"\n")
    good, reject = items
    assert isinstance(good, WireRecord)
    assert isinstance(reject, Reject), reject
    assert reject.reason == reason
    assert (reject.stage, reject.origin, reject.position) == ("read", "drop.jsonl", "line 2")
    # the line as written, without its terminator; undecodable bytes shown as U+FFFD
    assert (reject.raw, reject.raw_length) == (line.decode("utf-8", "replace"), len(line))


def test_invalid_json_reason_names_the_column():
    reject = only(read_bytes("x.jsonl", b'{"id": "a", headline: "H"}\n'))
    assert reject.reason == ("invalid JSON: Expecting property name enclosed in double quotes at column 13; "
                             "each line must hold one complete JSON object")


def test_ninety_good_and_ten_broken_lines():
    lines, broken = [], [
        b'{"id": "b0", "headline": ',  # truncated
        b'{"headline": "no id"}',
        b'{"id": "b2"}',  # no text
        b'{"id": "b3", "body": "x", "version": "abc"}',
        b'{"id": 4, "body": "x"}',
        b'"bare string"',
        b'[1, 2, 3]',
        b'\x00\x01\x02\xff\xfe binary',
        b'null',
        b"{'id': 'single quotes', 'body': 'x'}",
    ]
    for n in range(100):
        if n % 10 == 3:
            lines.append(broken[n // 10])
        else:
            lines.append(json.dumps({"id": f"story-{n}", "headline": f"Headline {n}",
                                     "body": f"Body of story {n}.", "version": 1}).encode())
    items = read_bytes("generated.jsonl", b"\n".join(lines) + b"\n")
    assert len(items) == 100
    assert len(records(items)) == 90 and len(rejects(items)) == 10
    assert [r.position for r in rejects(items)] == [f"line {n + 1}" for n in range(3, 100, 10)]
    assert [r.raw for r in rejects(items)] == [b.decode("utf-8", "replace").strip() for b in broken]
    assert [r.article_id for r in records(items)] == [f"story-{n}" for n in range(100) if n % 10 != 3]


def test_json_array_and_single_object_documents():
    array = read_bytes("batch.json", json.dumps([
        {"id": "a", "headline": "A"}, {"uri": "urn:b", "headline": "B"}, "oops"]).encode())
    assert [type(i).__name__ for i in array] == ["WireRecord", "WireRecord", "Reject"]
    assert [i.position for i in array] == ["item 1", "item 2", "item 3"]
    assert [array[0].input_format, array[1].input_format] == ["jsonl", "ninjs"]
    single = only(read_bytes("one.json", b'{\n  "id": "a",\n  "body": "B"\n}\n'))
    assert single.article_id == "a" and single.position == "offset 0"


def test_json_file_holding_lines_is_read_per_line_even_with_bad_lines():
    data = flat_line(id="a", headline="A") + b"{broken\n" + flat_line(id="c", headline="C")
    items = read_bytes("lines.json", data)
    assert [type(i).__name__ for i in items] == ["WireRecord", "Reject", "WireRecord"]
    assert items[1].position == "line 2"
    # broken first line, still mostly lines: per-line items, not one file reject
    items = read_bytes("lines.json", b"{broken\n" + flat_line(id="b", headline="B")
                       + flat_line(id="c", headline="C"))
    assert [type(i).__name__ for i in items] == ["Reject", "WireRecord", "WireRecord"]


def test_unparseable_json_document_is_one_reject():
    reject = only(read_bytes("x.json", b'{\n  "uri": "urn:x",\n  "headline": "H",\n}\n'))
    assert isinstance(reject, Reject)
    assert reject.reason == ("invalid JSON: Expecting property name enclosed in double quotes at line 4 column 1: "
                             "the file is not valid JSON; fix the syntax or send one JSON object per line")


def test_overlong_line_is_rejected_and_reading_continues(monkeypatch):
    monkeypatch.setattr(jsonlines, "MAX_LINE_BYTES", 100)
    data = flat_line(id="big", body="x" * 500) + flat_line(id="small", headline="S")
    big, small = read_bytes("x.jsonl", data)
    assert isinstance(big, Reject)
    assert big.reason == "line longer than 100 bytes: split it into one record per line"
    assert big.position == "line 1" and (big.raw, big.raw_length) == ("", 0)  # skipped, never held in memory
    assert isinstance(small, WireRecord) and small.position == "line 2" and small.article_id == "small"


def test_raw_is_bounded():
    record = only(read_bytes("x.jsonl", flat_line(id="a", body="word " * 5000)))
    assert record.body == "word " * 5000
    assert record.raw == flat_line(id="a", body="word " * 5000).decode()[:RAW_MAX_CHARS]
    line = b'{"id": 1, "body": "' + b"y" * 9000 + b'"}'
    reject = only(read_bytes("x.jsonl", line))
    assert (reject.raw_truncated, reject.raw_length) == (True, len(line))
    assert reject.raw == line.decode()[:RAW_MAX_CHARS]


def test_schema_file_is_valid_draft_2020_12():
    schema = flat.validator().schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


# ---------------------------------------------------------------- streams

def test_gzip_stream_is_read_line_by_line(tmp_path):
    noise = random.Random(7)  # incompressible bodies, so the file is large compressed
    lines = [flat_line(id=f"s{n}", headline=f"H{n}", body=noise.randbytes(100).hex())
             for n in range(2000)]
    path = tmp_path / "big.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"".join(lines))
    raw = OneShotStream(path.read_bytes())
    with gzip.GzipFile(fileobj=io.BufferedReader(raw), mode="rb") as fh:
        items = iter_file(str(path), fh, INGESTED)
        first = next(items)
        assert first.article_id == "s0" and first.position == "line 1"
        assert raw.bytes_read < len(path.read_bytes())  # not read to the end
        rest = list(items)
    assert len(rest) == 1999 and all(isinstance(i, WireRecord) for i in rest)
    assert rest[-1].position == "line 2000"


def test_truncated_gzip_keeps_good_records_and_reports_the_break():
    data = gzip.compress(b"".join(flat_line(id=f"s{n}", headline="H", body="b" * 100)
                                  for n in range(3000)))
    with gzip.GzipFile(fileobj=io.BytesIO(data[: len(data) // 2])) as fh:
        items = list(iter_file("cut.jsonl.gz", fh, None))
    # How many lines come out before the break depends on the gzip module's read buffer, so this pins that the
    # good records are an unbroken run from the first line, that the reject names where it stopped, and a bound:
    # no more than the complete lines that decompress from the half that is there.
    *good, last = items
    kept = len(good)
    complete_lines = zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2]).count(b"\n")
    assert 100 < kept <= complete_lines
    assert [(i.article_id, i.position) for i in good] == [(f"s{n}", f"line {n + 1}") for n in range(kept)]
    assert isinstance(last, Reject) and last.reason == (
        "file could not be read (EOFError: Compressed file ended before the end-of-stream marker was reached); "
        "it may be truncated or corrupt: send it again")
    assert last.position == f"after line {kept}"


def test_still_compressed_file_is_one_reject():
    reject = only(read_bytes("wire.jsonl", gzip.compress(flat_line(id="a", headline="H"))))
    assert reject.reason == ("file is still gzip-compressed: name it with the matching suffix (e.g. .gz) so it is "
                             "decompressed, or send it uncompressed")


# ---------------------------------------------------------------- plain text

def test_text_with_front_matter():
    record = only(read_fixture("text/with-front-matter.txt"))
    assert record.input_format == "text" and record.body_format == "text"
    assert record.article_id == "exw-20240311-0420"
    assert record.source == "Example Wire" and record.byline == "Jon Sigurdsson"
    assert record.published_at == "2024-03-11T11:05:00Z" and record.version == 2
    assert record.url == "https://wire.example.com/world/volcano-iceland"
    assert record.language == "en"
    assert record.headline == "Volcano erupts again on Iceland's Reykjanes peninsula"
    assert record.body == (  # after the headline and its blank line, as written
        "GRINDAVIK, Iceland (Example Wire) - A volcano on Iceland's Reykjanes\n"
        "peninsula erupted on Monday for the fourth time since December, sending\n"
        "lava toward defensive walls built to protect the fishing town of Grindavik.\n"
        "\nThe nearby Blue Lagoon spa was evacuated as a precaution.\n")


def test_text_without_front_matter_uses_file_stem_as_id():
    record = only(read_fixture("text/20240311-library-reopens.txt"))
    assert record.article_id == "20240311-library-reopens"
    assert record.headline == "Central library reopens after two-year renovation"
    assert record.body == ("The city's central library reopened on Monday after a renovation that added\n"
                           "a children's wing, a rooftop reading garden and 200 new study seats.\n"
                           "\nOpening hours are 9 a.m. to 9 p.m. on weekdays.\n")


def test_text_stem_ignores_compression_suffix():
    record = only(read_bytes("/drop/story-17.txt.gz", b"Headline\n\nBody"))
    assert record.article_id == "story-17"


TEXT_EMPTY = "empty file: a text story needs a headline line and a body"
TEXT_BINARY = "binary file, not a news record: expected UTF-8 text"


@pytest.mark.parametrize("name, data, reason, article_id", [
    ("empty.txt", b"", TEXT_EMPTY, None),
    ("blank.txt", b"  \n\t\n", TEXT_EMPTY, None),
    ("nul.txt", b"Headline\x00\x00\x00body", TEXT_BINARY, None),
    ("junk.txt", bytes(range(256)) * 4, TEXT_BINARY, None),
    ("fm.txt", b"---\nid: x\nthis is not a field\n---\nHeadline\n",
     "front matter line 3 is 'this is not a field', not 'key: value': write front matter as 'key: value' lines "
     "between two '---' lines", None),
    ("fm.txt", b"---\nid: x\nversion: two\n---\nHeadline\n", "front matter 'version' is 'two', not an integer", "x"),
    ("fm.txt", b"---\nid: x\n---\n\n\n", "no text after the front matter: add a headline line and the story", "x"),
])
def test_text_rejects(name, data, reason, article_id):
    reject = only(read_bytes(name, data))
    assert isinstance(reject, Reject) and reject.reason == reason
    assert (reject.input_format, reject.position, reject.article_id) == ("text", "offset 0", article_id)


def test_text_starting_with_a_rule_but_no_closing_rule_is_not_front_matter():
    record = only(read_bytes("rule.txt", b"---\nHeadline after a rule\n\nBody\n"))
    assert record.headline == "---"


# ---------------------------------------------------------------- detection

@pytest.mark.parametrize("path, kind", [
    ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("a.JSONL.gz", "jsonl"),
    ("a.json", "json"), ("a.xml", "xml"), ("a.rss", "rss"), ("a.rdf", "rss"),
    ("a.atom", "atom"), ("a.txt", "text"), ("a.txt.bz2", "text"), ("a.dat", None),
    ("noext", None),
])
def test_kind_from_extension(path, kind):
    assert detect.from_extension(path) == kind


@pytest.mark.parametrize("prefix, kind", [
    (b'  {"id": 1}', "json"), (b"\xef\xbb\xbf[1]", "json"), (b"<?xml?><rss/>", "xml"),
    (b"Headline\nbody", "text"), (b"\x00\x01\x02", "binary"), (b"", "empty"),
    (b"\n  \n", "empty"),
])
def test_sniff(prefix, kind):
    assert detect.sniff(prefix) == kind


@pytest.mark.parametrize("prefix, root", [
    (b'<?xml version="1.0"?>\n<!-- <rss> in a comment -->\n<feed xmlns="x">', "feed"),
    (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="r">', "RDF"),
    (b'<!DOCTYPE x [<!ENTITY a "<rss>">]><newsMessage>', "newsMessage"),
])
def test_xml_root(prefix, root):
    assert detect.xml_root(prefix) == root


def test_unknown_extensions_are_sniffed():
    ninjs_doc = (FIXTURES / "ninjs/rates-3x.json").read_bytes()
    assert only(read_bytes("inbox/0001.dat", ninjs_doc)).input_format == "ninjs"
    rss = (FIXTURES / "feeds/rss20.rss").read_bytes()
    assert {i.input_format for i in read_bytes("inbox/0002", rss)} == {"rss"}
    atom_as_xml = (FIXTURES / "feeds/newswire.atom").read_bytes()
    assert {i.input_format for i in read_bytes("inbox/0003.xml", atom_as_xml)} == {"atom"}
    newsml_doc = (FIXTURES / "newsml/newsitem-xhtml.xml").read_bytes()
    assert only(read_bytes("inbox/0004.bin", newsml_doc)).input_format == "newsml"
    assert only(read_bytes("inbox/0005", b"Headline\n\nBody")).input_format == "text"
    assert only(read_bytes("inbox/0006", b"\x00\xff" * 100)).reason == (
        "binary file, not a news record: expected JSON, XML or UTF-8 text")


# ---------------------------------------------------------------- payloads

@pytest.mark.parametrize("relative, fmt", [
    ("ninjs/quake-v1.json", "ninjs"), ("newsml/newsitem-xhtml.xml", "newsml"),
    ("text/with-front-matter.txt", "text"),
])
def test_parse_payload_sniffs_single_records(relative, fmt):
    data = (FIXTURES / relative).read_bytes()
    record = only(list(parse_payload(data, "projects/p/subscriptions/wire", "message 42", INGESTED)))
    assert record.input_format == fmt
    assert (record.origin, record.position, record.ingested_at) == (
        "projects/p/subscriptions/wire", "message 42", INGESTED)


def test_parse_payload_with_several_records_numbers_them():
    data = (FIXTURES / "newsml/newsmessage-two-items.xml").read_bytes()
    items = list(parse_payload(data, "sub", "message 7", None))
    assert [i.position for i in items] == ["message 7 / item 1", "message 7 / item 2"]
    flat_record = only(list(parse_payload(b'{"id": "a", "body": "B"}', "sub", "m", None)))
    assert flat_record.input_format == "jsonl"


def test_parse_payload_text_without_id_gets_a_stable_content_id():
    one = only(list(parse_payload(b"Headline\n\nBody", "sub", "m1", None)))
    two = only(list(parse_payload(b"Headline\n\nBody", "sub", "m2", None)))
    other = only(list(parse_payload(b"Other\n\nBody", "sub", "m3", None)))
    assert one.article_id == two.article_id != other.article_id
    # "text-" and the first 20 hex digits of the payload's SHA-256
    assert one.article_id == "text-" + hashlib.sha256(b"Headline\n\nBody").hexdigest()[:20]
    assert one.article_id == "text-73e0672701c27ccb05f1"


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file: a text story needs a headline line and a body"),
    (b"\x00\x01\x02\x03", "binary file, not a news record: expected JSON, XML or UTF-8 text"),
    (b'{"id": ', "invalid JSON: Expecting value at line 1 column 8: the file is not valid JSON; fix the syntax or "
                "send one JSON object per line"),
    (b"<newsItem", "malformed XML: unclosed token: line 1, column 0; the file must be well-formed XML"),
])
def test_parse_payload_rejects(data, reason):
    reject = only(list(parse_payload(data, "sub", "m", None)))
    assert isinstance(reject, Reject) and reject.reason == reason
    assert (reject.origin, reject.position) == ("sub", "m")


# ---------------------------------------------------------------- mixed drop

def test_mixed_drop_matches_expected_md():
    items = []
    for path in sorted((FIXTURES / "mixed").iterdir()):
        if path.suffix != ".md":
            with open(path, "rb") as fh:
                items.extend(iter_file(str(path), fh, INGESTED))
    assert not rejects(items)
    assert len(items) == 12
    ids = {i.article_id for i in items}
    assert len(ids) == 10
    canceled = {i.article_id for i in items if i.status == "canceled"}
    assert canceled == {"https://ninjs.example-wire.com/newsitems/20240311-ferry-aground"}
    versions = {}
    for i in items:
        versions.setdefault(i.article_id, []).append(i.version)
    assert sorted(v for v in versions.values() if len(v) > 1) == [[1, 2], [1, 2]]
    assert {i.input_format for i in items} == {"ninjs", "newsml", "rss", "atom"}


# ---------------------------------------------------------------- properties

def test_formats_constant_covers_every_record():
    items = []
    for path in sorted(FIXTURES.glob("*/*")):
        if path.suffix != ".md":
            items.extend(read_fixture(str(path.relative_to(FIXTURES))))
    assert set(FORMATS) == {"jsonl", "ninjs", "newsml", "rss", "atom", "iptc7901", "text"}
    assert {i.input_format for i in records(items)} == set(FORMATS)
    assert all(i.ingested_at == INGESTED for i in records(items))


EXTENSIONS = ["a.jsonl", "a.json", "a.xml", "a.rss", "a.atom", "a.txt", "a.bin", "noext"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(EXTENSIONS),
       data=st.one_of(
           st.binary(max_size=600),
           st.text(max_size=300).map(str.encode),
           st.lists(st.sampled_from([b"{", b"}", b"[", b"]", b'"id"', b":", b",", b"\n",
                                     b"<", b">", b"rss", b"newsItem", b"---", b"\x00",
                                     b'"uri"', b"1", b"&lol;", b"<!DOCTYPE x [", b"]>"]),
                    max_size=40).map(b"".join)))
def test_iter_file_never_raises_on_arbitrary_bytes(name, data):
    items = list(iter_file(name, io.BytesIO(data), INGESTED))
    assert all(isinstance(i, (WireRecord, Reject)) for i in items)
    for item in items:
        if isinstance(item, WireRecord):
            assert item.input_format in FORMATS and item.article_id
            assert item.ingested_at == INGESTED
        else:
            assert item.stage == "read" and item.reason
            assert "wiredesk bug" not in item.reason, item.reason
    payload = list(parse_payload(data, "sub", "m", None))
    assert all(isinstance(i, (WireRecord, Reject)) for i in payload)
    assert not any("wiredesk bug" in getattr(i, "reason", "") for i in payload)


_GOOD = st.builds(lambda n, h: json.dumps({"id": f"id-{n}", "headline": h}).encode(),
                  st.integers(0, 10**6), st.text(min_size=1, max_size=20).filter(str.strip))
_BAD = st.binary(min_size=1, max_size=40).filter(
    lambda b: b"\n" not in b and b"\r" not in b and b.strip()
    and detect.compressed_kind(b) is None)  # a compressed file is one reject


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(_GOOD, _BAD), max_size=30))
def test_every_non_blank_json_line_yields_exactly_one_item(lines):
    items = read_bytes("p.jsonl", b"\n".join(lines) + b"\n")
    expected = [n for n, line in enumerate(lines, start=1) if line.strip()]
    # a line of only whitespace in the decoded sense is blank, not a record
    decoded_blank = {n for n, line in enumerate(lines, start=1)
                     if not line.decode("utf-8-sig", "replace").strip()}
    assert [i.position for i in items] == [f"line {n}" for n in expected
                                           if n not in decoded_blank]


def test_unterminated_string_reason_reads_once():
    from wiredesk.transforms.formats.jsonlines import _parse_json
    value, problem = _parse_json('{"id": "x1", "headline": "unterminated')
    assert (value, problem) == (None, "invalid JSON: Unterminated string starting at column 26")
