"""Timestamp normalization: everything stored as RFC 3339 UTC with a "Z".

A fixed, lexically sortable string form ("2019-05-15T10:00:00Z", microseconds
only when non-zero) lets Parquet partitioning and dedup windows compare
timestamps from different feeds without timezone handling downstream.

Parsing is a strict regex over the ISO 8601 calendar forms instead of
``datetime.fromisoformat`` because the latter's accepted grammar differs
between Python 3.10 and 3.11+, and this must behave the same on every worker.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = ["parse_timestamp", "format_utc", "to_datetime", "epoch_seconds", "epoch_micros",
           "UnknownTimeZoneError"]


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


def parse_timestamp(value: str) -> str:
    """Parse an ISO 8601 / RFC 3339 timestamp and return it in UTC.

    Accepts "Z" or numeric offsets, fractional seconds (truncated to
    microseconds), basic or extended format, "T" or space separator, a
    date-only value (midnight UTC) and naive times (taken as UTC). RFC 2822
    dates from RSS are also accepted, with a numeric zone, an RFC 822 zone
    name (GMT, EST, PDT, ...) or a common unambiguous one (CET, CEST, BST,
    JST, AEST, ...); another zone name is an error, not UTC. Output round-trips:
    ``parse_timestamp(parse_timestamp(x)) == parse_timestamp(x)``.

    Raises ValueError naming the offending value for anything else.
    """
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be a string, got {type(value).__name__}")
    text = value.strip()
    try:
        match = _ISO.fullmatch(text)
        if match:
            return format_utc(_from_iso(match))
        if _RFC2822_HINT.match(text):
            moment = parsedate_to_datetime(_numeric_zone(text))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return format_utc(moment)
    except UnknownTimeZoneError:
        raise
    except (ValueError, OverflowError, TypeError, IndexError) as exc:
        raise ValueError(f"invalid timestamp {value!r}: {exc}") from None
    raise ValueError(
        f"unrecognized timestamp {value!r}: expected ISO 8601 / RFC 3339 "
        "such as '2019-05-15T10:00:00Z' or '2019-05-15'"
    )


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
