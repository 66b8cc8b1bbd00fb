"""Problems, allergies and medicines of a demo patient."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final, NamedTuple

from carnet.demo.catalog import ALLERGIES, CONDITIONS, MEDICINES, ConditionSpec, MedicineSpec
from carnet.demo.context import (
    ATC,
    ICD10,
    RECORD_FROM,
    SNOMED,
    PatientContext,
    Resource,
    add_years,
    coding,
    concept,
    reference,
)

_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/condition-category"
_ALLERGY_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_ALLERGY_VERIFICATION: Final = (
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
)
_STATEMENT_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/medication-statement-category"
_REQUEST_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"


class Problem(NamedTuple):
    """A condition of the patient: its spec, resource and when it started (and ended)."""

    spec: ConditionSpec
    resource: Resource
    onset: date
    abatement: date | None


def _probability(spec: ConditionSpec, age: int, sex: str) -> float:
    probability = 0.0
    for age_from, value in spec.prevalence:
        if age >= age_from:
            probability = value
    return probability * spec.sex_ratio[0 if sex == "female" else 1]


def draw_conditions(ctx: PatientContext) -> list[ConditionSpec]:
    """The conditions this patient has (had), drawn from age- and sex-specific prevalences."""
    return [spec for spec in CONDITIONS if ctx.rng.random() < _probability(spec, ctx.age, ctx.sex)]


def _onset_window(ctx: PatientContext, spec: ConditionSpec) -> tuple[date, date]:
    ref = ctx.reference_date
    if spec.key == "bronchiolitis":
        return ctx.birth_date + timedelta(days=30), add_years(ctx.birth_date, 2)
    if spec.key == "otitis":
        return max(ctx.birth_date + timedelta(days=180), add_years(ref, -3)), ref
    if not spec.chronic:
        return add_years(ref, -3), ref
    first_age = next(age for age, value in spec.prevalence if value > 0)
    return add_years(ctx.birth_date, first_age), ref - timedelta(days=30)


def problem(ctx: PatientContext, spec: ConditionSpec, recorder: Resource) -> Problem | None:
    """The Condition of ``spec`` for this patient, or None if no onset date fits their age."""
    start, end = _onset_window(ctx, spec)
    end = min(end, ctx.reference_date - timedelta(days=7))
    if end < start:
        return None
    onset = ctx.random_day(start, end)
    abatement = None
    if not spec.chronic:
        abatement = ctx.event_day(onset + timedelta(days=ctx.rng.randint(7, 45)))
    recorded = onset if not spec.chronic else ctx.random_day(max(onset, RECORD_FROM), end)
    resource: Resource = {
        "resourceType": "Condition",
        "id": ctx.new_id(),
        "clinicalStatus": {"coding": [coding(_CLINICAL, "resolved" if abatement else "active")]},
        "verificationStatus": {"coding": [coding(_VERIFICATION, "confirmed")]},
        "category": [{"coding": [coding(_CATEGORY, "problem-list-item", "Problem List Item")]}],
        "code": {
            "coding": [
                coding(SNOMED, spec.snomed, spec.label),
                coding(ICD10, spec.icd10, spec.label),
            ],
            "text": spec.label,
        },
        "subject": ctx.subject,
        "onsetDateTime": onset.isoformat(),
        "recordedDate": recorded.isoformat(),
        "recorder": reference(recorder),
    }
    if abatement is not None:
        resource["abatementDateTime"] = abatement.isoformat()
    return Problem(spec, ctx.add(resource), onset, abatement)


def allergies(ctx: PatientContext, recorder: Resource) -> list[Resource]:
    """The patient's allergies (AllergyIntolerance), drawn from simple prevalences."""
    found = []
    for spec in ALLERGIES:
        if ctx.age < spec.min_age or ctx.rng.random() >= spec.probability:
            continue
        onset_from = max(add_years(ctx.birth_date, spec.min_age), RECORD_FROM)
        recorded = ctx.random_day(onset_from, ctx.reference_date - timedelta(days=1))
        severity = "severe" if spec.criticality == "high" else "mild"
        resource = {
            "resourceType": "AllergyIntolerance",
            "id": ctx.new_id(),
            "clinicalStatus": {"coding": [coding(_ALLERGY_CLINICAL, "active")]},
            "verificationStatus": {"coding": [coding(_ALLERGY_VERIFICATION, "confirmed")]},
            "type": "allergy",
            "category": [spec.category],
            "criticality": spec.criticality,
            "code": concept(SNOMED, spec.snomed, spec.label),
            "patient": ctx.subject,
            "recordedDate": recorded.isoformat(),
            "recorder": reference(recorder),
            "reaction": [
                {
                    "manifestation": [concept(SNOMED, *spec.reaction)],
                    "severity": severity,
                }
            ],
        }
        found.append(ctx.add(resource))
    return found


def _medication(spec: MedicineSpec) -> dict[str, Any]:
    return {"coding": [coding(ATC, spec.atc, spec.atc_label)], "text": spec.text}


def _dosage(spec: MedicineSpec) -> dict[str, Any]:
    frequency, period, unit = spec.timing
    dosage: dict[str, Any] = {
        "text": spec.dosage,
        "timing": {"repeat": {"frequency": frequency, "period": period, "periodUnit": unit}},
    }
    if spec.as_needed:
        dosage["asNeededBoolean"] = True
    if spec.dose is not None:
        value, unit_text = spec.dose
        dosage["doseAndRate"] = [{"doseQuantity": {"value": value, "unit": unit_text}}]
    return dosage


def medication_statement(
    ctx: PatientContext, medicine: str, problem: Problem, informant: Resource
) -> Resource:
    """A MedicationStatement: the patient takes ``medicine`` for ``problem`` (long term)."""
    spec = MEDICINES[medicine]
    start = ctx.event_day(max(problem.onset, RECORD_FROM) + timedelta(days=14))
    asserted = ctx.random_day(start, ctx.reference_date)
    return ctx.add(
        {
            "resourceType": "MedicationStatement",
            "id": ctx.new_id(),
            "status": "active",
            "category": {"coding": [coding(_STATEMENT_CATEGORY, "community", "Community")]},
            "medicationCodeableConcept": _medication(spec),
            "subject": ctx.subject,
            "effectivePeriod": {"start": start.isoformat()},
            "dateAsserted": ctx.stamp(asserted),
            "informationSource": reference(informant),
            "reasonReference": [reference(problem.resource)],
            "dosage": [_dosage(spec)],
        }
    )


def medication_request(
    ctx: PatientContext,
    medicine: str,
    *,
    problem: Problem,
    encounter: Resource,
    requester: Resource,
    authored: str,
    long_term: bool,
) -> Resource:
    """A MedicationRequest (a prescription line) made at ``encounter``."""
    spec = MEDICINES[medicine]
    request: Resource = {
        "resourceType": "MedicationRequest",
        "id": ctx.new_id(),
        "status": "active" if long_term else "completed",
        "intent": "order",
        "category": [{"coding": [coding(_REQUEST_CATEGORY, "community", "Community")]}],
        "medicationCodeableConcept": _medication(spec),
        "subject": ctx.subject,
        "encounter": reference(encounter),
        "authoredOn": authored,
        "requester": reference(requester),
        "reasonReference": [reference(problem.resource)],
        "dosageInstruction": [_dosage(spec)],
    }
    if long_term:
        request["dispenseRequest"] = {
            "numberOfRepeatsAllowed": 2,
            "expectedSupplyDuration": {
                "value": 28,
                "unit": "jours",
                "system": "http://unitsofmeasure.org",
                "code": "d",
            },
        }
    return ctx.add(request)
