"""The French vaccination schedule, as data (``data/schedule.json``), and its ages.

Ages are whole months from birth (``"2m"``, ``"11y"``); adding them to a birth date keeps the
day of the month, or the month's last day when it has fewer (born on 31 January, two months old
on 31 March, one month old on 28 or 29 February).
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from carnet.vaccination.referential import load_data, referential
from carnet.vaccination.schemas import DoseType, Label, Requirement


def months_of(age: str) -> int:
    """``"11m"`` → 11, ``"6y"`` → 72."""
    count, unit = int(age[:-1]), age[-1]
    if unit == "m":
        return count
    if unit == "y":
        return 12 * count
    raise ValueError(f"an age is months (m) or years (y): {age!r}")


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months (the last day of a shorter month when needed)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def age_in_months(birth: date, on: date) -> int:
    """Completed months of age on ``on``."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - 1 if add_months(birth, months) > on else months


@dataclass(frozen=True, slots=True)
class DoseRule:
    """One dose of a series: when it is due, how long it is on time, what counts for it."""

    dose_type: DoseType
    age: int | None = None
    """Due from this age (months), or ``after`` the previous dose, whichever is later."""
    after: int | None = None
    """The advised interval since the previous dose (months)."""
    earliest: int | None = None
    """The shortest interval since the previous dose for an injection to count (months)."""
    until: int | None = None
    """On time until this age (months, exclusive)."""
    window: int | None = None
    """On time for this long once due (months), for doses timed by an interval."""
    counts_from: int = 0
    """The youngest age (months) at which an injection counts for this dose."""


@dataclass(frozen=True, slots=True)
class LateScheme:
    """Another series for those who start late (HPV from 15: three doses instead of two)."""

    start: int
    requirement: Requirement
    doses: tuple[DoseRule, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of the schedule: a series of doses against some diseases."""

    id: str
    label: Label
    diseases: frozenset[str]
    requirement: Requirement
    doses: tuple[DoseRule, ...]
    born_from: date | None = None
    born_until: date | None = None
    mandatory_born_from: date | None = None
    catch_up_until: int | None = None
    """Past this age (months) a missing dose is no longer advised (not shown as overdue)."""
    repeat_every: int | None = None
    """After the last dose listed, one more every so many months (adult boosters)."""
    seasonal: bool = False
    """One dose each vaccination season from ``start`` (influenza, COVID-19)."""
    start: int = 0
    late: LateScheme | None = None
    note: Label | None = None

    def applies_to(self, birth: date) -> bool:
        if self.born_from is not None and birth < self.born_from:
            return False
        return self.born_until is None or birth <= self.born_until


@dataclass(frozen=True, slots=True)
class Discussion:
    """A targeted vaccination (risk groups, pregnancy): listed to discuss with a doctor."""

    id: str
    label: Label
    diseases: tuple[str, ...]
    who: Label
    age_from: int
    age_until: int
    sex: str | None = None


@dataclass(frozen=True, slots=True)
class Season:
    """The yearly campaign: ``(month, day)`` of its start and end, and from when a dose counts
    for the coming season."""

    start: tuple[int, int]
    end: tuple[int, int]
    counts_from: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Schedule:
    items: tuple[Item, ...]
    discuss: tuple[Discussion, ...]
    season: Season


def _months(value: str | None) -> int | None:
    return months_of(value) if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _label(data: dict[str, Any]) -> Label:
    return Label(data["fr"], data["en"])


def _dose(data: dict[str, Any]) -> DoseRule:
    return DoseRule(
        dose_type=DoseType(data["type"]),
        age=_months(data.get("age")),
        after=_months(data.get("after")),
        earliest=_months(data.get("earliest") or data.get("after")),
        until=_months(data.get("until")),
        window=_months(data.get("window")),
        counts_from=_months(data.get("counts_from")) or 0,
    )


def _item(data: dict[str, Any]) -> Item:
    late = data.get("late")
    return Item(
        id=data["id"],
        label=_label(data),
        diseases=frozenset(data["diseases"]),
        requirement=Requirement(data["requirement"]),
        doses=tuple(_dose(d) for d in data["doses"]),
        born_from=_date(data.get("born_from")),
        born_until=_date(data.get("born_until")),
        mandatory_born_from=_date(data.get("mandatory_born_from")),
        catch_up_until=_months(data.get("catch_up_until")),
        repeat_every=_months(data.get("repeat_every")),
        seasonal=bool(data.get("seasonal")),
        start=_months(data.get("from")) or 0,
        late=None
        if late is None
        else LateScheme(
            start=months_of(late["from"]),
            requirement=Requirement(late["requirement"]),
            doses=tuple(_dose(d) for d in late["doses"]),
        ),
        note=_label(data["note"]) if "note" in data else None,
    )


def _month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


@cache
def schedule() -> Schedule:
    """The schedule (read once; every disease it names is in the referential)."""
    data = load_data("schedule.json")
    items = tuple(_item(i) for i in data["items"])
    discuss = tuple(
        Discussion(
            id=d["id"],
            label=_label(d),
            diseases=tuple(d["diseases"]),
            who=_label(d["who"]),
            age_from=months_of(d["age_from"]),
            age_until=months_of(d["age_until"]),
            sex=d.get("sex"),
        )
        for d in data["discuss"]
    )
    known = referential().diseases.keys()
    for named in [*(i.diseases for i in items), *(d.diseases for d in discuss)]:
        if not set(named) <= known:
            raise ValueError(f"the schedule names unknown diseases {sorted(set(named) - known)}")
    season = data["season"]
    return Schedule(
        items=items,
        discuss=discuss,
        season=Season(
            _month_day(season["start"]),
            _month_day(season["end"]),
            _month_day(season["counts_from"]),
        ),
    )
