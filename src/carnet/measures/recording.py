"""Recording, listing and deleting measures, and setting targets, through the Repository
(reached by other areas through ``measures.service``).

Every function takes the record's Repository (already acting for the person) first and never
commits: the caller owns the transaction. Values are checked before anything is written: a
refusal raises ``InvalidMeasure`` and stores nothing. BMI is computed from the latest weight
and height, never accepted as input.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import orjson

from carnet.core.errors import Gone, InvalidInput, NotFound
from carnet.measures import observations
from carnet.measures.catalogue import (
    BY_SLUG,
    DAYS_RANGE,
    DIASTOLIC_RANGE,
    GLUCOSE_UNITS,
    GOAL_SYSTEM,
    MOMENTS,
    Measure,
)
from carnet.measures.errors import InvalidMeasure, MeasureNotFound
from carnet.measures.schemas import MeasureEntry, MeasurePage, Target
from carnet.record.service import Repository

MAX_COMMENT = 500
_SERIES_LIMIT = 500


def measure_of(slug: str) -> Measure:
    """The measure named ``slug`` in the portal (``InvalidMeasure`` if there is none)."""
    measure = BY_SLUG.get(slug)
    if measure is None:
        raise InvalidMeasure("unknown-measure", field="slug")
    return measure


def parse_number(text: str | float, *, field: str = "value") -> float:
    """A number as typed (a decimal comma is fine); ``InvalidMeasure`` otherwise."""
    if isinstance(text, int | float):
        number = float(text)
    else:
        cleaned = text.strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
        if not cleaned:
            raise InvalidMeasure("missing", field=field)
        try:
            number = float(cleaned)
        except ValueError:
            raise InvalidMeasure("not-a-number", field=field) from None
    if not math.isfinite(number):
        raise InvalidMeasure("not-a-number", field=field)
    return number


def _in_range(
    value: float, low: float, high: float, *, field: str, factor: float = 1.0, unit: str = ""
) -> None:
    if not low <= value <= high:
        raise InvalidMeasure(
            "out-of-range", field=field, low=low / factor, high=high / factor, unit=unit
        )


def add_measure(
    repo: Repository,
    *,
    patient_id: str,
    slug: str,
    value: str | float,
    when: datetime,
    now: datetime,
    value2: str | float = "",
    unit: str = "",
    comment: str = "",
    moment: str = "",
    days: str | int = "",
) -> MeasureEntry:
    """Record one measure typed by the person; returns it as stored.

    Refused (``InvalidMeasure``, nothing written): BMI (computed), a value that is not a number
    or outside the measure's plausible range, a date in the future, a diastolic pressure not
    below the systolic one, a glucose value without its moment or in an unknown unit, a sensor
    value without its number of days, a comment over ``MAX_COMMENT`` characters.
    """
    measure = measure_of(slug)
    if measure.computed:
        raise InvalidMeasure("computed", field="slug")
    if when.tzinfo is None:
        raise InvalidMeasure("bad-date", field="date")
    if when > now:
        raise InvalidMeasure("future", field="date")
    if len(comment) > MAX_COMMENT:
        raise InvalidMeasure("comment-too-long", field="comment", high=MAX_COMMENT)
    number = parse_number(value)
    factor = 1.0
    if measure.extra == "moment":
        factor = GLUCOSE_UNITS.get(unit or measure.unit, 0.0)
        if not factor:
            raise InvalidMeasure("bad-unit", field="unit")
        if moment not in MOMENTS:
            raise InvalidMeasure("moment-required", field="moment")
        number *= factor
    _in_range(
        number, measure.low, measure.high, field="value", factor=factor, unit=unit or measure.unit
    )
    second = _diastolic(measure, value2, number)
    number_of_days = _days(measure, days)
    resource = observations.observation(
        measure,
        patient_id=patient_id,
        when=when,
        value=round(number, measure.decimals),
        value2=second,
        comment=comment.strip(),
        moment=moment if measure.extra == "moment" else "",
        days=number_of_days,
    )
    stored = repo.create(resource)
    made = observations.entry(measure, orjson.loads(stored.body), patient_id=patient_id)
    assert made is not None
    return made


def _diastolic(measure: Measure, value2: str | float, systolic: float) -> float | None:
    if not measure.components:
        return None
    diastolic = parse_number(value2, field="value2")
    _in_range(diastolic, *DIASTOLIC_RANGE, field="value2", unit=measure.unit)
    if systolic <= diastolic:
        raise InvalidMeasure("systolic-not-above", field="value2")
    return round(diastolic, measure.decimals)


def _days(measure: Measure, days: str | int) -> int | None:
    if measure.extra != "days":
        return None
    if days in ("", None):
        raise InvalidMeasure("days-required", field="days")
    number = parse_number(days, field="days")
    if not number.is_integer():
        raise InvalidMeasure("not-a-number", field="days")
    _in_range(number, *DAYS_RANGE, field="days", unit="d")
    return int(number)


def _params(patient_id: str, measure: Measure, count: int) -> list[tuple[str, str]]:
    return [
        ("patient", f"Patient/{patient_id}"),
        ("code", f"{measure.system}|{measure.code}"),
        ("_sort", "-date"),
        ("_count", str(count)),
    ]


def _entries(measure: Measure, matches: Any, patient_id: str) -> tuple[MeasureEntry, ...]:
    found = (
        observations.entry(measure, orjson.loads(m.body), patient_id=patient_id) for m in matches
    )
    return tuple(e for e in found if e is not None)


def measure_page(
    repo: Repository, *, patient_id: str, slug: str, count: int = 10, cursor: str | None = None
) -> MeasurePage:
    """One page of a measure's history, newest first (``cursor``: a page's ``next_cursor``)."""
    measure = measure_of(slug)
    if measure.computed:
        series = bmi_series(repo, patient_id=patient_id)
        return MeasurePage(entries=tuple(reversed(series))[:count])
    result = repo.search("Observation", _params(patient_id, measure, count), cursor=cursor or None)
    return MeasurePage(
        entries=_entries(measure, result.matches, patient_id), next_cursor=result.next_cursor
    )


def measure_series(repo: Repository, *, patient_id: str, slug: str) -> list[MeasureEntry]:
    """A measure's latest values (up to 500), oldest first: what a chart draws."""
    measure = measure_of(slug)
    if measure.computed:
        return bmi_series(repo, patient_id=patient_id)
    result = repo.search("Observation", _params(patient_id, measure, _SERIES_LIMIT))
    return list(reversed(_entries(measure, result.matches, patient_id)))


def bmi_series(repo: Repository, *, patient_id: str) -> list[MeasureEntry]:
    """BMI at each weight, with the height measured last before it (or the first one after).

    BMI is never stored: it is computed here, from weight (kg) / height (m)².
    """
    weights = measure_series(repo, patient_id=patient_id, slug="poids")
    heights = measure_series(repo, patient_id=patient_id, slug="taille")
    if not weights or not heights:
        return []
    series = []
    for weight in weights:
        before = [h for h in heights if h.when <= weight.when]
        height = before[-1] if before else heights[0]
        bmi = weight.value / (height.value / 100) ** 2
        series.append(
            MeasureEntry(
                id="", slug="imc", when=weight.when, value=round(bmi, 1), unit="kg/m2", own=False
            )
        )
    return series


def latest_measures(repo: Repository, *, patient_id: str) -> dict[str, MeasureEntry]:
    """The last value of every measure the person has, by slug (BMI computed)."""
    latest: dict[str, MeasureEntry] = {}
    for slug, measure in BY_SLUG.items():
        if measure.computed:
            continue
        page = repo.search("Observation", _params(patient_id, measure, 1))
        found = _entries(measure, page.matches, patient_id)
        if found:
            latest[slug] = found[0]
    weight, height = latest.get("poids"), latest.get("taille")
    if weight and height:
        bmi = weight.value / (height.value / 100) ** 2
        latest["imc"] = MeasureEntry(
            id="",
            slug="imc",
            when=max(weight.when, height.when),
            value=round(bmi, 1),
            unit="kg/m2",
            own=False,
        )
    return latest


def delete_measure(repo: Repository, *, patient_id: str, measure_id: str) -> str:
    """Delete one of the person's own measures; returns its slug.

    ``MeasureNotFound`` when there is no such measure in this space, or it was recorded by
    someone else (a professional, a referenced app): those are not the person's to delete.
    """
    try:
        stored = repo.read("Observation", measure_id)
    except (NotFound, Gone, InvalidInput):
        raise MeasureNotFound from None
    body = orjson.loads(stored.body)
    coding = (body.get("code", {}).get("coding") or [{}])[0]
    measure = next((m for m in BY_SLUG.values() if m.code == coding.get("code")), None)
    made = None if measure is None else observations.entry(measure, body, patient_id=patient_id)
    if measure is None or made is None or not made.own or stored.patient_id != patient_id:
        raise MeasureNotFound
    repo.delete("Observation", measure_id)
    return measure.slug


def target_of(repo: Repository, *, patient_id: str, slug: str) -> Target | None:
    """The person's target range for a measure, if they set one."""
    measure = measure_of(slug)
    result = repo.search(
        "Goal",
        [("patient", f"Patient/{patient_id}"), ("identifier", f"{GOAL_SYSTEM}|{measure.code}")],
    )
    if not result.matches:
        return None
    return observations.target(measure, orjson.loads(result.matches[0].body))


def set_target(
    repo: Repository, *, patient_id: str, slug: str, low: str | float, high: str | float
) -> Target | None:
    """Set (or, both bounds empty, remove) the target range of a measure.

    Bounds must lie in the measure's plausible range and ``low`` below ``high``.
    """
    measure = measure_of(slug)
    bounds: list[float | None] = []
    for name, text in (("low", low), ("high", high)):
        if text in ("", None):
            bounds.append(None)
            continue
        number = parse_number(text, field=name)
        _in_range(number, measure.low, measure.high, field=name, unit=measure.unit)
        bounds.append(number)
    current = target_of(repo, patient_id=patient_id, slug=slug)
    if bounds == [None, None]:
        if current is not None:
            repo.delete("Goal", current.goal_id)
        return None
    if bounds[0] is not None and bounds[1] is not None and bounds[0] >= bounds[1]:
        raise InvalidMeasure("target-order", field="high")
    resource = observations.goal(measure, patient_id=patient_id, low=bounds[0], high=bounds[1])
    if current is None:
        stored = repo.create(resource)
    else:
        stored = repo.update("Goal", current.goal_id, {**resource, "id": current.goal_id}).resource
    return observations.target(measure, orjson.loads(stored.body))
