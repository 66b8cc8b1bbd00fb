"""Vital signs and laboratory results (LOINC codes, UCUM units), plausible for age and sex."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any, Final, NamedTuple

from carnet.demo.context import LOINC, PatientContext, Resource, concept, quantity, reference

_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
_INTERPRETATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

# Medians by age in years (a smooth growth curve is enough for demonstration data).
_HEIGHT: Final = {
    "male": ((0, 50), (0.25, 61), (0.5, 67.5), (1, 75.5), (1.5, 82), (2, 87.5), (3, 96),
             (4, 103), (5, 110), (6, 116), (8, 128), (10, 139), (12, 150), (14, 163), (16, 172),
             (18, 176), (70, 175), (95, 170)),
    "female": ((0, 49.5), (0.25, 59.5), (0.5, 65.5), (1, 74), (1.5, 80.5), (2, 86), (3, 95),
               (4, 102), (5, 109), (6, 115), (8, 127), (10, 139.5), (12, 151), (14, 160),
               (16, 163), (18, 163.5), (70, 162), (95, 157)),
}  # fmt: skip
_INFANT_WEIGHT: Final = ((0, 3.3), (0.25, 6.0), (0.5, 7.7), (1, 9.5), (1.5, 10.9), (2, 12.1))
_BMI: Final = ((2, 16.3), (5, 15.5), (8, 16.2), (12, 18.5), (16, 21), (20, 22.5), (40, 25),
               (60, 26.5), (80, 25.5), (95, 24))  # fmt: skip
_HEAD: Final = ((0, 35), (0.25, 40), (0.5, 43), (1, 46), (2, 48.5), (3, 49.5))


def _interpolate(table: tuple[tuple[float, float], ...], x: float) -> float:
    if x <= table[0][0]:
        return table[0][1]
    for (x0, y0), (x1, y1) in pairwise(table):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return table[-1][1]


class Lab(NamedTuple):
    loinc: str
    label: str
    unit: str  # shown
    ucum: str
    normal: tuple[float, float]  # range of values drawn for a healthy person
    abnormal: tuple[float, float]  # ... and for a person with the related condition
    reference: tuple[float | None, float | None]


LABS: Final[dict[str, Lab]] = {
    "glucose": Lab("2339-0", "Glycémie à jeun", "g/L", "g/L",
                   (0.72, 1.05), (1.15, 1.9), (0.70, 1.10)),
    "hba1c": Lab("4548-4", "Hémoglobine glyquée (HbA1c)", "%", "%",
                 (4.8, 5.8), (6.3, 8.6), (4.0, 6.0)),
    "cholesterol": Lab("2093-3", "Cholestérol total", "g/L", "g/L",
                       (1.55, 1.98), (2.2, 3.0), (None, 2.0)),
    "ldl": Lab("13457-7", "Cholestérol LDL (calculé)", "g/L", "g/L",
               (0.85, 1.55), (1.65, 2.3), (None, 1.6)),
    "hdl": Lab("2085-9", "Cholestérol HDL", "g/L", "g/L",
               (0.45, 0.85), (0.32, 0.6), (0.40, None)),
    "creatinine": Lab("14682-9", "Créatinine", "µmol/L", "umol/L",
                      (55, 95), (70, 140), (45, 104)),
    "tsh": Lab("3016-3", "TSH", "mUI/L", "m[IU]/L", (0.6, 3.4), (0.8, 5.5), (0.4, 4.0)),
}  # fmt: skip


@dataclass(frozen=True)
class Growth:
    """A person's stable build: how tall and how heavy they are compared with the median."""

    height_factor: float
    bmi_offset: float

    @classmethod
    def draw(cls, ctx: PatientContext, *, obese: bool) -> Growth:
        """This patient's build (obesity raises the body mass index)."""
        offset = ctx.rng.gauss(0, 2.5 if ctx.age >= 18 else 1.2)
        if obese:
            offset = max(offset, 0) + (8 if ctx.age >= 18 else 4)
        return cls(1 + max(-2.5, min(2.5, ctx.rng.gauss(0, 1))) * 0.04, offset)


def _vital(
    ctx: PatientContext,
    code: tuple[str, str],
    value: dict[str, Any],
    *,
    when: str,
    encounter: Resource,
    performer: Resource,
) -> Resource:
    return {
        "resourceType": "Observation",
        "id": ctx.new_id(),
        "status": "final",
        "category": [
            {"coding": [{"system": _CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}
        ],
        "code": concept(LOINC, *code),
        "subject": ctx.subject,
        "encounter": reference(encounter),
        "effectiveDateTime": when,
        "performer": [reference(performer)],
        "valueQuantity": value,
    }


def _blood_pressure(ctx: PatientContext, age: float, hypertensive: bool) -> tuple[int, int]:
    if age < 18:
        return round(95 + age + ctx.rng.gauss(0, 5)), round(58 + age / 2 + ctx.rng.gauss(0, 4))
    systolic = 112 + 0.45 * (age - 20) + ctx.rng.gauss(0, 8) + (9 if hypertensive else 0)
    diastolic = 71 + 0.15 * (age - 20) + ctx.rng.gauss(0, 6) + (5 if hypertensive else 0)
    return round(systolic), round(diastolic)


def _heart_rate(ctx: PatientContext, age: float) -> int:
    median = 130 if age < 1 else 105 if age < 6 else 90 if age < 12 else 72
    return round(median + ctx.rng.gauss(0, 8))


def measurements(
    ctx: PatientContext, growth: Growth, day: date, *, hypertensive: bool = False
) -> dict[str, float]:
    """Plausible weight, height, BMI, head circumference, pressure and heart rate on ``day``."""
    age = (day - ctx.birth_date).days / 365.25
    height = _interpolate(_HEIGHT[ctx.sex], age) * growth.height_factor
    if age < 2:
        weight = _interpolate(_INFANT_WEIGHT, age) * growth.height_factor**2
        weight *= 1 + growth.bmi_offset / 30 + ctx.rng.gauss(0, 0.02)
    else:
        bmi = _interpolate(_BMI, age) + growth.bmi_offset + ctx.rng.gauss(0, 0.3)
        weight = bmi * (height / 100) ** 2
    systolic, diastolic = _blood_pressure(ctx, age, hypertensive)
    head = _interpolate(_HEAD, age) - (0.8 if ctx.sex == "female" else 0)
    # The BMI is computed from the values as recorded, so that a reader can check it.
    weight, height = round(weight, 2 if age < 2 else 1), round(height, 1)
    return {
        "weight": weight,
        "height": height,
        "bmi": round(weight / (height / 100) ** 2, 1),
        "head": round(head + ctx.rng.gauss(0, 0.6), 1),
        "systolic": systolic,
        "diastolic": diastolic,
        "heart_rate": _heart_rate(ctx, age),
        "age": age,
    }


def vital_signs(
    ctx: PatientContext,
    values: dict[str, float],
    kinds: tuple[str, ...],
    *,
    when: str,
    encounter: Resource,
    performer: Resource,
) -> list[Resource]:
    """Observations of ``kinds`` (weight, height, bmi, head, pressure, heart_rate)."""
    made = []
    simple = {
        "weight": (("29463-7", "Poids"), quantity(values["weight"], "kg")),
        "height": (("8302-2", "Taille"), quantity(values["height"], "cm")),
        "bmi": (
            ("39156-5", "Indice de masse corporelle (IMC)"),
            quantity(values["bmi"], "kg/m2", "kg/m2"),
        ),
        "head": (("9843-4", "Périmètre crânien"), quantity(values["head"], "cm")),
        "heart_rate": (
            ("8867-4", "Fréquence cardiaque"),
            quantity(values["heart_rate"], "/min", "/min"),
        ),
    }
    for kind in kinds:
        if kind == "pressure":
            made.append(_pressure(ctx, values, when, encounter, performer))
        else:
            code, value = simple[kind]
            made.append(
                _vital(ctx, code, value, when=when, encounter=encounter, performer=performer)
            )
    return [ctx.add(observation) for observation in made]


def _pressure(
    ctx: PatientContext,
    values: dict[str, float],
    when: str,
    encounter: Resource,
    performer: Resource,
) -> Resource:
    observation = _vital(
        ctx,
        ("85354-9", "Pression artérielle"),
        {},
        when=when,
        encounter=encounter,
        performer=performer,
    )
    del observation["valueQuantity"]  # a panel: the values are in the components
    observation["component"] = [
        {
            "code": concept(LOINC, code, label),
            "valueQuantity": quantity(values[key], "mmHg", "mm[Hg]"),
        }
        for code, label, key in (
            ("8480-6", "Pression artérielle systolique", "systolic"),
            ("8462-4", "Pression artérielle diastolique", "diastolic"),
        )
    ]
    return observation


def _reference_range(lab: Lab) -> dict[str, Any]:
    low, high = lab.reference
    value: dict[str, Any] = {}
    parts = []
    if low is not None:
        value["low"] = quantity(low, lab.unit, lab.ucum)
        parts.append(f"≥ {low:g}")
    if high is not None:
        value["high"] = quantity(high, lab.unit, lab.ucum)
        parts.append(f"≤ {high:g}")
    value["text"] = " et ".join(parts).replace(".", ",") + f" {lab.unit}"
    return value


def lab_result(
    ctx: PatientContext, key: str, *, abnormal: bool, when: str, laboratory: Resource
) -> Resource:
    """One laboratory Observation of test ``key``, with its reference range."""
    lab = LABS[key]
    low, high = lab.abnormal if abnormal else lab.normal
    value = round(ctx.rng.uniform(low, high), 2)
    flag = "N"
    if lab.reference[0] is not None and value < lab.reference[0]:
        flag = "L"
    elif lab.reference[1] is not None and value > lab.reference[1]:
        flag = "H"
    return ctx.add(
        {
            "resourceType": "Observation",
            "id": ctx.new_id(),
            "status": "final",
            "category": [
                {"coding": [{"system": _CATEGORY, "code": "laboratory", "display": "Laboratory"}]}
            ],
            "code": concept(LOINC, lab.loinc, lab.label),
            "subject": ctx.subject,
            "effectiveDateTime": when,
            "performer": [reference(laboratory)],
            "valueQuantity": quantity(value, lab.unit, lab.ucum),
            "interpretation": [{"coding": [{"system": _INTERPRETATION, "code": flag}]}],
            "referenceRange": [_reference_range(lab)],
        }
    )
