"""Children's growth against the WHO references: LMS tables, percentile curves, a child's points.

The tables (``data/growth_who.csv``, written by ``scripts/growth_reference.py``; its
``growth_who.SOURCE.txt`` names the source) hold the WHO Child Growth Standards (0–5 years)
and the WHO Growth Reference 2007 (5–19 years) as LMS parameters by month. For a parameter set
(L, M, S), the value at z-score z is ``M (1 + L S z)^(1/L)`` (``M e^(S z)`` when L = 0) and the
z-score of a value x is ``((x / M)^L − 1) / (L S)`` (``ln(x / M) / S`` when L = 0).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from statistics import NormalDist
from typing import Final, Literal

import orjson

from carnet.core.errors import Gone, InvalidInput, NotFound
from carnet.measures import recording
from carnet.record.service import Repository

Indicator = Literal["weight", "height", "bmi", "head"]
Sex = Literal["male", "female"]
DATA: Final = Path(__file__).parent / "data" / "growth_who.csv"
INDICATORS: Final[dict[Indicator, str]] = {
    "weight": "poids",
    "height": "taille",
    "bmi": "imc",
    "head": "perimetre-cranien",
}
"""Each growth indicator and the measure (slug) whose values are placed on it."""
PERCENTILES: Final = (3, 15, 50, 85, 97)
CHILD_MONTHS: Final = 18 * 12
_DAYS_PER_MONTH: Final = 365.25 / 12
_NORMAL: Final = NormalDist()


@dataclass(frozen=True, slots=True)
class Lms:
    l: float  # noqa: E741 - the method's own name for the Box-Cox power
    m: float
    s: float

    def value_at(self, z: float) -> float:
        """The measurement at z-score ``z``."""
        if self.l == 0:
            return self.m * math.exp(self.s * z)
        return float(self.m * (1 + self.l * self.s * z) ** (1 / self.l))

    def z_score(self, value: float) -> float:
        """The z-score of ``value``."""
        if self.l == 0:
            return math.log(value / self.m) / self.s
        return float(((value / self.m) ** self.l - 1) / (self.l * self.s))


@lru_cache(maxsize=1)
def _tables() -> dict[tuple[str, str], dict[int, Lms]]:
    tables: dict[tuple[str, str], dict[int, Lms]] = {}
    with DATA.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["indicator"], row["sex"])
            tables.setdefault(key, {})[int(row["month"])] = Lms(
                float(row["L"]), float(row["M"]), float(row["S"])
            )
    return tables


def months_covered(indicator: Indicator, sex: Sex) -> int:
    """The last month of age the reference covers for this indicator."""
    return max(_tables()[(indicator, sex)])


def lms_at(indicator: Indicator, sex: Sex, months: float) -> Lms | None:
    """LMS at an age in months (linear between whole months); None outside the reference."""
    table = _tables()[(indicator, sex)]
    below, above = math.floor(months), math.ceil(months)
    if below < 0 or above not in table or below not in table:
        return None
    if below == above:
        return table[below]
    a, b, t = table[below], table[above], months - below
    return Lms(a.l + (b.l - a.l) * t, a.m + (b.m - a.m) * t, a.s + (b.s - a.s) * t)


def percentile_value(indicator: Indicator, sex: Sex, months: float, percentile: float) -> float:
    """The reference value of a percentile (3, 50, 97…) at an age in months."""
    lms = lms_at(indicator, sex, months)
    if lms is None:
        raise ValueError("age outside the reference")
    return lms.value_at(_NORMAL.inv_cdf(percentile / 100))


def age_in_months(birth: date, when: date) -> float:
    """Age in months as the WHO tables count them (days / 30.4375)."""
    return (when - birth).days / _DAYS_PER_MONTH


@dataclass(frozen=True, slots=True)
class GrowthPoint:
    months: float
    value: float
    when: datetime
    percentile: float
    """Where the value falls among children of the same age and sex (0–100)."""


@dataclass(frozen=True, slots=True)
class GrowthChart:
    indicator: Indicator
    sex: Sex
    last_month: int
    curves: dict[int, list[tuple[float, float]]]
    """Percentile → (month, value) points."""
    points: tuple[GrowthPoint, ...]


def curves(indicator: Indicator, sex: Sex, last_month: int) -> dict[int, list[tuple[float, float]]]:
    """The percentile curves from birth to ``last_month`` (one point a month)."""
    table = _tables()[(indicator, sex)]
    months = [m for m in sorted(table) if m <= last_month]
    return {
        p: [(m, table[m].value_at(_NORMAL.inv_cdf(p / 100))) for m in months] for p in PERCENTILES
    }


@dataclass(frozen=True, slots=True)
class Child:
    birth: date
    sex: Sex


def child_of(repo: Repository, *, patient_id: str) -> Child | None:
    """The person's birth date and sex, read from their Patient; None when either is unknown
    (the references are by sex: ``other`` and ``unknown`` have no curve)."""
    try:
        body = orjson.loads(repo.read("Patient", patient_id).body)
    except (NotFound, Gone, InvalidInput):
        return None
    sex = body.get("gender")
    try:
        birth = date.fromisoformat(str(body.get("birthDate", "")))
    except ValueError:
        return None
    if sex not in ("male", "female"):
        return None
    return Child(birth=birth, sex=sex)


def growth_chart(
    repo: Repository, *, patient_id: str, indicator: Indicator, child: Child, today: date
) -> GrowthChart:
    """One indicator's curves, from birth to the child's age (at least 2 years, at most what
    the reference covers), with the child's measures placed on them."""
    covered = months_covered(indicator, child.sex)
    age = age_in_months(child.birth, today)
    last = int(min(covered, max(24, math.ceil(age / 12) * 12)))
    entries = recording.measure_series(repo, patient_id=patient_id, slug=INDICATORS[indicator])
    points = []
    for measured in entries:
        months = age_in_months(child.birth, measured.when.date())
        lms = lms_at(indicator, child.sex, months)
        if lms is None or measured.value <= 0:
            continue
        centile = 100 * _NORMAL.cdf(lms.z_score(measured.value))
        points.append(GrowthPoint(months, measured.value, measured.when, round(centile, 1)))
    if points:
        last = int(min(covered, max(last, math.ceil(max(p.months for p in points)))))
    return GrowthChart(
        indicator=indicator,
        sex=child.sex,
        last_month=last,
        curves=curves(indicator, child.sex, last),
        points=tuple(points),
    )
