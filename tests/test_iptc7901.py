"""IPTC 7901 / ANPA-1312 wire messages (transforms/formats/iptc7901): detected
by their control characters, header fields parsed, never read as prose."""
from __future__ import annotations

import reader_helpers
from reader_helpers import INGESTED, read_bytes, read_fixture

from wiredesk.schemas.records import Reject, WireRecord
from wiredesk.transforms.formats import detect, parse_payload
from wiredesk.transforms.formats.iptc7901 import looks_like_iptc7901

FIXTURES = reader_helpers.FIXTURES / "iptc7901"


def read(name: str):
    return read_fixture(f"iptc7901/{name}")


def test_iptc7901_file_with_two_messages_gives_two_records():
    first, second = read("afp_20240311.7901")
    assert isinstance(first, WireRecord) and isinstance(second, WireRecord)
    assert first.input_format == second.input_format == "iptc7901"
    assert (first.position, second.position) == ("message 1", "message 2")
    assert first.article_id == "afp-0123-20240311"
    assert first.source == "AFP"
    assert first.headline == "French unions call new strike over pension reform"
    assert first.body == (
        "PARIS, March 11 (AFP) - France's main unions called on Monday for a new\n"
        "nationwide strike next week against the government's pension reform.\n\n"
        "The walkout, the eighth since January, is set for March 19, union\n"
        "leaders said after a meeting in Paris.")
    assert first.published_at == "2024-03-11T10:52:00Z"
    assert first.urgency == 4 and first.subjects == ["POL"]
    assert second.article_id == "afp-0124-20240311"
    assert second.headline == "Lyon reach French Cup semi-finals"
    assert second.urgency == 2 and second.subjects == ["SPO"]
    assert second.published_at == "2024-03-11T11:30:00Z"
    assert "111130 GMT" not in second.body and "AFP0124" not in second.body


def test_anpa_1312_message_named_txt_is_not_read_as_plain_text():
    (record,) = read("ap_quake.txt")
    assert record.input_format == "iptc7901"
    assert record.headline == "Strong earthquake shakes northern Japan"  # not the header
    assert record.article_id == "a-0251-20240311"
    assert record.source == "AP"
    assert record.byline == "By MARI YAMAGUCHI, Associated Press Writer"
    assert record.published_at == "2024-03-11T10:52:00-05:00"
    assert record.urgency == 3 and record.subjects == ["international news"]
    assert record.body.startswith("TOKYO (AP) _ A strong earthquake shook northern Japan")
    assert record.body.endswith("magnitude of 6.1.")
    assert "<" not in record.body and "^" not in record.body
    assert "AP-NY-03-11-24" not in record.body and "BC-Japan-Quake" not in record.body


def test_detection_by_control_characters():
    data = (FIXTURES / "ap_quake.txt").read_bytes()
    assert looks_like_iptc7901(data)
    assert detect.detect("story.txt", data) == "iptc7901"
    assert detect.detect("wire", data) == "iptc7901"
    assert detect.sniff(data) == "iptc7901"
    assert detect.detect("story.txt", b"Headline\n\nBody") == "text"
    assert detect.detect("story.json", data) == "json"  # an explicit extension still wins


def test_message_without_stx_or_etx_is_a_reject_not_prose():
    no_stx = b"\x01AFP0125 4 ECO 0100\r\nFRANCE-ECONOMY\r\nGrowth slows\r\n\x03"
    (item,) = read_bytes("wire.7901", no_stx)
    assert isinstance(item, Reject) and item.input_format == "iptc7901"
    assert item.reason.startswith("IPTC 7901 message without STX/ETX: no STX")
    truncated = b"\x01AFP0126 4 ECO 0100\r\n\x02Growth slows\r\nThe economy"
    (item,) = read_bytes("wire.7901", truncated)
    assert isinstance(item, Reject)
    assert item.reason.startswith("IPTC 7901 message without STX/ETX: no ETX")


def test_one_bad_message_does_not_hide_the_good_ones():
    good = (FIXTURES / "afp_20240311.7901").read_bytes()
    data = good + b"\r\n\x01garbage header\r\n\x02text\x03"
    items = read_bytes("wire.7901", data)
    assert [type(i).__name__ for i in items] == ["WireRecord", "WireRecord", "Reject"]
    assert items[2].reason.startswith("IPTC 7901 header line is 'garbage header'")
    assert items[2].position == "message 3"


def test_slug_is_the_headline_of_a_message_without_text_and_ids_are_stable():
    data = b"\x01AFP0127 1 POL 0005\r\nFRANCE-GOVERNMENT-RESIGNS\r\n\x02\r\n\x03"
    (item,) = read_bytes("flash.7901", data)
    assert item.headline == "FRANCE-GOVERNMENT-RESIGNS" and item.body is None
    assert item.urgency == 1
    (again,) = read_bytes("flash.7901", data)
    assert again.article_id == item.article_id and item.article_id.startswith("afp-0127-h")


def test_payload_is_sniffed_as_iptc7901():
    data = (FIXTURES / "ap_quake.txt").read_bytes()
    (item,) = list(parse_payload(data, "projects/p/subscriptions/s", "message m1", INGESTED))
    assert item.input_format == "iptc7901" and item.headline == "Strong earthquake shakes northern Japan"
