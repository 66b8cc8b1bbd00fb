"""Vaccinations as FHIR R4 Immunization resources, and back.

The mapping:
- ``vaccineCode``: Carnet's referential code and the WHO ATC code;
- ``occurrenceDateTime``: the day of the injection (a date);
- ``protocolApplied[0]``: ``targetDisease`` (the referential's diseases) and
  ``doseNumberString`` (the dose type's French name); the dose type itself (HL7 v3 ActCode
  ``INITIMMUNIZ``, ``BOOSTER``, ``IMMUNIZ``, as Mon espace santé uses them) goes in an
  extension, since R4 has no element for it;
- ``lotNumber``; ``performer[0]``: function ``AP`` (administering provider), the free-text
  name in ``actor.display``; ``note[0].text``: the comment.

Who entered it: R4 says ``primarySource`` is true only when the information comes from the
person who administered the vaccine or their organisation. A patient typing their vaccination
(from their paper carnet de santé, most often) is a secondary report: ``primarySource`` false
and ``reportOrigin`` ``record`` (immunization-origin: "Written Record"). Validation by a
professional is not a FHIR element either: the extension ``VALIDATED_EXTENSION`` (boolean)
says it, and only a professional's write may set it (``service``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import orjson

from carnet.record.schemas import StoredResource
from carnet.vaccination.referential import (
    ATC_SYSTEM,
    DISEASE_SYSTEM,
    VACCINE_SYSTEM,
    referential,
)
from carnet.vaccination.schemas import DoseType, Label, Vaccination, VaccinationInput

DOSE_TYPE_EXTENSION: Final = "urn:carnet:vaccination:type-administration"
VALIDATED_EXTENSION: Final = "urn:carnet:vaccination:valide-par-professionnel"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ORIGIN_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/immunization-origin"
PERFORMER_FUNCTION: Final = "http://terminology.hl7.org/CodeSystem/v2-0443"
DOSE_NAMES: Final[dict[DoseType, str]] = {
    DoseType.INITIAL: "Primo-vaccination",
    DoseType.BOOSTER: "Rappel",
    DoseType.OTHER: "Vaccination",
}


def immunization(
    entry: VaccinationInput,
    *,
    patient_id: str,
    validated: bool,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """The Immunization for a checked ``entry`` (its vaccine and dose type are known)."""
    vaccine = referential().vaccines[entry.vaccine]
    dose_type = DoseType(entry.dose_type)
    resource: dict[str, Any] = {"resourceType": "Immunization"}
    if resource_id is not None:
        resource["id"] = resource_id
    extensions: list[dict[str, Any]] = [
        {
            "url": DOSE_TYPE_EXTENSION,
            "valueCoding": {"system": ACT_CODE, "code": dose_type.value},
        }
    ]
    if validated:
        extensions.append({"url": VALIDATED_EXTENSION, "valueBoolean": True})
    resource |= {
        "extension": extensions,
        "status": "completed",
        "vaccineCode": {
            "coding": [
                {"system": VACCINE_SYSTEM, "code": vaccine.code, "display": vaccine.label.fr},
                {"system": ATC_SYSTEM, "code": vaccine.atc},
            ],
            "text": vaccine.label.fr,
        },
        "patient": {"reference": f"Patient/{patient_id}"},
        "occurrenceDateTime": entry.occurred_on.isoformat(),
        "primarySource": False,
        "reportOrigin": {"coding": [{"system": ORIGIN_SYSTEM, "code": "record"}]},
        "protocolApplied": [
            {
                "targetDisease": [
                    {"coding": [{"system": DISEASE_SYSTEM, "code": code}]}
                    for code in vaccine.diseases
                ],
                "doseNumberString": DOSE_NAMES[dose_type],
            }
        ],
    }
    if entry.lot_number:
        resource["lotNumber"] = entry.lot_number
    if entry.performer:
        resource["performer"] = [
            {
                "function": {"coding": [{"system": PERFORMER_FUNCTION, "code": "AP"}]},
                "actor": {"display": entry.performer},
            }
        ]
    if entry.comment:
        resource["note"] = [{"text": entry.comment}]
    return resource


def _coding(concept: dict[str, Any] | None, system: str) -> str:
    for coding in (concept or {}).get("coding", []):
        if coding.get("system") == system and isinstance(coding.get("code"), str):
            return str(coding["code"])
    return ""


def _extension(body: dict[str, Any], url: str) -> dict[str, Any]:
    return next((e for e in body.get("extension", []) if e.get("url") == url), {})


def _diseases(body: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for protocol in body.get("protocolApplied", []):
        for target in protocol.get("targetDisease", []):
            code = _coding(target, DISEASE_SYSTEM)
            if code and code not in found:
                found.append(code)
    return tuple(found)


_DOSE_TYPES: Final = {t.value: t for t in DoseType}


def _occurrence(body: dict[str, Any]) -> date:
    """The day of the injection. A partial date from elsewhere (``2020``, ``2020-05``) is read
    as its first day; an ``occurrenceString`` as the earliest day (it counts for nothing)."""
    text = str(body.get("occurrenceDateTime", ""))[:10]
    padded = {4: text + "-01-01", 7: text + "-01"}.get(len(text), text)
    try:
        return date.fromisoformat(padded)
    except ValueError:
        return date.min


def vaccination(stored: StoredResource) -> Vaccination:
    """Read an Immunization as the portal and the schedule use it (lenient with resources that
    came from elsewhere: an unknown vaccine keeps its text and ATC code)."""
    body: dict[str, Any] = orjson.loads(stored.body)
    concept = body.get("vaccineCode", {})
    code = _coding(concept, VACCINE_SYSTEM)
    vaccine = referential().vaccine(code)
    text = str(concept.get("text") or code or "?")
    dose = _extension(body, DOSE_TYPE_EXTENSION).get("valueCoding") or {}
    dose_code = dose.get("code") if dose.get("system") == ACT_CODE else None
    performers = body.get("performer", [])
    notes = body.get("note", [])
    return Vaccination(
        id=stored.id,
        vaccine=vaccine.code if vaccine else "",
        vaccine_label=vaccine.label if vaccine else Label(text, text),
        atc=vaccine.atc if vaccine else _coding(concept, ATC_SYSTEM),
        diseases=(vaccine.diseases if vaccine else ()) or _diseases(body),
        occurred_on=_occurrence(body),
        dose_type=_DOSE_TYPES.get(str(dose_code), DoseType.OTHER),
        lot_number=str(body.get("lotNumber", "")),
        performer=str(performers[0].get("actor", {}).get("display", "")) if performers else "",
        comment=str(notes[0].get("text", "")) if notes else "",
        validated=_extension(body, VALIDATED_EXTENSION).get("valueBoolean") is True,
        entered_by_patient=body.get("primarySource") is False,
        version=stored.version,
    )
