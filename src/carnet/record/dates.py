"""FHIR date, dateTime, instant, Period and Timing values as UTC ranges (pure).

A FHIR date is as precise as it is written: ``2019`` is the whole year, ``2019-03`` the month,
``2019-03-05`` the day, ``2019-03-05T10:00:00+02:00`` that second (or the given fraction of
it). Each value is read as the half-open range ``[low, high)`` it covers, in UTC, which is what
date search compares. Values without a zone are taken as UTC. An open Period reaches
``DATE_MIN`` or ``DATE_MAX``. Invalid values give None, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

DATE_MIN = datetime(1, 1, 1, tzinfo=UTC)
DATE_MAX = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_DATE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


def date_range(value: str) -> tuple[datetime, datetime] | None:
    """``[low, high)`` in UTC covered by a FHIR date, dateTime or instant; None if invalid."""
    match = _DATE.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return _range(match)
    except (ValueError, OverflowError):
        return None  # 2019-02-30, year 0...: not a date, so nothing to index


def _range(match: re.Match[str]) -> tuple[datetime, datetime]:
    part = match.group
    year = int(part("year"))
    if part("month") is None:
        return _utc(year, 1, 1), _bounded(lambda: _utc(year + 1, 1, 1))
    month = int(part("month"))
    if part("day") is None:
        following = (year + 1, 1) if month == 12 else (year, month + 1)
        return _utc(year, month, 1), _bounded(lambda: _utc(*following, 1))
    low = _utc(year, month, int(part("day")))
    if part("hour") is None:
        return low, _bounded(lambda: low + timedelta(days=1))
    zone = part("zone") or "Z"
    offset = timedelta(0) if zone == "Z" else _offset(zone)
    second = min(int(part("second") or 0), 59)  # a leap second :60 is the last second
    start = low.replace(hour=int(part("hour")), minute=int(part("minute")), second=second)
    fraction = part("fraction")
    if fraction:
        digits = fraction[1:7]
        start += timedelta(microseconds=int(digits.ljust(6, "0")))
        step = timedelta(microseconds=10 ** (6 - len(digits)))
    else:
        step = timedelta(seconds=1) if part("second") else timedelta(minutes=1)
    start -= offset
    return start, _bounded(lambda: start + step)


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _bounded(compute: Callable[[], datetime]) -> datetime:
    try:
        return compute()
    except (ValueError, OverflowError):
        return DATE_MAX  # the end of year 9999


def _offset(zone: str) -> timedelta:
    sign = -1 if zone[0] == "-" else 1
    return sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))


def period_range(period: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """A Period's range; an open end reaches ``DATE_MIN``/``DATE_MAX``."""
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, str) and not isinstance(end, str):
        return None
    low = date_range(start) if isinstance(start, str) else None
    high = date_range(end) if isinstance(end, str) else None
    if (isinstance(start, str) and low is None) or (isinstance(end, str) and high is None):
        return None
    span = (low[0] if low else DATE_MIN, high[1] if high else DATE_MAX)
    return span if span[0] < span[1] else None


def timing_range(timing: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """The span of a Timing's events and its ``repeat.boundsPeriod``."""
    spans = [date_range(event) for event in _list(timing.get("event")) if isinstance(event, str)]
    repeat = timing.get("repeat")
    if isinstance(repeat, dict) and isinstance(repeat.get("boundsPeriod"), dict):
        spans.append(period_range(repeat["boundsPeriod"]))
    found = [span for span in spans if span is not None]
    if not found:
        return None
    return min(span[0] for span in found), max(span[1] for span in found)


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]
