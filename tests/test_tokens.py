"""The one tokenizer (cleaning.tokens) and the one timestamp reader (cleaning.timestamps)."""
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wiredesk.transforms.cleaning.timestamps import epoch_micros, epoch_seconds, parse_timestamp, to_datetime
from wiredesk.transforms.cleaning.tokens import count_words, fold, words


def test_words():
    assert words("Obama's B-52 hit 3.5% of Zürich_area, 東京!") == ["obama", "s", "b", "52", "hit", "3", "5", "of",
                                                                     "zürich", "area", "東京"]
    assert words(None) == [] and words("") == []
    assert fold("Zürich CAFÉ") == "zurich cafe"


@given(st.text())
def test_count_words_counts_words(text):
    assert count_words(text) == len(words(text))


@pytest.mark.parametrize("value, micros", [
    ("2019-05-15T10:00:00Z", 1557914400_000000),
    ("2019-05-15T12:00:00.25+02:00", 1557914400_250000),
    ("2019-05-15", 1557878400_000000),
    ("Wed, 15 May 2019 10:00:00 GMT", 1557914400_000000),
    (None, None), ("", None),
])
def test_epoch(value, micros):
    assert epoch_micros(value) == micros
    assert epoch_seconds(value) == (None if micros is None else micros / 1e6)


def test_to_datetime_is_utc_and_agrees_with_parse_timestamp():
    assert to_datetime("2019-05-15T12:00:00+02:00") == datetime(2019, 5, 15, 10, tzinfo=timezone.utc)
    assert to_datetime(datetime(2019, 5, 15, 10)) == datetime(2019, 5, 15, 10, tzinfo=timezone.utc)
    value = "Wed, 15 May 2019 12:00:00 +0200"
    assert to_datetime(value) == to_datetime(parse_timestamp(value))
    with pytest.raises(ValueError, match="unrecognized timestamp 'yesterday'"):
        to_datetime("yesterday")
