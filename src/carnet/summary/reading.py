"""Reading a summary's content through the Repository: who the person is, and each chosen
section's lines. Only what the Repository returns to the actor is used; a Patient the actor may
not read is ``NotFound``, as if it did not exist."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from carnet.record.service import Repository, SearchLimits
from carnet.summary import describe
from carnet.summary.describe import Resource
from carnet.summary.schemas import Identity, Section, SectionContent, SectionState
from carnet.summary.sources import LIST_EMPTY_NILKNOWN, SOURCES, UNCONCERNED_CODES, Source

INS_SYSTEMS = ("urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.10")
"""INS-NIR, production and test: the identifier printed on the summary."""


def fetch(repo: Repository, source: Source, patient_id: str) -> tuple[list[Resource], bool]:
    """The resources a source finds in the patient's compartment, newest first, and whether
    more exist than were read."""
    params = (("patient", patient_id), *source.params, ("_count", str(source.limit)))
    limits = SearchLimits(default_count=source.limit, max_count=max(source.limit, 1000))
    result = repo.search(source.resource_type, params, limits=limits)
    found = [orjson.loads(match.body) for match in result.matches]
    kept = [r for r in found if source.keep(r)]
    if source.latest_per_code:
        return latest_per_code(kept), False
    return kept, result.next_cursor is not None


def latest_per_code(resources: Iterable[Resource]) -> list[Resource]:
    """The first resource (the newest, as sorted) of each ``code``."""
    seen: set[str] = set()
    latest = []
    for resource in resources:
        key = "|".join(sorted(describe.codes(resource.get("code")))) or describe.concept(
            resource.get("code")
        )
        if key not in seen:
            seen.add(key)
            latest.append(resource)
    return latest


def identity(patient: Resource) -> Identity:
    ins = next(
        (
            str(i.get("value", ""))
            for i in patient.get("identifier") or []
            if i.get("system") in INS_SYSTEMS
        ),
        "",
    )
    return Identity(
        name=describe.human_name(patient.get("name")),
        birth_date=describe.day(patient.get("birthDate")),
        gender=describe.gender(patient.get("gender")),
        ins=ins,
    )


def read_patient(repo: Repository, patient_id: str) -> Resource:
    """The Patient resource (``NotFound`` when absent or refused)."""
    stored = repo.read("Patient", patient_id)
    patient: Resource = orjson.loads(stored.body)
    return patient


def unconcerned(repo: Repository, patient_id: str) -> set[Section]:
    """The sections the person declared "not concerned" (a ``List`` with ``emptyReason``
    nilknown, coded by the section)."""
    params = [("patient", patient_id), ("empty-reason", LIST_EMPTY_NILKNOWN), ("_count", "100")]
    result = repo.search("List", params)
    declared: set[Section] = set()
    for match in result.matches:
        body = orjson.loads(match.body)
        if body.get("entry"):
            continue  # items were added since: no longer "not concerned"
        found = set(describe.codes(body.get("code")))
        declared.update(s for s, codes in UNCONCERNED_CODES.items() if found & codes)
    return declared


def professionals(repo: Repository, patient: Resource, patient_id: str) -> list[str]:
    """The person's practitioners: the Patient's (médecin traitant), then their care teams."""
    lines = [
        describe.join(str(ref["display"]), "médecin traitant")
        for ref in patient.get("generalPractitioner") or []
        if isinstance(ref, dict) and ref.get("display")
    ]
    result = repo.search("CareTeam", [("patient", patient_id), ("_count", "50")])
    for match in result.matches:
        lines.extend(describe.care_team(orjson.loads(match.body)))
    return lines


def read_sections(
    repo: Repository, *, patient_id: str, sections: Iterable[Section]
) -> tuple[Identity, tuple[SectionContent, ...]]:
    """The person's identity and the content of each section asked, in the sections' order."""
    patient = read_patient(repo, patient_id)
    chosen = [s for s in Section if s in set(sections)]
    declared = unconcerned(repo, patient_id) if set(chosen) & set(UNCONCERNED_CODES) else set()
    contents = []
    for section in chosen:
        lines: list[str] = []
        truncated = False
        if section is Section.HEALTH_PROFESSIONALS:
            lines = professionals(repo, patient, patient_id)
        for source in SOURCES[section]:
            found, more = fetch(repo, source, patient_id)
            lines.extend(line for line in map(source.describe, found) if line)
            truncated = truncated or more
        state: SectionState
        if lines:
            state = "items"
        else:
            state = "unconcerned" if section in declared else "empty"
        contents.append(SectionContent(section, tuple(lines), state, truncated))
    return identity(patient), tuple(contents)
