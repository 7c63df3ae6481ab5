"""Timestamp normalization: everything stored as RFC 3339 UTC with a "Z".

A fixed, lexically sortable string form ("2019-05-15T10:00:00Z", microseconds
only when non-zero) lets Parquet partitioning and dedup windows compare
timestamps from different feeds without timezone handling downstream.

Parsing is a strict regex over the ISO 8601 calendar forms instead of
``datetime.fromisoformat`` because the latter's accepted grammar differs
between Python 3.10 and 3.11+, and this must behave the same on every worker.
RFC 2822 dates go to ``email.utils``. Any other form ("02-03-2014 00:56:28",
"03/02/2014 12:56 PM", "March 2, 2014") goes to python-dateutil's parser,
but never with its own guess about day and month order; the rule
(:func:`read_timestamp`) is applied here first and what it guessed is
returned as a warning.
"""

from __future__ import annotations

import re
import warnings as _warnings
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import List, Optional, Tuple

from dateutil import parser as _dateparser
from dateutil import tz as _dateutil_tz

__all__ = ["parse_timestamp", "read_timestamp", "format_utc", "to_datetime", "epoch_seconds", "epoch_micros",
           "far_from_ingest", "UnknownTimeZoneError"]


class UnknownTimeZoneError(ValueError):
    """A date whose zone is given by a name that has no single UTC offset."""

_ISO = re.compile(
    r"""
    (?P<year>\d{4})-?(?P<month>\d{2})-?(?P<day>\d{2})
    (?:
        [T\ ]
        (?P<hour>\d{2})
        (?::?(?P<minute>\d{2})
            (?::?(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
        )?
        \s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?
    )?
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
# RFC 822/2822 dates as found in RSS <pubDate>: "Wed, 15 May 2019 10:00:00 GMT".
_RFC2822_HINT = re.compile(r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s")
# A zone given by name at the end of an RFC 2822 date ("... 10:00:00 CEST").
_ZONE_NAME = re.compile(r"\s(?P<zone>[A-Za-z]{1,5})\s*$")
# Zone names email.utils knows (RFC 822's plus UTC); anything else it would
# silently read as UTC.
_RFC822_ZONES = frozenset({"UT", "UTC", "GMT", "Z", "AST", "ADT", "EST", "EDT",
                           "CST", "CDT", "MST", "MDT", "PST", "PDT"})
# Other zone abbreviations feeds use that have one meaning in practice, as
# UTC offsets. Ambiguous ones (IST: India, Ireland or Israel; GST; BDT) are
# left out on purpose: guessing would store a wrong time without a trace.
_EXTRA_ZONES = {
    "WET": "+0000", "WEST": "+0100", "BST": "+0100", "CET": "+0100", "CEST": "+0200",
    "MET": "+0100", "MEST": "+0200", "EET": "+0200", "EEST": "+0300", "MSK": "+0300",
    "HKT": "+0800", "SGT": "+0800", "AWST": "+0800", "JST": "+0900", "KST": "+0900",
    "ACST": "+0930", "ACDT": "+1030", "AEST": "+1000", "AEDT": "+1100",
    "NZST": "+1200", "NZDT": "+1300", "HST": "-1000", "AKST": "-0900",
    "AKDT": "-0800", "NST": "-0330", "NDT": "-0230",
}


#: Offsets (seconds) of the zone names accepted in the dates dateutil reads.
_RFC822_OFFSETS = {"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "AST": -4, "ADT": -3, "EST": -5, "EDT": -4,
                   "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7}
_TZINFOS = {name: hours * 3600 for name, hours in _RFC822_OFFSETS.items()}
_TZINFOS.update({name: (-1 if off[0] == "-" else 1) * (int(off[1:3]) * 3600 + int(off[3:5]) * 60)
                 for name, off in _EXTRA_ZONES.items()})
#: A numeric calendar date: "02-03-2014", "03/02/2014", "2.3.14", "2014/03/02".
_NUMERIC_DATE = re.compile(r"(?<![\d:./-])(\d{1,4})([-./])(\d{1,2})\2(\d{1,4})(?![\d:/-]|\.\d)", re.ASCII)
_MONTH_NAME = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.IGNORECASE | re.ASCII)
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)", re.ASCII)
_WEEKDAY = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", re.IGNORECASE | re.ASCII)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: 2-digit years: 69-99 are 1969-1999, 00-68 are 2000-2068 (POSIX strptime %y
#: and email.utils for RFC 2822 dates agree).
_PIVOT = 69
_UNRECOGNIZED = ("expected ISO 8601 / RFC 3339 such as '2019-05-15T10:00:00Z' or '2019-05-15', RFC 2822 "
                 "such as 'Wed, 15 May 2019 10:00:00 GMT', or a full date such as '15-05-2019 10:00', "
                 "'05/15/2019 10:00 AM' or 'May 15, 2019'")


def _numeric_zone(text: str) -> str:
    """An RFC 2822 date with a named zone rewritten to a numeric offset.

    Raises ValueError for a zone name that is neither RFC 822's nor a known
    unambiguous abbreviation, rather than reading the time as UTC.
    """
    match = _ZONE_NAME.search(text)
    if not match:
        return text
    zone = match.group("zone").upper()
    if zone in _RFC822_ZONES:
        return text
    if zone in _EXTRA_ZONES:
        return text[: match.start("zone")] + _EXTRA_ZONES[zone]
    raise UnknownTimeZoneError(f"invalid timestamp {text!r}: unknown or ambiguous time "
                               f"zone {match.group('zone')!r}; give a numeric UTC "
                               "offset such as +0100")


def format_utc(moment: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` in UTC."""
    utc = moment.astimezone(timezone.utc)
    text = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _offset(tz: str | None) -> timezone:
    """UTC offset for a "Z"/"+hh:mm"/"+hhmm"/"+hh" suffix; naive means UTC."""
    if tz is None or tz.upper() == "Z":
        return timezone.utc
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if minutes > 59:
        raise ValueError(f"invalid UTC offset {tz!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_iso(match: re.Match) -> datetime:
    g = match.groupdict()
    hour = int(g["hour"] or 0)
    minute = int(g["minute"] or 0)
    second = int(g["second"] or 0)
    micro = int((g["fraction"] or "0")[:6].ljust(6, "0"))
    extra = timedelta()
    # ISO 8601 "24:00:00" is the end of the day; RFC 3339 allows leap second 60.
    if hour == 24 and minute == second == micro == 0:
        hour, extra = 0, timedelta(days=1)
    if second == 60:
        second, extra = 59, timedelta(seconds=1)
    moment = datetime(
        int(g["year"]), int(g["month"]), int(g["day"]),
        hour, minute, second, micro, tzinfo=_offset(g["tz"]),
    )
    return moment + extra


def _century(year: int) -> int:
    return year + (1900 if year >= _PIVOT else 2000)


def _resolve_numeric(token: str, first: str, sep: str, second: str, last: str,
                     weekday: Optional[int]) -> Tuple[int, int, int, List[str]]:
    """(year, month, day, notes) of a numeric date, by wiredesk's rule.

    * a 4-digit first part is the year: year-month-day ("2014/03/02");
    * otherwise the last part is the year (4 or 2 digits, never a day or a
      month) and the other two are day and month: a part above 12 is the
      day; when both are 12 or less the date is ambiguous and is read
      day-first with "-" or "." ("02-03-2014", "02.03.2014", most of the
      world) and month-first with "/" ("03/02/2014", the US), unless a
      weekday name fits only the other reading. The guess is a note.
    """
    notes: List[str] = []
    if len(first) == 4:
        if len(last) > 2:
            raise ValueError(f"numeric date {token!r} has two years")
        return int(first), int(second), int(last), notes
    if len(last) not in (2, 4) or len(first) > 2:
        raise ValueError(f"numeric date {token!r} is not day-month-year, month/day/year or year-month-day")
    year = int(last)
    if len(last) == 2:
        year = _century(year)
        notes.append(f"2-digit year in {token} read as {year}")
    a, b = int(first), int(second)
    if a > 12 and b > 12:
        raise ValueError(f"numeric date {token!r}: neither {first} nor {second} is a month")
    if a > 12 or b > 12 or a == b:
        day_first = a > 12 or (a == b and sep != "/")
        day, month = (a, b) if day_first else (b, a)
        return year, month, day, notes
    day_first = sep != "/"
    how = "day-first" if day_first else "month-first"
    if weekday is not None:
        readings = {True: (a, b), False: (b, a)}
        fits = {order: _weekday_of(year, *readings[order]) == weekday for order in readings}
        if fits[not day_first] and not fits[day_first]:
            day_first = not day_first
            how = ("day-first" if day_first else "month-first") + " (its weekday)"
    day, month = (a, b) if day_first else (b, a)
    notes.append(f"ambiguous date {token} read {how} as {year:04d}-{month:02d}-{day:02d}")
    return year, month, day, notes


def _weekday_of(year: int, day: int, month: int) -> Optional[int]:
    try:
        return datetime(year, month, day).weekday()
    except ValueError:
        return None


def _unknown_zone(text: str, zone: str) -> UnknownTimeZoneError:
    return UnknownTimeZoneError(f"invalid timestamp {text!r}: unknown or ambiguous time zone {zone!r}; "
                                "give a numeric UTC offset such as +0100")


def _dateutil(value: str, text: str) -> Tuple[datetime, List[str]]:
    """A date in neither ISO 8601 nor RFC 2822 form, read by dateutil after
    the day/month order has been settled by :func:`_resolve_numeric`."""
    if not text.isascii() or not any(ch.isdigit() for ch in text):
        raise LookupError
    notes: List[str] = []
    numeric = list(_NUMERIC_DATE.finditer(text))
    if len(numeric) > 1:
        raise LookupError
    if numeric:
        match = numeric[0]
        weekday = _WEEKDAY.search(text)
        year, month, day, notes = _resolve_numeric(
            match.group(0), match.group(1), match.group(2), match.group(3), match.group(4),
            _WEEKDAYS.index(weekday.group(1).lower()) if weekday else None)
        datetime(year, month, day)  # "day is out of range for month"
        text = f"{text[:match.start()]}{year:04d}-{month:02d}-{day:02d}{text[match.end():]}"
    elif not _MONTH_NAME.search(text) or not _FOUR_DIGITS.search(text):
        # "02 03 2014": dateutil's own day/month guess; "Mar 02 14": which number is the year
        raise LookupError
    moments = []
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("error", _dateparser.UnknownTimezoneWarning)
            for default in (datetime(2000, 1, 1), datetime(2001, 2, 2)):
                moments.append(_dateparser.parse(text, default=default, dayfirst=False, yearfirst=True,
                                                 tzinfos=_TZINFOS))
    except _dateparser.UnknownTimezoneWarning as exc:
        zone = re.search(r"tzname (\S+)", str(exc))
        raise _unknown_zone(value, zone.group(1) if zone else "?") from None
    except _dateparser.ParserError:
        raise LookupError from None
    if moments[0] != moments[1]:
        raise LookupError  # no year, month or day: dateutil would take today's
    moment = moments[0]
    if isinstance(moment.tzinfo, _dateutil_tz.tzlocal):
        raise _unknown_zone(value, moment.tzname() or "?")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment, notes


def read_timestamp(value: str) -> Tuple[str, List[str]]:
    """``(timestamp, notes)``: :func:`parse_timestamp`'s result and what was
    guessed to get it (an ambiguous day/month order, a 2-digit year's
    century), one short line each, for the article's ``warnings``.

    Numeric dates: a 4-digit first part is year-month-day; otherwise the last
    part is the year and, of the other two, one above 12 is the day; when
    both are 12 or less, "-" and "." mean day-month-year ("02-03-2014" is
    2 March 2014) and "/" means month/day/year ("03/02/2014" is 2 March
    2014, the US form), unless a weekday name fits only the other reading.
    A 2-digit year is never taken for a day or a month: 00-68 are 2000-2068,
    69-99 are 1969-1999.
    """
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be a string, got {type(value).__name__}")
    text = value.strip()
    try:
        match = _ISO.fullmatch(text)
        if match:
            return format_utc(_from_iso(match)), []
        if _RFC2822_HINT.match(text):
            moment = parsedate_to_datetime(_numeric_zone(text))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return format_utc(moment), []
        moment, notes = _dateutil(value, text)
        return format_utc(moment), notes
    except UnknownTimeZoneError:
        raise
    except LookupError:
        pass
    except (ValueError, OverflowError, TypeError, IndexError) as exc:
        raise ValueError(f"invalid timestamp {value!r}: {exc}") from None
    raise ValueError(f"unrecognized timestamp {value!r}: {_UNRECOGNIZED}")


#: The sanity window: a date before this, or more than this long after the
#: ingest time, is flagged (kept, with a warning).
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=timezone.utc)
MAX_AFTER_INGEST = timedelta(days=366)


def _years(delta: timedelta) -> str:
    years = abs(delta.days) / 365.25
    return f"{years:.0f} years" if years >= 1.5 else f"{abs(delta.days)} days"


def far_from_ingest(field: str, value: Optional[str], ingested_at: Optional[str]) -> Optional[str]:
    """A warning when ``value`` (a parsed timestamp) is implausible: before
    1990, or more than a year after the ingest time; else None."""
    moment = to_datetime(value)
    if moment is None:
        return None
    if moment < EARLIEST_PLAUSIBLE:
        return f"date far from ingest time: {field} {value} is before 1990"
    ingested = to_datetime(ingested_at)
    if ingested is not None and moment - ingested > MAX_AFTER_INGEST:
        return (f"date far from ingest time: {field} {value} is {_years(moment - ingested)} "
                f"after ingest {ingested_at}")
    return None


def parse_timestamp(value: str) -> str:
    """Parse a timestamp and return it in UTC.

    Accepts "Z" or numeric offsets, fractional seconds (truncated to
    microseconds), basic or extended format, "T" or space separator, a
    date-only value (midnight UTC) and naive times (taken as UTC). RFC 2822
    dates from RSS are also accepted, with a numeric zone, an RFC 822 zone
    name (GMT, EST, PDT, ...) or a common unambiguous one (CET, CEST, BST,
    JST, AEST, ...); another zone name is an error, not UTC. Other forms
    with a full date ("02-03-2014 00:56:28", "03/02/2014 12:56 PM",
    "March 2, 2014") are read by python-dateutil, with the day/month rule
    of :func:`read_timestamp` (which also returns what was guessed).
    Output round-trips: ``parse_timestamp(parse_timestamp(x)) == parse_timestamp(x)``.

    Raises ValueError naming the offending value for anything else.
    """
    return read_timestamp(value)[0]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_datetime(value):
    """An aware UTC ``datetime`` for a timestamp (any form :func:`parse_timestamp`
    takes, or a ``datetime``); None for None or "". The one way every stage reads
    a time, so that the stages can never disagree about one."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    match = _ISO.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        match = _ISO.fullmatch(parse_timestamp(value))
    return _from_iso(match).astimezone(timezone.utc)


def epoch_micros(value):
    """Microseconds since the epoch (exact integers), or None for no time."""
    moment = to_datetime(value)
    if moment is None:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def epoch_seconds(value):
    """Seconds since the epoch as a float, or None for no time."""
    micros = epoch_micros(value)
    return None if micros is None else micros / 1_000_000
