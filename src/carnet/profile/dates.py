"""Partial dates as the person types them: a year, then optionally a month and a day.

A year alone, a month and a year, or a full date are all kept as typed (FHIR ``date`` and
``dateTime`` allow ``YYYY`` and ``YYYY-MM``). Refused: a day without a month, a month outside
1–12, a day that the month does not have, a year before 1900, and anything in the future (a
year is in the future only if it starts after today, so the current year is accepted).
"""

from __future__ import annotations

import calendar
from datetime import date

from carnet.profile.errors import InvalidProfileEntry
from carnet.profile.schemas import PartialDate

_EARLIEST_YEAR = 1900


def _number(text: str, *, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 4:
        raise InvalidProfileEntry("bad-date", field=field)
    return int(text)


def parse_partial(
    year: str, month: str = "", day: str = "", *, field: str, today: date, required: bool = False
) -> PartialDate | None:
    """The date typed in ``year``/``month``/``day`` (None when all three are empty and the date
    is optional). Raises ``InvalidProfileEntry`` naming ``field``."""
    y = _number(year, field=field)
    m = _number(month, field=field)
    d = _number(day, field=field)
    if y is None:
        if m is not None or d is not None or required:
            raise InvalidProfileEntry("required", field=field)
        return None
    if d is not None and m is None:
        raise InvalidProfileEntry("day-without-month", field=field)
    if y < _EARLIEST_YEAR or (m is not None and not 1 <= m <= 12):
        raise InvalidProfileEntry("bad-date", field=field)
    if d is not None and m is not None and not 1 <= d <= calendar.monthrange(y, m)[1]:
        raise InvalidProfileEntry("bad-date", field=field)
    value = PartialDate(y, m, d)
    if value.earliest > today:
        raise InvalidProfileEntry("future", field=field)
    return value


def date_fields(value: PartialDate | None, prefix: str) -> dict[str, str]:
    """A stored date back as the form's three fields (``<prefix>_year`` …)."""
    if value is None:
        return {f"{prefix}_year": "", f"{prefix}_month": "", f"{prefix}_day": ""}
    return {
        f"{prefix}_year": str(value.year),
        f"{prefix}_month": "" if value.month is None else str(value.month),
        f"{prefix}_day": "" if value.day is None else str(value.day),
    }
