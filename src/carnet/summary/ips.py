"""The International Patient Summary (IPS): a FHIR document Bundle made from the record.

The Bundle (type ``document``) starts with a Composition (LOINC 60591-5) whose sections, each
with a generated narrative, point at the resources the Bundle carries: the Patient, Carnet as
the author (a Device), and what the Repository returned to the caller for each section. The
three sections IPS requires (problems, allergies, medications) are always there, with an
``emptyReason`` when empty; the others only when they hold something.

Stored resources keep their RESTful ``fullUrl`` (``[base]/Type/id``), so their relative
references resolve inside the Bundle; the resources they point at outside the sections
(practitioners, organisations, medications…) are read and carried too, once, and a reference
that still leads nowhere in the Bundle (refused, gone, or of a type not carried) is reduced to
its ``display``: the document stands on its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from carnet.core.errors import ClientError
from carnet.record.service import Repository
from carnet.summary import narrative
from carnet.summary.describe import Resource
from carnet.summary.reading import fetch, read_patient, unconcerned
from carnet.summary.schemas import Section
from carnet.summary.sources import SOURCES, Source

LOINC = "http://loinc.org"
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
DEFINITION = "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"
FOLLOWED = frozenset(
    {"Practitioner", "PractitionerRole", "Organization", "Medication", "Device", "Location"}
)
"""Types of referenced resources carried in the Bundle (the others are reduced to display)."""
MAX_FOLLOWED = 200
_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?$")


@dataclass(frozen=True, slots=True)
class IpsSection:
    code: str
    display: str
    title: str
    sources: tuple[Source, ...]
    required: bool = False
    declared_as: Section | None = None
    """The profile section whose "not concerned" declaration makes it known-empty."""


IPS_SECTIONS: tuple[IpsSection, ...] = (
    IpsSection(
        "11450-4", "Problem list - Reported", "Problèmes de santé",
        SOURCES[Section.DISEASES] + SOURCES[Section.DISABILITIES],
        required=True, declared_as=Section.DISEASES,
    ),
    IpsSection(
        "48765-2", "Allergies and adverse reactions Document", "Allergies et intolérances",
        SOURCES[Section.ALLERGIES], required=True, declared_as=Section.ALLERGIES,
    ),
    IpsSection(
        "10160-0", "History of Medication use Narrative", "Traitements",
        SOURCES[Section.TREATMENTS], required=True, declared_as=Section.TREATMENTS,
    ),
    IpsSection(
        "11369-6", "History of Immunization Narrative", "Vaccinations",
        SOURCES[Section.VACCINES],
    ),
    IpsSection("8716-3", "Vital signs", "Signes vitaux", SOURCES[Section.MEASURES]),
    IpsSection(
        "47519-4", "History of Procedures Document", "Actes et interventions",
        SOURCES[Section.HOSPITALIZATIONS][1:],
    ),
    IpsSection(
        "42348-3", "Advance healthcare directives", "Directives anticipées",
        SOURCES[Section.WISHES][:2],  # consents and directives, not the donation statement
    ),
    IpsSection(
        "29762-2", "Social history Narrative", "Habitudes de vie", SOURCES[Section.LIFESTYLES]
    ),
)  # fmt: skip


def _instant(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _key(resource: Resource) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def _coded(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _section(
    spec: IpsSection, found: list[Resource], more: bool, base_url: str, known_empty: bool
) -> dict[str, Any]:
    section: dict[str, Any] = {
        "title": spec.title,
        "code": _coded(LOINC, spec.code, spec.display),
        "text": {"status": "generated", "div": narrative.section_div(spec, found, more)},
    }
    if found:
        section["entry"] = [{"reference": f"{base_url}/{_key(r)}"} for r in found]
        return section
    reason = ("nilknown", "Nil Known") if known_empty else ("unavailable", "Unavailable")
    section["text"]["div"] = narrative.empty_div(known_empty=known_empty)
    section["emptyReason"] = _coded(EMPTY_REASON, *reason)
    return section


def _references(value: Any) -> Iterator[dict[str, Any]]:
    """Every Reference-like object (a dict with ``reference``) inside a resource."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value
        for child in value.values():
            yield from _references(child)
    elif isinstance(value, list):
        for child in value:
            yield from _references(child)


def _carry_referenced(repo: Repository, carried: dict[str, Resource]) -> None:
    """Read the practitioners, organisations… that carried resources point at (one level)."""
    wanted: list[str] = []
    for resource in list(carried.values()):
        for ref in _references(resource):
            match = _RELATIVE.match(ref["reference"])
            if match and match.group(1) in FOLLOWED:
                key = f"{match.group(1)}/{match.group(2)}"
                if key not in carried and key not in wanted:
                    wanted.append(key)
    for key in wanted[:MAX_FOLLOWED]:
        resource_type, resource_id = key.split("/")
        try:
            stored = repo.read(resource_type, resource_id)
        except ClientError:
            continue  # refused or gone: reduced to its display below
        carried[key] = orjson.loads(stored.body)


def _cut_dangling(carried: dict[str, Resource]) -> None:
    """Reduce references that lead nowhere in the Bundle to their display."""
    for resource in carried.values():
        for ref in _references(resource):
            match = _RELATIVE.match(ref["reference"])
            if match and f"{match.group(1)}/{match.group(2)}" in carried:
                ref["reference"] = f"{match.group(1)}/{match.group(2)}"
                continue
            if ref["reference"].startswith("#"):
                continue  # a contained resource
            del ref["reference"]
            ref.setdefault("display", "Non disponible")


def _author(bundle_id: str) -> tuple[str, Resource]:
    full_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'carnet:device:' + bundle_id)}"
    device = {
        "resourceType": "Device",
        "deviceName": [{"name": "Carnet", "type": "manufacturer-name"}],
        "manufacturer": "Carnet",
    }
    return full_url, device


def _gather(repo: Repository, spec: IpsSection, patient_id: str) -> tuple[list[Resource], bool]:
    """A section's resources (each once) and whether some were left out."""
    found: dict[str, Resource] = {}
    more = False
    for source in spec.sources:
        resources, truncated = fetch(repo, source, patient_id)
        found.update((_key(r), r) for r in resources if _key(r) not in found)
        more = more or truncated
    return list(found.values()), more


def build_ips(repo: Repository, *, patient_id: str, base_url: str, now: datetime) -> dict[str, Any]:
    """The IPS document Bundle of ``patient_id`` as the repository's actor may see it
    (``NotFound`` when the Patient is absent or refused)."""
    patient = read_patient(repo, patient_id)
    declared = unconcerned(repo, patient_id)
    carried: dict[str, Resource] = {_key(patient): patient}
    sections = []
    for spec in IPS_SECTIONS:
        found, more = _gather(repo, spec, patient_id)
        if not found and not spec.required:
            continue
        carried.update((_key(r), r) for r in found)
        sections.append(_section(spec, found, more, base_url, spec.declared_as in declared))
    _carry_referenced(repo, carried)
    _cut_dangling(carried)
    bundle_id = str(uuid.uuid4())
    author_url, device = _author(bundle_id)
    composition = {
        "resourceType": "Composition",
        "status": "final",
        "type": _coded(LOINC, "60591-5", "Patient summary Document"),
        "subject": {"reference": f"{base_url}/{_key(patient)}"},
        "date": _instant(now),
        "author": [{"reference": author_url, "display": "Carnet"}],
        "title": "Synthèse médicale (International Patient Summary)",
        "confidentiality": "N",
        "section": sections,
    }
    entries = [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": composition},
        {"fullUrl": f"{base_url}/{_key(patient)}", "resource": patient},
        {"fullUrl": author_url, "resource": device},
    ]
    entries.extend(
        {"fullUrl": f"{base_url}/{key}", "resource": resource}
        for key, resource in carried.items()
        if key != _key(patient)
    )
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        "type": "document",
        "timestamp": _instant(now),
        "entry": entries,
    }
