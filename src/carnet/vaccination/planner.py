"""Where a person stands with the French schedule: a pure function of their birth date, sex,
vaccinations and the day.

Each entry of the schedule is a series of doses. Injections are grouped by day (two vaccines
given together count as one injection against all their diseases), and a day counts for a dose
when it covers every disease of the entry, at an age and an interval the dose accepts. A dose
without an injection is UPCOMING before it is due, DUE while it is on time, OVERDUE past its
window while catching up is still advised, and left out once it no longer is. Seasonal entries
(influenza, COVID-19) have one dose per campaign. Targeted vaccinations (risk groups,
pregnancy) are never due: they are listed apart, to discuss with a doctor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from carnet.vaccination.schedule import (
    DoseRule,
    Item,
    Schedule,
    Season,
    add_months,
    age_in_months,
    schedule,
)
from carnet.vaccination.schemas import (
    DoseStatus,
    DoseType,
    Requirement,
    ScheduledDose,
    ScheduleStatus,
    ToDiscuss,
)

HORIZON_YEARS = 5
"""How far ahead upcoming doses are listed."""


class Given(Protocol):
    """What the planner needs of a recorded vaccination (``schemas.Vaccination`` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def occurred_on(self) -> date: ...
    @property
    def diseases(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class _Day:
    """The injections of one day: the diseases they cover, and the first one's id."""

    on: date
    diseases: frozenset[str]
    immunization_id: str


@dataclass(slots=True)
class _Person:
    birth: date
    today: date
    horizon: date
    days: tuple[_Day, ...]

    def at(self, months: int) -> date:
        return add_months(self.birth, months)

    @property
    def age(self) -> int:
        return age_in_months(self.birth, self.today)


def schedule_status(
    *,
    birth_date: date,
    sex: str,
    vaccinations: Sequence[Given],
    today: date,
    horizon_years: int = HORIZON_YEARS,
    plan: Schedule | None = None,
) -> ScheduleStatus:
    """What is done, due, overdue and upcoming for this person on ``today``, and the targeted
    vaccinations to discuss. ``sex`` is the FHIR ``Patient.gender`` (``female``, ``male``…)."""
    plan = plan or schedule()
    person = _Person(
        birth=birth_date,
        today=today,
        horizon=add_months(today, 12 * horizon_years),
        days=_days(vaccinations, birth_date),
    )
    doses: list[ScheduledDose] = []
    for item in plan.items:
        if not item.applies_to(birth_date):
            continue
        found = _seasonal(item, person, plan.season) if item.seasonal else _series(item, person)
        doses.extend(found)
    order = {item.id: n for n, item in enumerate(plan.items)}
    doses.sort(key=lambda d: (d.due_from, order[d.item], d.number))
    age = person.age
    to_discuss = tuple(
        ToDiscuss(item=d.id, label=d.label, diseases=d.diseases, who=d.who)
        for d in plan.discuss
        if d.age_from <= age < d.age_until and (d.sex is None or d.sex == sex)
    )
    return ScheduleStatus(as_of=today, doses=tuple(doses), to_discuss=to_discuss)


def _days(vaccinations: Sequence[Given], birth: date) -> tuple[_Day, ...]:
    by_day: dict[date, tuple[set[str], str]] = {}
    for given in sorted(vaccinations, key=lambda v: (v.occurred_on, v.id)):
        if given.occurred_on < birth:
            continue  # refused on entry; ignored if it came another way
        by_day.setdefault(given.occurred_on, (set(), given.id))[0].update(given.diseases)
    return tuple(_Day(on, frozenset(d), first) for on, (d, first) in sorted(by_day.items()))


def _rules(item: Item, person: _Person) -> tuple[tuple[DoseRule, ...], Requirement]:
    """The series that applies: the late one when the person started (or starts) late; the
    listed doses, extended by the repeat rule up to the horizon."""
    doses, requirement = item.doses, item.requirement
    if item.late is not None:
        first = next((d for d in person.days if _covers(d, item, doses[0], person)), None)
        started = age_in_months(person.birth, first.on) if first else person.age
        if started >= item.late.start:
            doses, requirement = item.late.doses, item.late.requirement
    if item.repeat_every is not None:
        extended = list(doses)
        while (last := extended[-1].age) is not None and person.at(last) <= person.horizon:
            age = last + item.repeat_every
            extended.append(
                DoseRule(DoseType.BOOSTER, age=age, until=age + 12, counts_from=age - 24)
            )
        doses = tuple(extended)
    return doses, requirement


def _covers(day: _Day, item: Item, rule: DoseRule, person: _Person) -> bool:
    return item.diseases <= day.diseases and day.on >= person.at(rule.counts_from)


def _series(item: Item, person: _Person) -> Iterator[ScheduledDose]:
    rules, requirement = _rules(item, person)
    mandatory = item.mandatory_born_from is not None and person.birth >= item.mandatory_born_from
    if mandatory:
        requirement = Requirement.MANDATORY
    catch_up = person.at(item.catch_up_until) if item.catch_up_until is not None else None
    used: set[date] = set()
    previous: date | None = None
    """The previous dose's day, or when it is planned."""
    previous_done: date | None = None
    for number, rule in enumerate(rules, start=1):
        due = _due_from(rule, person, previous)
        day = _matching(item, rule, person, used, previous_done)
        base = ScheduledDose(
            key=f"{item.id}/{number}",
            item=item.id,
            label=item.label,
            diseases=tuple(sorted(item.diseases)),
            number=number,
            dose_type=rule.dose_type,
            requirement=requirement,
            mandatory=mandatory,
            status=DoseStatus.DONE,
            due_from=due,
            due_until=_due_until(rule, person, due),
            catch_up_until=_catch_up(item, rules, number, person, catch_up),
            note=item.note,
        )
        if day is not None:
            used.add(day.on)
            previous = previous_done = day.on
            yield replace(base, done_on=day.on, immunization_id=day.immunization_id)
            continue
        status = _pending_status(base, person.today)
        # The next dose counts from this one as it will be given: now if it is late.
        previous = max(due, person.today)
        if status is None or (status is DoseStatus.UPCOMING and due > person.horizon):
            continue
        yield replace(base, status=status)


def _due_from(rule: DoseRule, person: _Person, previous: date | None) -> date:
    candidates = []
    if rule.age is not None:
        candidates.append(person.at(rule.age))
    if rule.after is not None and previous is not None:
        candidates.append(add_months(previous, rule.after))
    return max(candidates) if candidates else person.today


def _due_until(rule: DoseRule, person: _Person, due: date) -> date | None:
    if rule.until is not None:
        until = person.at(rule.until)
        # A dose put back by a late one before it keeps a month to be on time.
        return until if until > due else add_months(due, 1)
    if rule.window is not None:
        return add_months(due, rule.window)
    return None


def _catch_up(
    item: Item, rules: tuple[DoseRule, ...], number: int, person: _Person, limit: date | None
) -> date | None:
    """A repeated booster is no longer caught up once the next one is due."""
    if item.repeat_every is not None and number < len(rules):
        following = rules[number].age
        if following is not None:
            superseded = person.at(following)
            return superseded if limit is None else min(limit, superseded)
    return limit


def _matching(
    item: Item, rule: DoseRule, person: _Person, used: set[date], previous_done: date | None
) -> _Day | None:
    """The first unused day of injections that counts for this dose."""
    earliest = person.at(rule.counts_from)
    if previous_done is not None:
        gap = rule.earliest if rule.earliest is not None else 0
        earliest = max(earliest, add_months(previous_done, gap), previous_done + timedelta(1))
    for day in person.days:
        if day.on >= earliest and day.on not in used and item.diseases <= day.diseases:
            return day
    return None


def _pending_status(dose: ScheduledDose, today: date) -> DoseStatus | None:
    """UPCOMING, DUE or OVERDUE; None once catching up is no longer advised."""
    if dose.catch_up_until is not None and today >= dose.catch_up_until:
        return None
    if today < dose.due_from:
        return DoseStatus.UPCOMING
    if dose.due_until is None or today < dose.due_until:
        return DoseStatus.DUE
    return DoseStatus.OVERDUE


def _season_of(day: date, season: Season) -> tuple[date, date, bool]:
    """The campaign ``day`` falls in (start, end exclusive, True), or the next one (False)."""
    start_md, end_md = season.start, season.end
    here = (day.month, day.day)
    if here >= start_md:
        year, inside = day.year, True
    elif here <= end_md:
        year, inside = day.year - 1, True
    else:
        year, inside = day.year, False
    start = date(year, *start_md)
    end = date(year + 1, *end_md) + timedelta(days=1)
    return start, end, inside


def _seasonal(item: Item, person: _Person, season: Season) -> Iterator[ScheduledDose]:
    """This campaign's dose (or the first campaign once old enough)."""
    eligible = person.at(item.start)
    reference = max(person.today, eligible)
    start, end, inside = _season_of(reference, season)
    due = max(start, eligible) if inside else start
    if due > person.horizon:
        return
    counts_from = date(start.year, *season.counts_from)
    day = next(
        (
            d
            for d in person.days
            if counts_from <= d.on < end and item.diseases <= d.diseases and d.on >= eligible
        ),
        None,
    )
    dose = ScheduledDose(
        key=f"{item.id}/{start.year}",
        item=item.id,
        label=item.label,
        diseases=tuple(sorted(item.diseases)),
        number=1,
        dose_type=item.doses[0].dose_type,
        requirement=item.requirement,
        mandatory=False,
        status=DoseStatus.UPCOMING if person.today < due else DoseStatus.DUE,
        due_from=due,
        due_until=end,
        catch_up_until=end,
        note=item.note,
    )
    if day is not None:
        dose = replace(
            dose, status=DoseStatus.DONE, done_on=day.on, immunization_id=day.immunization_id
        )
    yield dose
