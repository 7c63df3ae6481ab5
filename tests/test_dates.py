"""Dates in the forms feeds and wires really use (project issue 11).

A CMS that wrote ``<pubDate>02-03-2014 00:56:28</pubDate>`` had every item
filed under 2002-03-20 by feedparser's fallback date handlers, silently. The
rule now (``transforms/cleaning/timestamps.py``, ``read_timestamp``):

* ISO 8601 / RFC 3339 and RFC 2822 are read as before;
* anything else goes to python-dateutil's parser, after wiredesk has settled
  the day/month order of a numeric date: a 4-digit first part is the year;
  otherwise the last part is the year (never a day or a month) and a part
  above 12 is the day; both 12 or less is ambiguous, read day-first with "-"
  or "." and month-first with "/", with a warning on the article;
* a date before 1990 or more than a year after the ingest time, and a feed
  item dated years away from the feed's other items, is kept with a warning;
* an unparseable date is a reject naming the value and the forms expected.

Each test pins published_at, the dt partition the article goes to, and the
article's warnings.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wiredesk.schemas.records import Reject, WireRecord
from wiredesk.transforms.cleaning.timestamps import parse_timestamp, read_timestamp
from wiredesk.transforms.formats import iter_file
from wiredesk.transforms.formats.feeds import date_outliers
from wiredesk.transforms.normalize import InvalidRecord, to_article
from wiredesk.transforms.write.rows import partition_of

FIXTURES = Path(__file__).parent / "fixtures" / "dates"
INGESTED = "2014-03-02T06:00:00Z"


def read(name: str, ingested: str = INGESTED):
    path = FIXTURES / name
    with open(path, "rb") as fh:
        return list(iter_file(str(path), fh, ingested))


def rss(pub_date: str, ingested: str = INGESTED) -> WireRecord:
    """One RSS item whose <pubDate> is ``pub_date``, as the reader makes it."""
    data = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Desk</title>"
            "<item><title>Storm closes the coast road</title><guid>desk-1</guid>"
            f"<pubDate>{pub_date}</pubDate><description>The coast road was closed overnight.</description>"
            "</item></channel></rss>").encode()
    (record,) = iter_file("desk.rss", io.BytesIO(data), ingested)
    assert isinstance(record, WireRecord), record
    return record


def article(record: WireRecord):
    assert isinstance(record, WireRecord), record
    return to_article(record._replace(input_name="feed.rss"))


# ------------------------------------------------------- the issue 11 feed


def test_day_first_feed_is_read_day_first_not_twelve_years_off():
    bridge, budget, library = read("day-first.rss")
    # the reader keeps the raw string (not feedparser's 2002-03-20 struct) for normalize to read
    assert bridge.published_at == "02-03-2014 00:56:28"
    assert library.published_at == "2014-02-28T09:05:00Z"  # 28 > 12: no guess, read here
    bridge_a, budget_a, library_a = (article(r) for r in (bridge, budget, library))
    assert bridge_a.published_at == "2014-03-02T00:56:28Z"
    assert budget_a.published_at == "2014-03-01T18:20:05Z"
    assert library_a.published_at == "2014-02-28T09:05:00Z"
    assert [partition_of(a) for a in (bridge_a, budget_a, library_a)] == ["2014-03-02", "2014-03-01", "2014-02-28"]
    assert bridge_a.warnings == ["ambiguous date 02-03-2014 read day-first as 2014-03-02"]
    assert budget_a.warnings == ["ambiguous date 01-03-2014 read day-first as 2014-03-01"]
    assert library_a.warnings == []
    assert bridge_a.version_created is None


# ------------------------------------------------------- the day/month rule


def assert_read_as(pub_date, published, warnings):
    """An RSS item dated ``pub_date`` becomes an article published at ``published``, in that day's
    partition, with exactly ``warnings``."""
    a = article(rss(pub_date))
    assert a.published_at == published
    assert partition_of(a) == published[:10]
    assert a.warnings == warnings


@pytest.mark.parametrize("pub_date, published, warnings", [
    # US form: "/" is month/day/year
    ("03/02/2014 12:56 PM", "2014-03-02T12:56:00Z", ["ambiguous date 03/02/2014 read month-first as 2014-03-02"]),
    # a part above 12 settles it, whatever the separator: no guess, no warning
    ("25-03-2014", "2014-03-25T00:00:00Z", []),
    ("03/25/2014 08:15", "2014-03-25T08:15:00Z", []),
    ("25/03/2014 08:15", "2014-03-25T08:15:00Z", []),
    # "." like "-": day-first
    ("02.03.2014 10:00 CET", "2014-03-02T09:00:00Z", ["ambiguous date 02.03.2014 read day-first as 2014-03-02"]),
    # day and month equal: nothing to guess
    ("03/03/2014", "2014-03-03T00:00:00Z", []),
    # a weekday name that fits only one reading decides it (3 February 2014 was a Monday)
    ("Mon, 03/02/2014 10:00", "2014-02-03T10:00:00Z",
     ["ambiguous date 03/02/2014 read day-first (its weekday) as 2014-02-03"]),
    ("Mon,03/02/2014", "2014-02-03T00:00:00Z",
     ["ambiguous date 03/02/2014 read day-first (its weekday) as 2014-02-03"]),
    ("Sunday, March 2, 2014 - 10:00", "2014-03-02T10:00:00Z", []),
    # year first: year-month-day
    ("2014/03/02 10:00", "2014-03-02T10:00:00Z", []),
    # a month name: no ambiguity
    ("March 2, 2014 10:00 AM EST", "2014-03-02T15:00:00Z", []),
])
def test_non_rfc_dates_by_the_rule(pub_date, published, warnings):
    assert_read_as(pub_date, published, warnings)


@pytest.mark.parametrize("pub_date, published, warnings", [
    # the year is the last part, never a day or a month: 14 is not the 14th
    ("02-03-14 00:56", "2014-03-02T00:56:00Z",
     ["2-digit year in 02-03-14 read as 2014", "ambiguous date 02-03-14 read day-first as 2014-03-02"]),
    ("25-03-12", "2012-03-25T00:00:00Z", ["2-digit year in 25-03-12 read as 2012"]),
    ("12/31/99", "1999-12-31T00:00:00Z", ["2-digit year in 12/31/99 read as 1999"]),
    # RFC 2822 2-digit year: email.utils, unchanged
    ("Sun, 02 Mar 14 00:56:28 GMT", "2014-03-02T00:56:28Z", []),
])
def test_two_digit_year(pub_date, published, warnings):
    assert_read_as(pub_date, published, warnings)


@pytest.mark.parametrize("pub_date, published", [
    ("Sun, 02 Mar 2014 00:56:28 GMT", "2014-03-02T00:56:28Z"),
    ("Sun, 02 Mar 2014 01:56:28 +0100", "2014-03-02T00:56:28Z"),
    ("Sun, 02 Mar 2014 01:56:28 CET", "2014-03-02T00:56:28Z"),
    ("2014-03-02T00:56:28Z", "2014-03-02T00:56:28Z"),
    ("2014-03-02T01:56:28+01:00", "2014-03-02T00:56:28Z"),
    ("2014-03-02", "2014-03-02T00:00:00Z"),
])
def test_iso_and_rfc2822_unchanged(pub_date, published):
    record = rss(pub_date)
    assert record.published_at == published  # converted by the reader, as before
    a = article(record)
    assert a.published_at == published
    assert partition_of(a) == "2014-03-02"
    assert a.warnings == []
    assert read_timestamp(pub_date) == (published, [])


# ------------------------------------------------------- sanity window


def test_date_years_after_ingest_time_is_kept_with_a_warning():
    a = article(rss("Tue, 02 Mar 2027 00:56:28 GMT", ingested="2014-03-02T06:00:00Z"))
    assert a.published_at == "2027-03-02T00:56:28Z"
    assert partition_of(a) == "2027-03-02"
    assert a.warnings == ["date far from ingest time: published_at 2027-03-02T00:56:28Z is 13 years "
                          "after ingest 2014-03-02T06:00:00Z"]


def test_date_before_1990_is_kept_with_a_warning():
    a = article(rss("20-03-1902 00:56", ingested="2014-03-02T06:00:00Z"))
    assert a.published_at == "1902-03-20T00:56:00Z"
    assert partition_of(a) == "1902-03-20"
    assert a.warnings == ["date far from ingest time: published_at 1902-03-20T00:56:00Z is before 1990"]


def test_date_within_the_window_has_no_warning():
    # a day in the future (a zone slip) and an archive years old are normal
    assert article(rss("Mon, 03 Mar 2014 06:00:00 GMT")).warnings == []
    assert article(rss("Sun, 02 Mar 2003 06:00:00 GMT")).warnings == []


def test_feed_with_one_outlier_item():
    ferry, ship, master, market = read("one-outlier.rss", ingested="2024-03-11T12:00:00Z")
    articles = [article(r) for r in (ferry, ship, master, market)]
    assert [a.published_at for a in articles] == [
        "2024-03-11T08:00:00Z", "2024-03-10T16:30:00Z", "2014-03-11T09:15:00Z", "2024-03-09T07:00:00Z"]
    assert [partition_of(a) for a in articles] == ["2024-03-11", "2024-03-10", "2014-03-11", "2024-03-09"]
    assert [a.warnings for a in articles] == [
        [], [], ["date far from the feed's other items: 2014-03-11T09:15:00Z is 10 years from their median "
                 "2024-03-10"], []]


def test_feed_spread_over_years_has_no_outlier():
    dates = [datetime(year, 6, 1, tzinfo=timezone.utc) for year in range(2010, 2021)]
    assert date_outliers(dates) == {}
    assert date_outliers(dates[:2] + [None]) == {}


# ------------------------------------------------------- rejects


@pytest.mark.parametrize("pub_date, reason", [
    ("yesterday", "unrecognized timestamp 'yesterday'"),
    ("Mar 02 14", "unrecognized timestamp 'Mar 02 14'"),  # which number is the year is a guess
    ("13-14-2014", "invalid timestamp '13-14-2014': numeric date '13-14-2014': neither 13 nor 14 is a month"),
    ("31-02-2014", "invalid timestamp '31-02-2014': day is out of range for month"),
    ("12:56 PM", "unrecognized timestamp '12:56 PM'"),  # no date: dateutil would take today's
    ("March 10:00", "unrecognized timestamp 'March 10:00'"),
    ("02 03 2014 10:00", "unrecognized timestamp '02 03 2014 10:00'"),  # no separator to apply the rule by
    ("02 March 2014 10:00 IST", "invalid timestamp '02 March 2014 10:00 IST': unknown or ambiguous time zone"),
])
def test_unparseable_dates_are_rejects_naming_the_value(pub_date, reason):
    record = rss(pub_date)
    assert record.published_at == pub_date
    with pytest.raises(InvalidRecord) as raised:
        article(record)
    message = str(raised.value)
    assert message.startswith(f"published_at {pub_date!r} is not an RFC 3339 timestamp: {reason}")
    if reason.startswith("unrecognized"):
        assert message.endswith("expected ISO 8601 / RFC 3339 such as '2019-05-15T10:00:00Z' or '2019-05-15', "
                                "RFC 2822 such as 'Wed, 15 May 2019 10:00:00 GMT', or a full date such as "
                                "'15-05-2019 10:00', '05/15/2019 10:00 AM' or 'May 15, 2019'")


def test_parse_timestamp_agrees_with_read_timestamp():
    assert parse_timestamp("02-03-2014 00:56:28") == "2014-03-02T00:56:28Z"
    assert parse_timestamp("15/05/2019") == "2019-05-15T00:00:00Z"  # was a reject: 15 settles it
    assert parse_timestamp(parse_timestamp("03/02/2014 12:56 PM")) == "2014-03-02T12:56:00Z"
    assert not isinstance(rss("2014-03-02"), Reject)
