"""Normalization never changes what a reader sees (issue 11): headline and
body are NFC; the comparison form (NFKC + casefold) is only in the tokenizer
and in content_hash."""
from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from wiredesk.transforms.cleaning import clean_article, content_hash, normalize_text
from wiredesk.transforms.cleaning.tokens import count_words, fold, words
from wiredesk.transforms.dedup import shingles

THAI = "\u0e19\u0e49\u0e33\u0e17\u0e48\u0e27\u0e21\u0e01\u0e23\u0e38\u0e07\u0e40\u0e17\u0e1e"  # "น้ำท่วมกรุงเทพ" (SARA AM)


def test_thai_text_is_unchanged_in_headline_and_body():
    cleaned = clean_article(THAI, f"{THAI} \u0e27\u0e31\u0e19\u0e19\u0e35\u0e49", "text")
    assert cleaned.headline == THAI
    assert cleaned.body == f"{THAI} \u0e27\u0e31\u0e19\u0e19\u0e35\u0e49"
    assert "\u0e33" in cleaned.body and "\u0e4d" not in cleaned.body


def test_trade_mark_ligatures_and_superscripts_are_kept():
    cleaned = clean_article("Acme\u2122 \ufb01nance", "Area 5 km\u00b2, \ufb02ow up \u2460", "text")
    assert cleaned.headline == "Acme\u2122 \ufb01nance"
    assert cleaned.body == "Area 5 km\u00b2, \ufb02ow up \u2460"


def test_full_width_brackets_are_kept_and_never_become_markup():
    headline = "\uff1c\u901f\u5831\uff1e \u65e5\u9280\u304c\u5229\u4e0a\u3052"  # ＜速報＞ 日銀が利上げ
    cleaned = clean_article(headline, "\uff1cb\uff1e bold? \uff1c/b\uff1e no", "text")
    assert cleaned.headline == headline
    assert cleaned.body == "\uff1cb\uff1e bold? \uff1c/b\uff1e no"
    assert "<" not in cleaned.headline + cleaned.body
    html = clean_article(headline, "<p>\uff1cp\uff1e stays</p>", "html")
    assert html.headline == headline and html.body == "\uff1cp\uff1e stays"


def test_existing_folding_still_applies_and_output_is_nfc():
    assert normalize_text("\u201cDon\u2019t\u201d \u2014 e\u0301\u00a0x\u200b") == '"Don\'t" - \u00e9 x'
    assert unicodedata.is_normalized("NFC", normalize_text("e\u0301 \u0e33 \ufb01"))


def test_tokenizer_compares_in_nfkc_casefold():
    assert words("\ufb01nance \uff21\uff22\uff23\uff11\uff12\uff13") == words("finance abc123") == ["finance", "abc123"]
    assert shingles.twin_words("\ufb01nance \uff21\uff22\uff23\uff11\uff12\uff13") == ["finance", "abc123"]
    assert words("STRASSE Stra\u00dfe") == ["strasse", "strasse"]
    assert fold("Z\u00fcrich \ufb01") == "zurich fi"
    assert count_words("\ufb01nance \uff21\uff22\uff23") == 2


def test_content_hash_keeps_compatibility_copies_exact_duplicates():
    assert content_hash("\ufb01nance \uff21\uff22\uff23\uff11\uff12\uff13") == content_hash("finance ABC123")
    assert content_hash("Acme\u2122") == content_hash("AcmeTM")
    assert content_hash("Finance") != content_hash("finance")  # case still matters


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_normalize_text_is_idempotent_and_nfc(text):
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert unicodedata.is_normalized("NFC", once)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_twin_and_words_agree_on_display_text(text):
    shown = normalize_text(text)
    assert shingles.twin_words(shown) == words(shown) == words(unicodedata.normalize("NFKC", shown))
