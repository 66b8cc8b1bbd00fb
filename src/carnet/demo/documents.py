"""Clinical documents of a demo patient: a PDF letter (FHIR Binary) and its DocumentReference."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import date
from typing import Final, NamedTuple

from carnet.demo.context import LOINC, Resource, coding, new_id, reference
from carnet.demo.directory import Staff
from carnet.demo.encounters import Visit
from carnet.demo.letters import Letter, render_letter
from carnet.demo.person import Person
from carnet.demo.writing import french_date, letter_body

_CLASS_SYSTEM: Final = (
    "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
)
_CONFIDENTIALITY: Final = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


class DocumentType(NamedTuple):
    loinc: str
    label: str  # JDV_J07 display
    class_code: str  # TRE_A03
    class_label: str
    title: str


DOCUMENT_TYPES: Final = {
    "consultation": DocumentType("11488-4", "CR ou fiche de consultation ou de visite", "10",
                                 "Compte rendu", "Compte rendu de consultation"),
    "child_exam": DocumentType("59283-2", "CR d'examen de l'enfant", "10", "Compte rendu",
                               "Compte rendu d'examen de santé de l'enfant"),
    "lab": DocumentType("11502-2", "CR d'examens biologiques", "10", "Compte rendu",
                        "Résultats d'analyses de biologie médicale"),
    "prescription": DocumentType("57833-6", "Prescription de produits de santé", "42",
                                 "Prescription", "Ordonnance"),
    "discharge": DocumentType("11490-0",
                              "Lettre de liaison à la sortie d'un établissement de soins", "10",
                              "Compte rendu", "Lettre de liaison à la sortie"),
    "emergency": DocumentType("15507-7", "CR de passage aux urgences", "10", "Compte rendu",
                              "Compte rendu de passage aux urgences"),
    "summary": DocumentType("60591-5", "Synthèse médicale", "11", "Synthèse",
                            "Synthèse médicale"),
}  # fmt: skip


@dataclass(frozen=True)
class LabPanel:
    """Laboratory results of one sample, done outside any encounter."""

    day: date
    when: str
    staff: Staff
    results: tuple[Resource, ...]


@dataclass(frozen=True)
class DocumentPlan:
    """A document to write: its kind, author, date and what it reports on."""

    kind: str
    staff: Staff
    day: date
    when: str
    visit: Visit | None = None
    lab: LabPanel | None = None


def plan_documents(
    rng: random.Random, visits: list[Visit], lab: LabPanel | None, *, adult: bool
) -> list[DocumentPlan]:
    """Which documents this patient's record holds (one to three; hospital letters first)."""
    hospital: list[DocumentPlan] = []
    others: list[DocumentPlan] = []
    for visit in visits:
        when = visit.encounter["period"]["end"]
        if visit.kind in {"inpatient", "emergency"}:
            kind = "discharge" if visit.kind == "inpatient" else "emergency"
            hospital.append(DocumentPlan(kind, visit.staff, visit.end_day, when, visit))
    consulted = [v for v in visits if v.kind in {"gp", "acute", "specialist", "child_exam"}]
    if consulted:
        last = consulted[-1]
        kind = "child_exam" if last.kind == "child_exam" else "consultation"
        others.append(
            DocumentPlan(kind, last.staff, last.day, last.encounter["period"]["end"], last)
        )
    prescribing = [v for v in visits if v.prescriptions]
    if prescribing:
        last = prescribing[-1]
        when = last.encounter["period"]["start"]
        others.append(DocumentPlan("prescription", last.staff, last.day, when, last))
    if lab is not None:
        others.append(DocumentPlan("lab", lab.staff, lab.day, lab.when, lab=lab))
    gp_visits = [v for v in visits if v.kind == "gp" and len(v.problems) >= 2]
    if adult and gp_visits:
        last = gp_visits[-1]
        others.append(
            DocumentPlan("summary", last.staff, last.day, last.encounter["period"]["end"], last)
        )
    rng.shuffle(others)
    wanted = 1 + (rng.random() < 0.5) + (adult and rng.random() < 0.3)
    return (hospital + others)[: max(wanted, len(hospital))]


def _organization_lines(organization: Resource) -> tuple[str, ...]:
    address = organization["address"][0]
    return (
        organization["name"],
        address["line"][0],
        f"{address['postalCode']} {address['city']}",
        f"Tél. {organization['telecom'][0]['value']}",
    )


def _author_lines(practitioner: Resource) -> tuple[str, ...]:
    name = practitioner["name"][0]
    prefix = " ".join(name.get("prefix", []))
    full = f"{prefix} {name['given'][0]} {name['family']}".strip()
    qualification = practitioner["qualification"][-1]["code"]["coding"][0]["display"]
    rpps = practitioner["identifier"][1]["value"]
    return (full, qualification, f"RPPS {rpps}")


def _patient_lines(person: Person, ins: str) -> tuple[str, ...]:
    born = "Née" if person.sex == "female" else "Né"
    family = person.family.upper()
    if person.used_family:
        family = f"{person.used_family.upper()} (nom de naissance : {family})"
    return (
        f"Patient{'e' if person.sex == 'female' else ''} : {family} {' '.join(person.given)}",
        f"{born} le {person.birth_date.strftime('%d/%m/%Y')}",
        f"INS (matricule de test) : {ins}",
    )


def _pdf(plan: DocumentPlan, person: Person, patient: Resource, record: list[Resource]) -> bytes:
    organization = plan.staff.organization
    author = _author_lines(plan.staff.practitioner)
    paragraphs, table = letter_body(plan, sex=person.sex, record=record)
    letter = Letter(
        title=DOCUMENT_TYPES[plan.kind].title,
        organization=_organization_lines(organization),
        author=author,
        place_and_date=f"{organization['address'][0]['city']}, le {french_date(plan.day)}",
        patient=_patient_lines(person, patient["identifier"][0]["value"]),
        paragraphs=paragraphs,
        table=table,
        signature=author[0],
    )
    return render_letter(letter)


def _sha1_base64(data: bytes) -> str:
    # FHIR defines Attachment.hash as the base64 of the SHA-1 of the data.
    return base64.b64encode(hashlib.sha1(data).digest()).decode("ascii")  # noqa: S324


def _document_reference(
    plan: DocumentPlan, ids: tuple[str, str, str], pdf: bytes, patient: Resource
) -> Resource:
    reference_id, binary_id, master_id = ids
    doc_type = DOCUMENT_TYPES[plan.kind]
    document: Resource = {
        "resourceType": "DocumentReference",
        "id": reference_id,
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{master_id}"},
        "status": "current",
        "type": {"coding": [coding(LOINC, doc_type.loinc, doc_type.label)]},
        "category": [
            {"coding": [coding(_CLASS_SYSTEM, doc_type.class_code, doc_type.class_label)]}
        ],
        "subject": reference(patient),
        "date": plan.when,
        "author": [reference(plan.staff.practitioner)],
        "custodian": reference(plan.staff.organization),
        "description": doc_type.title,
        "securityLabel": [{"coding": [coding(_CONFIDENTIALITY, "N", "normal")]}],
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": "fr-FR",
                    "url": f"Binary/{binary_id}",
                    "size": len(pdf),
                    "hash": _sha1_base64(pdf),
                    "title": doc_type.title,
                    "creation": plan.when,
                }
            }
        ],
    }
    if plan.visit is not None:
        period = plan.visit.encounter["period"]
        document["context"] = {
            "encounter": [reference(plan.visit.encounter)],
            "period": {"start": period["start"], "end": period["end"]},
        }
    return document


def document_resources(
    rng: random.Random,
    plan: DocumentPlan,
    *,
    person: Person,
    patient: Resource,
    record: list[Resource],
) -> tuple[Resource, Resource]:
    """The DocumentReference of ``plan`` and the Binary holding its PDF (in that order: the
    Binary's securityContext points at the DocumentReference). ``record`` is the rest of the
    patient's record, which a summary lists."""
    pdf = _pdf(plan, person, patient, record)
    ids = (new_id(rng), new_id(rng), new_id(rng))
    binary: Resource = {
        "resourceType": "Binary",
        "id": ids[1],
        "contentType": "application/pdf",
        "securityContext": {"reference": f"DocumentReference/{ids[0]}"},
        "data": base64.b64encode(pdf).decode("ascii"),
    }
    return _document_reference(plan, ids, pdf, patient), binary
