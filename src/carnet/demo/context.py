"""Randomness, identifiers, dates and small FHIR value builders shared by the generators."""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

# Every date is computed from this day, never from the clock, so that a seed always yields the
# same data. Callers may pass another reference date.
REFERENCE_DATE: Final = date(2026, 11, 1)
# Nothing is recorded before this day: older events predate the electronic record.
RECORD_FROM: Final = date(2010, 1, 1)

UCUM: Final = "http://unitsofmeasure.org"
LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
ATC: Final = "http://www.whocc.no/atc"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"

# UTC offsets of the overseas départements (no daylight saving time there).
_OVERSEAS_OFFSETS: Final = {
    "971": "-04:00",
    "972": "-04:00",
    "973": "-03:00",
    "974": "+04:00",
    "976": "+03:00",
}

Resource = dict[str, Any]


def make_rng(seed: int, *parts: object) -> random.Random:
    """A private random generator for (seed, parts): string seeds are hashed with SHA-512, so
    the stream does not depend on PYTHONHASHSEED, the platform or other generators."""
    key = "carnet-demo/" + "/".join(str(part) for part in (seed, *parts))
    return random.Random(key)  # noqa: S311 - reproducible demo data, never a secret


def new_id(rng: random.Random) -> str:
    """A UUID-shaped resource id drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def ascii_slug(text: str) -> str:
    """``text`` lower-cased, without accents, spaces or punctuation (for e-mail addresses)."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae").replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A FHIR Coding."""
    value = {"system": system, "code": code}
    if display is not None:
        value["display"] = display
    return value


def concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    """A FHIR CodeableConcept with one coding and a (French) text."""
    return {"coding": [coding(system, code, display)], "text": text or display}


def reference(resource: Resource) -> dict[str, str]:
    """A relative reference (``Type/id``) to ``resource``."""
    return {"reference": f"{resource['resourceType']}/{resource['id']}"}


def quantity(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    """A UCUM quantity; ``unit`` is shown, ``code`` (default: the unit) is the UCUM code."""
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


def add_months(day: date, months: int) -> date:
    """``day`` moved by a number of calendar months (the day clamped to the month's end)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February becomes 28 February)."""
    return add_months(day, 12 * years)


def _last_sunday(year: int, month: int) -> date:
    last = add_months(date(year, month, 1), 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def utc_offset(day: date, department: str) -> str:
    """The local UTC offset on ``day`` in ``department`` (metropolitan summer time included)."""
    overseas = _OVERSEAS_OFFSETS.get(department)
    if overseas is not None:
        return overseas
    summer = _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10)
    return "+02:00" if summer else "+01:00"


@dataclass
class PatientContext:
    """What every generator of one patient's record needs, and the record being built."""

    rng: random.Random
    reference_date: date
    birth_date: date
    sex: str
    patient: Resource
    department: str
    resources: list[Resource] = field(default_factory=list)

    def new_id(self) -> str:
        """A fresh resource id from this patient's stream."""
        return new_id(self.rng)

    @property
    def subject(self) -> dict[str, str]:
        """The reference to this patient."""
        return reference(self.patient)

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)

    @property
    def age(self) -> int:
        """Age in whole years on the reference date."""
        return self.age_on(self.reference_date)

    def event_day(self, day: date) -> date:
        """``day`` clamped into the record's span: after the birth date (never on it: other
        resources' dates are indexed in clear) and no later than the reference date."""
        earliest = self.birth_date + timedelta(days=1)
        return min(max(day, earliest), self.reference_date)

    def stamp(self, day: date, hour: int | None = None, minute: int | None = None) -> str:
        """A local dateTime on ``day`` during opening hours (08:00-18:59), so that its UTC date
        is the same day everywhere, overseas included."""
        hour = self.rng.randint(8, 18) if hour is None else hour
        minute = self.rng.choice((0, 10, 15, 20, 30, 40, 45, 50)) if minute is None else minute
        offset = utc_offset(day, self.department)
        return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00{offset}"

    def random_day(self, start: date, end: date) -> date:
        """A day drawn uniformly in [start, end], then clamped by ``event_day``."""
        if end < start:
            start, end = end, start
        return self.event_day(start + timedelta(days=self.rng.randint(0, (end - start).days)))

    def add(self, resource: Resource) -> Resource:
        """Append ``resource`` to the record and return it."""
        self.resources.append(resource)
        return resource
