"""Feeds and text files as they arrive in practice (project issue 11).

Fixtures in ``tests/fixtures/feeds_real`` and ``tests/fixtures/text_real``
follow the standards' own examples (RSS 2.0, RSS 1.0, Atom, Media RSS) and
real publishers' shapes (a Slashdot RSS 1.0 item, a WordPress "more" link, a
YouTube channel feed). The encoded fixtures were written with Python's codecs
from the texts pinned below: UTF-16 (BOM), UTF-32 (BOM), UTF-16BE without
BOM, KOI8-R and windows-1255 without an encoding declaration, windows-1252
text.

Each test pins what the reader makes of a file (WireRecord) and what
normalize makes of it (Article): article_id, headline, body, warnings.
"""
from __future__ import annotations

import hashlib
import io

import pytest
from reader_helpers import FIXTURES, only, read_bytes
from reader_helpers import read_fixture as read

from wiredesk.schemas.records import Reject, WireRecord
from wiredesk.transforms.cleaning import strip_boilerplate
from wiredesk.transforms.formats import detect
from wiredesk.transforms.formats.plaintext import decode_bytes
from wiredesk.transforms.normalize import to_article


def article(record: WireRecord, input_name: str = "feed.rss"):
    assert isinstance(record, WireRecord), record
    return to_article(record._replace(input_name=input_name))


# ---------------------------------------------------------------- 1. media captions

def test_story_text_wins_over_media_captions():
    flood, fares, lambs, clock = read("feeds_real/media-captions.rss")
    # <media:group><media:description> after <description>: feedparser files the
    # caption under `content`, which used to win over the item's description.
    assert flood.article_id == "nfc-2024-0311-flood"
    assert flood.headline == "Flood defences completed a year early"
    assert flood.body == ("The riverside flood wall in Northfield has been finished twelve months ahead "
                          "of schedule, the Environment Agency said.")
    assert flood.warnings == []
    # a placeholder caption ("<p>image</p>") before the description and content:encoded
    fares_article = article(fares)
    assert fares_article.article_id == "Northfield Courier - News/nfc-2024-0311-fares"
    assert fares_article.body == ("Single bus fares in the county will stay at £2 until April 2025, the council "
                                  "confirmed on Monday.\n\nThe freeze costs the council £3.1m a year.")
    assert fares_article.warnings == []
    # the caption is the item's only text: it is the body, and the warning says so
    lambs_article = article(lambs)
    assert lambs_article.headline == "In pictures: spring lambs at Hillcrest Farm"
    assert lambs_article.body == "The first of this year's 400 lambs were born at Hillcrest Farm over the weekend."
    assert lambs_article.warnings == ["body from media caption: the item has no text of its own"]
    # the only text is the placeholder "image": no body, a headline-only story
    clock_article = article(clock)
    assert clock_article.article_id == "Northfield Courier - News/nfc-2024-0311-clock"
    assert clock_article.headline == "Town hall clock restored"
    assert clock.body is None and clock_article.body == ""
    assert clock_article.warnings == ["media caption dropped: 'image' is not story text"]


def test_item_whose_description_repeats_its_caption_keeps_it_as_its_own_text():
    doc = (b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Desk</title>'
           b'<item><guid>d-1</guid><title>Storm damage</title>'
           b'<description>Trees fell on the coast road overnight.</description>'
           b'<media:content url="https://cdn.example/t.jpg" medium="image">'
           b'<media:description>Trees fell on the coast road overnight.</media:description>'
           b'</media:content></item></channel></rss>')
    record = only(read_bytes("f.rss", doc))
    assert (record.article_id, record.body) == ("d-1", "Trees fell on the coast road overnight.")
    assert record.warnings == []


def test_feedparser_files_media_descriptions_under_content_and_summary():
    """Why captions need their own rule: what feedparser returns for them."""
    import feedparser
    doc = (FIXTURES / "feeds_real/media-captions.rss").read_bytes()
    flood, fares = feedparser.parse(io.BytesIO(doc), sanitize_html=False).entries[:2]
    assert flood["summary"].startswith("The riverside flood wall")
    assert flood["content"][0]["value"] == ("Workers fit the last panel of the flood wall on the River Nor. "
                                            "Photo: Northfield Courier")
    assert fares["summary_detail"]["value"] == "<p>image</p>"


def test_video_feed_description_in_media_group_is_the_body():
    video = only(read("feeds_real/video-media-group.atom"))
    assert video.input_format == "atom" and video.article_id == "yt:video:a1B2c3D4e5F"
    assert video.headline == "Harbour bridge reopens after repairs"
    assert video.body == ("The harbour bridge reopened to traffic on Monday morning after eight months of "
                          "repairs to its steel deck.")
    assert video.warnings == ["body from media caption: the item has no text of its own"]


# ---------------------------------------------------------------- 2. lenient parsing



def test_undefined_entity_keeps_the_entries_with_a_warning():
    vote, library = read("feeds_real/undefined-entity.rss")
    warning = "lenient feed parse: <unknown>:8:48: undefined entity"
    assert vote.article_id == "https://valleypost.example/2024/03/11/car-park-vote"
    assert vote.headline == "Council delays vote on new car park\u2026 again"
    assert article(vote).body == "Councillors postponed the decision for the third time... A new date has not been set."
    assert vote.warnings == library.warnings == [warning]
    assert article(library).body == "The central library will open until 8 p.m. on weekdays from April."
    assert article(library).warnings == [warning]


GRAIN = ("https://wire.example.org/world/2024/03/11/grain-talks", "Talks on grain exports resume in Istanbul",
         "Negotiators from four countries resumed talks on Monday on a corridor for grain shipments.")


@pytest.mark.parametrize("relative", [
    "feeds_real/utf16-bom.rss", "feeds_real/utf32-bom.rss", "feeds_real/utf16be-no-bom.xml"])
def test_utf16_and_utf32_feeds_are_read(relative):
    record = only(read(relative))
    assert record.input_format == "rss"
    assert (record.article_id, record.headline, record.body) == GRAIN
    assert record.published_at == "2024-03-11T10:00:00Z"
    assert record.warnings == []  # a BOM or the UTF-16/32 shape of "<?xml" is a declaration


def test_koi8r_feed_without_declaration_is_decoded_and_said_so():
    metro, parks = read("feeds_real/koi8r-undeclared.rss")
    assert metro.article_id == "https://news.example.ru/2024/03/11/metro"
    assert metro.source == "Новости Москвы"
    assert metro.headline == "Метро будет работать всю новогоднюю ночь"
    assert metro.body == ("Правительство Москвы объявило о продлении работы метро в новогоднюю ночь. "
                          "Станции будут открыты до трёх часов утра, сообщили в пресс-службе.")
    assert parks.headline == "В парках города высадят десять тысяч деревьев"
    assert metro.warnings == parks.warnings == ["charset guessed: koi8-r"]
    assert article(metro).warnings == ["charset guessed: koi8-r"]


def test_windows1255_feed_without_declaration_is_decoded_and_said_so():
    record = only(read("feeds_real/windows1255-undeclared.rss"))
    assert record.headline == "תוכנית חדשה לשיקום הצפון"
    assert record.body.startswith("ראש הממשלה הודיע היום על תוכנית חדשה לשיקום הצפון.")
    assert record.warnings == ["charset guessed: windows-1255"]


def test_feed_whose_bytes_are_not_the_declared_encoding():
    doc = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>City Desk</title>'
           '<item><guid>cd-1</guid><title>Harbour Group profits rise to £15.8m</title>'
           '<description>Pre-tax profits rose to £15.8m, up from £12.1m, the company said.</description>'
           '</item></channel></rss>').encode("cp1252")
    record = only(read_bytes("f.rss", doc))
    assert record.headline == "Harbour Group profits rise to £15.8m"
    assert record.warnings == ["charset guessed: windows-1252 (the bytes are not the declared UTF-8)"]


def test_feed_without_any_readable_entry_is_still_one_reject():
    reject = only(read_bytes("f.rss", b"<rss version=\"2.0\"><channel><title>x &hellip; y</ti"))
    assert isinstance(reject, Reject) and reject.reason.startswith("malformed feed: ")


def test_entity_bomb_in_utf16_is_refused_after_transcoding():
    bomb = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE rss [<!ENTITY a "aaaa">'
            '<!ENTITY b "&a;&a;&a;&a;">]><rss version="2.0"><channel><item><guid>1</guid>'
            '<title>&b;</title></item></channel></rss>').encode("utf-16")
    reject = only(read_bytes("bomb.rss", bomb))
    assert isinstance(reject, Reject) and reject.reason.startswith("unsafe XML refused (EntitiesForbidden)")


def test_detection_routes_utf32_and_bomless_utf16_xml_to_the_feed_reader():
    for name in ("utf32-bom.rss", "utf16be-no-bom.xml"):
        prefix = (FIXTURES / "feeds_real" / name).read_bytes()[:4096]
        assert detect.sniff(prefix) == "xml" and detect.xml_root(prefix) == "rss"


# ---------------------------------------------------------------- 3. no guid, no link

def test_rss_items_without_guid_and_link_get_a_content_id():
    closure, flood = read("feeds_real/no-guid-no-link.rss")
    title = "A38 closed southbound at Marsh Lane"
    text = ("The A38 is closed southbound between Marsh Lane and the Kingsway roundabout after a collision. "
            "Diversions are in place.")
    key = "\x1f".join([title, text, "Mon, 11 Mar 2024 07:05:00 +0000"])
    assert closure.article_id == "feed-" + hashlib.sha256(key.encode()).hexdigest()[:20]
    assert closure.article_id == "feed-99ee23ba18227f9ababe"
    assert (closure.headline, closure.body, closure.url) == (title, text, None)
    assert closure.warnings == ["id derived from content: the entry has neither a guid/id nor a link"]
    assert article(closure).article_id == "County Alerts/feed-99ee23ba18227f9ababe"
    # no title either (RSS 2.0 needs only one of title and description)
    assert flood.article_id == "feed-90427a9f8654b6c224a7" and flood.headline is None
    assert article(flood).body == "Flood warning lifted for the River Nor at Eastbridge."
    # stable: the same file read again gives the same ids
    assert [r.article_id for r in read("feeds_real/no-guid-no-link.rss")] == [
        closure.article_id, flood.article_id]


# ---------------------------------------------------------------- 4. feed trailers

def test_slashdot_read_more_trailer_is_cut_from_body_kept_in_original():
    story = article(only(read("feeds_real/slashdot-trailers.rdf")))
    assert story.headline == "City Switches Streetlights To Open Source Controllers"
    assert story.body == ("An anonymous reader writes: The city of Lindenfeld has replaced the controllers of "
                          "12,000 streetlights with boards running open source firmware, cutting its maintenance "
                          "bill by a third.")
    assert "Read more of this story</a> at Slashdot." in story.body_original
    assert story.warnings == []


def test_read_more_and_continue_reading_trailers_are_cut():
    ferry, market, lifeboat = (article(r) for r in read("feeds_real/read-more-trailers.rss"))
    assert ferry.body == "The first ferry to the islands will leave at 6.45 a.m. instead of 7 a.m. from Monday."
    assert "Read more..." in ferry.body_original
    assert market.body == ("The fish market will move into the restored customs house next spring, "
                           "the harbour board said.")
    assert "Continue reading&hellip;" in market.body_original
    assert lifeboat.body == ("The lifeboat crew rescued two kayakers off Gull Point on Sunday afternoon."
                             "\n\nBoth were taken to hospital as a precaution.")


@pytest.mark.parametrize("text, expected", [
    ("Story text here.\n\nRead more...", "Story text here."),
    ("Story text here.\n\nContinue reading\u2026", "Story text here."),
    ("Story text.\n\nRead more of this story at Slashdot.", "Story text."),
    ("Story text. Read more of this story at Slashdot.", "Story text."),
    ("Story.\n\nContinue reading on The Verge \u2192", "Story."),
    ("Story.\n\nRead the full story at Example News", "Story."),
    # story sentences that only mention reading stay
    ("He urged readers to keep reading.", "He urged readers to keep reading."),
    ("Read more at the library.\n\nThe library opens at nine.",
     "Read more at the library.\n\nThe library opens at nine."),
])
def test_trailing_full_story_links(text, expected):
    assert strip_boilerplate(text) == expected


# ---------------------------------------------------------------- 5. only paragraph

def test_boilerplate_sentence_inside_the_only_paragraph_goes_not_the_story():
    record = only(read("text_real/one-paragraph-appeal.txt"))
    story = article(record, "one-paragraph-appeal.txt")
    assert story.article_id == "one-paragraph-appeal.txt#one-paragraph-appeal"
    assert story.headline == "Council approves new cycle bridge"
    assert story.body == ("The council on Tuesday approved a £4m cycle bridge over the River Nor, which will "
                          "open in 2026. Councillors voted 9-2 for the plan after a two-hour debate.")
    assert "Subscribe today for just $1 a month" in story.body_original


@pytest.mark.parametrize("text, expected", [
    # an appeal paragraph after the story still goes whole
    ("The bridge opens in 2026.\n\nSubscribe today for just $1 a month and support our journalism.",
     "The bridge opens in 2026."),
    # nothing but boilerplate: nothing to keep
    ("Share this:\n\nSubscribe now", ""),
    ("Please support our journalism. Our reporters covered the flood all week, and the river fell on Friday.",
     "Our reporters covered the flood all week, and the river fell on Friday."),
])
def test_boilerplate_paragraph_goes_only_when_other_text_remains(text, expected):
    assert strip_boilerplate(text) == expected


# ---------------------------------------------------------------- 6. text charsets

def test_windows1252_text_is_decoded_and_said_so():
    record = only(read("text_real/latin1-pound.txt"))
    assert record.article_id == "latin1-pound"
    assert record.headline == "Harbour group profits rise to £15.8m"
    assert "\ufffd" not in record.body and "up from £12.1m, helped by a busier café" in record.body
    assert record.warnings == ["charset guessed: windows-1252"]
    story = article(record, "latin1-pound.txt")
    assert story.body == ("Harbour Group said on Tuesday that pre-tax profits rose to £15.8m in the year to "
                          "March, up from £12.1m, helped by a busier café and retail arm.")
    assert story.warnings == ["charset guessed: windows-1252"]


def test_koi8r_text_is_decoded_and_said_so():
    record = only(read("text_real/koi8r.txt"))
    assert record.headline == "Метро будет работать всю новогоднюю ночь"
    assert record.warnings == ["charset guessed: koi8-r"]


def test_utf16_text_with_bom_and_front_matter():
    record = only(read("text_real/utf16-bom.txt"))
    assert record.article_id == "exw-20240311-utf16" and record.source == "Example Wire"
    assert record.headline == "Café chain opens 40 shops"
    assert record.body == "The chain will open 40 cafés in 2024, its chief executive said.\n"
    assert record.warnings == []


def test_stray_bad_byte_in_utf8_text_is_replaced_and_said_so():
    record = only(read("text_real/stray-byte.txt"))
    assert record.headline == "Café owners in Zürich protest rent rises"
    assert record.body == "The café owners said rents had risen by 30 \ufffd% in two years."
    assert record.warnings == ["invalid UTF-8 bytes replaced with U+FFFD: 1"]


@pytest.mark.parametrize("data, text, warnings", [
    ("Zürich".encode("utf-32"), "Zürich", []),
    (b"\xfe\xff" + "Zürich".encode("utf-16-be"), "Zürich", []),
    ("Zürich".encode("utf-8-sig"), "Zürich", []),
    ("Zürich".encode(), "Zürich", []),
    ("Zürich".encode()[:2], "Z", ["incomplete UTF-8 sequence at the end dropped"]),
    (b"Headline\x00\x00body", None, []),  # binary, as before
])
def test_decode_bytes(data, text, warnings):
    assert decode_bytes(data) == (text, warnings)


def test_binary_text_file_is_still_rejected():
    reject = only(read_bytes("junk.txt", bytes(range(14, 32)) * 40))
    assert isinstance(reject, Reject)
    assert reject.reason == "binary file, not a news record: expected UTF-8 text"
    # Control bytes that start with SOH are taken for an IPTC 7901 transmission, and said to be none.
    reject = only(read_bytes("junk.txt", bytes(range(1, 32)) * 40))
    assert reject.reason == ("binary file, not an IPTC 7901 message: expected text between SOH/STX/ETX "
                             "control characters")
