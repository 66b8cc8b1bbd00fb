"""Treatments and hospitalisations, to FHIR and back.

A treatment is a MedicationStatement (the disease it treats in ``reasonReference``); a stay is
an Encounter of class IMP, an operation a surgical Procedure. A stay's document sits in Carnet's
link extension (Encounter has no element for it), an operation's in ``Procedure.report``.
"""

from __future__ import annotations

from carnet.profile import codes
from carnet.profile.clinical import Links, Resource, base, link_extension, linked, note, note_of
from carnet.profile.dates import date_fields
from carnet.profile.fields import TEXT_MAX, Entry
from carnet.profile.schemas import HospitalKind, Link, PartialDate, ProfileItem, Section


def _period(start: PartialDate | None, end: PartialDate | None) -> Resource:
    period: Resource = {}
    if start is not None:
        period["start"] = start.fhir
    if end is not None:
        period["end"] = end.fhir
    return period


def _references(items: object) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i.get("reference") or "") for i in items if isinstance(i, dict)]


def _first(references: list[str], resource_type: str) -> str:
    return next((r for r in references if r.startswith(f"{resource_type}/")), "")


def build_treatment(entry: Entry, patient_id: str, links: Links) -> Resource:
    name = entry.text("name", required=True)
    dosage = entry.text("dosage")
    start, end = entry.period(start_required=True)
    resource = base("MedicationStatement", patient_id)
    resource |= {
        "status": "completed" if end is not None else "active",
        "category": {
            "coding": [codes.coding(codes.MEDICATION_STATEMENT_CATEGORY, "patientspecified")]
        },
        "medicationCodeableConcept": {"text": name},
        "effectivePeriod": _period(start, end),
    }
    if dosage:
        resource["dosage"] = [{"text": dosage}]
    if links.get("disease"):
        resource["reasonReference"] = [{"reference": links["disease"]}]
    note(resource, entry.text("comment", limit=TEXT_MAX))
    return resource


def read_treatment(body: Resource) -> ProfileItem:
    period = body.get("effectivePeriod") or {}
    start = PartialDate.from_fhir(period.get("start"))
    end = PartialDate.from_fhir(period.get("end"))
    dosages = body.get("dosage") or []
    disease = _first(_references(body.get("reasonReference")), "Condition")
    values = {
        "name": str((body.get("medicationCodeableConcept") or {}).get("text") or ""),
        "dosage": str(dosages[0].get("text") or "") if dosages else "",
        "comment": note_of(body),
        "disease": disease.partition("/")[2],
    }
    values |= date_fields(start, "start") | date_fields(end, "end")
    return ProfileItem(
        id=body["id"],
        section=Section.TREATMENTS,
        resource_type="MedicationStatement",
        label=values["name"],
        detail=values["dosage"],
        start=start,
        end=end,
        links=(Link("disease", disease),) if disease else (),
        values=values,
    )


def build_hospital(entry: Entry, patient_id: str, links: Links) -> Resource:
    kind = HospitalKind(entry.choice("kind", list(HospitalKind)) or HospitalKind.STAY)
    reason = entry.text("reason", required=True)
    place = entry.text("place")
    start, end = entry.period(start_required=True)
    disease, document = links.get("disease", ""), links.get("document", "")
    if kind is HospitalKind.STAY:
        resource = base("Encounter", patient_id)
        resource |= {
            "status": "finished" if end is not None else "in-progress",
            "class": codes.coding(codes.ACT_CODE, "IMP", "inpatient encounter"),
            "period": _period(start, end),
            "reasonCode": [{"text": reason}],
        }
        if place:
            resource["location"] = [{"location": {"display": place}}]
        link_extension(resource, document)
    else:
        resource = base("Procedure", patient_id)
        resource |= {
            "status": "completed",
            "category": {"coding": [codes.coding(codes.SNOMED, codes.SURGICAL_PROCEDURE)]},
            "code": {"text": reason},
            "performedPeriod": _period(start, end),
        }
        if place:
            resource["location"] = {"display": place}
        if document:
            resource["report"] = [{"reference": document}]
    if disease:
        resource["reasonReference"] = [{"reference": disease}]
    return resource


def read_hospital(body: Resource) -> ProfileItem:
    stay = body["resourceType"] == "Encounter"
    period = body.get("period" if stay else "performedPeriod") or {}
    start = PartialDate.from_fhir(period.get("start"))
    end = PartialDate.from_fhir(period.get("end"))
    if stay:
        reason = str(((body.get("reasonCode") or [{}])[0]).get("text") or "")
        place = str(
            (((body.get("location") or [{}])[0]).get("location") or {}).get("display") or ""
        )
        document = _first(linked(body), "DocumentReference")
    else:
        reason = str((body.get("code") or {}).get("text") or "")
        place = str((body.get("location") or {}).get("display") or "")
        document = _first(_references(body.get("report")), "DocumentReference")
    disease = _first(_references(body.get("reasonReference")), "Condition")
    values = {
        "kind": HospitalKind.STAY if stay else HospitalKind.SURGERY,
        "reason": reason,
        "place": place,
        "disease": disease.partition("/")[2],
        "document": document.partition("/")[2],
    }
    values |= date_fields(start, "start") | date_fields(end, "end")
    links = tuple(
        Link(kind, target)
        for kind, target in (("disease", disease), ("document", document))
        if target
    )
    return ProfileItem(
        id=body["id"],
        section=Section.HOSPITALIZATIONS,
        resource_type=body["resourceType"],
        label=reason,
        detail=place,
        start=start,
        end=end,
        links=links,
        values=values,
    )
