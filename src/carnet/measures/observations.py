"""Measures as FHIR Observations and targets as FHIR Goals: building and reading them back.

Pure functions, no data access: ``service`` writes and reads through the record's Repository.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carnet.measures.catalogue import (
    CATEGORY_SYSTEM,
    DAYS_EXTENSION,
    DIASTOLIC,
    GOAL_SYSTEM,
    LOINC,
    MOMENT_EXTENSION,
    MOMENT_SYSTEM,
    SYSTOLIC,
    UCUM,
    Measure,
)
from carnet.measures.schemas import MeasureEntry, Target


def quantity(value: float, unit: str) -> dict[str, Any]:
    """A UCUM Quantity (integers stay integers in the JSON)."""
    number: float | int = int(value) if float(value).is_integer() else value
    return {"value": number, "unit": unit, "system": UCUM, "code": unit}


def observation(
    measure: Measure,
    *,
    patient_id: str,
    when: datetime,
    value: float,
    value2: float | None = None,
    comment: str = "",
    moment: str = "",
    days: int | None = None,
) -> dict[str, Any]:
    """The Observation of one measure, performed (and written) by the person themselves."""
    patient = {"reference": f"Patient/{patient_id}"}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": [measure.profile_url]},
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "vital-signs"}]}],
        "code": {
            "coding": [{"system": measure.system, "code": measure.code, "display": measure.display}]
        },
        "subject": patient,
        "effectiveDateTime": when.isoformat(timespec="seconds"),
        "performer": [patient],
    }
    if measure.components:
        resource["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": SYSTOLIC}]},
                "valueQuantity": quantity(value, measure.unit),
            },
            {
                "code": {"coding": [{"system": LOINC, "code": DIASTOLIC}]},
                "valueQuantity": quantity(value2 or 0, measure.unit),
            },
        ]
    else:
        resource["valueQuantity"] = quantity(value, measure.unit)
    extensions: list[dict[str, Any]] = []
    if moment:
        extensions.append(
            {
                "url": MOMENT_EXTENSION,
                "valueCodeableConcept": {"coding": [{"system": MOMENT_SYSTEM, "code": moment}]},
            }
        )
    if days is not None:
        extensions.append({"url": DAYS_EXTENSION, "valueInteger": days})
    if extensions:
        resource["extension"] = extensions
    if comment:
        resource["note"] = [{"text": comment}]
    return resource


def entry(measure: Measure, body: dict[str, Any], *, patient_id: str) -> MeasureEntry | None:
    """A stored Observation read back (None when it lacks a value or a date we can use)."""
    try:
        when = datetime.fromisoformat(str(body["effectiveDateTime"]))
        if measure.components:
            values = {
                c["code"]["coding"][0]["code"]: float(c["valueQuantity"]["value"])
                for c in body.get("component", [])
            }
            value, value2 = values[SYSTOLIC], values.get(DIASTOLIC)
        else:
            value, value2 = float(body["valueQuantity"]["value"]), None
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    moment, days = "", None
    for ext in body.get("extension", []):
        if ext.get("url") == MOMENT_EXTENSION:
            moment = str(ext["valueCodeableConcept"]["coding"][0]["code"])
        elif ext.get("url") == DAYS_EXTENSION:
            days = int(ext["valueInteger"])
    notes = body.get("note") or [{}]
    own = {"reference": f"Patient/{patient_id}"} in body.get("performer", [])
    return MeasureEntry(
        id=str(body.get("id", "")),
        slug=measure.slug,
        when=when,
        value=value,
        value2=value2,
        unit=measure.unit,
        comment=str(notes[0].get("text", "")),
        moment=moment,
        days=days,
        own=own,
    )


def goal(
    measure: Measure, *, patient_id: str, low: float | None, high: float | None
) -> dict[str, Any]:
    """A target range for one measure (for blood pressure: the systolic value)."""
    detail: dict[str, Any] = {}
    if low is not None:
        detail["low"] = quantity(low, measure.unit)
    if high is not None:
        detail["high"] = quantity(high, measure.unit)
    target_code = SYSTOLIC if measure.components else measure.code
    target_system = LOINC if measure.components else measure.system
    return {
        "resourceType": "Goal",
        "identifier": [{"system": GOAL_SYSTEM, "value": measure.code}],
        "lifecycleStatus": "active",
        "description": {"text": measure.display},
        "subject": {"reference": f"Patient/{patient_id}"},
        "target": [
            {
                "measure": {"coding": [{"system": target_system, "code": target_code}]},
                "detailRange": detail,
            }
        ],
    }


def target(measure: Measure, body: dict[str, Any]) -> Target:
    """A stored Goal read back as a target range."""
    targets = body.get("target") or [{}]
    detail = targets[0].get("detailRange", {})
    low = detail.get("low", {}).get("value")
    high = detail.get("high", {}).get("value")
    return Target(
        slug=measure.slug,
        low=None if low is None else float(low),
        high=None if high is None else float(high),
        goal_id=str(body.get("id", "")),
    )
