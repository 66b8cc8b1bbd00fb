"""The demo population: a professional directory and patients with their records.

Public API: ``generate_directory``, ``generate_patients``, ``DemoDirectory``, ``DemoPatient``.
Patient *i* of a seed depends only on (seed, i, reference date, directory): its random stream
is derived from them alone, so it is the same whatever ``count`` and ``start`` are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Final

from carnet.demo.clinical import (
    Problem,
    allergies,
    draw_conditions,
    medication_statement,
    problem,
)
from carnet.demo.context import (
    RECORD_FROM,
    REFERENCE_DATE,
    PatientContext,
    Resource,
    add_years,
    make_rng,
    new_id,
)
from carnet.demo.directory import (
    BIOLOGY,
    GP,
    PAEDIATRICS,
    DirectoryIndex,
    Staff,
    generate_directory,
)
from carnet.demo.documents import LabPanel, document_resources, plan_documents
from carnet.demo.encounters import Planner
from carnet.demo.observations import LABS, Growth, lab_result
from carnet.demo.person import draw_person, patient_resource
from carnet.demo.schemas import DemoDirectory, DemoPatient
from carnet.demo.vaccination import immunizations

__all__ = [
    "MAX_RESOURCES",
    "REFERENCE_DATE",
    "DemoDirectory",
    "DemoPatient",
    "generate_directory",
    "generate_patients",
]

# Records stay small enough to read in a demo: at most this many resources besides the Patient
# (the oldest vital signs give way first).
MAX_RESOURCES: Final = 40
MAX_LONG_TERM_TREATMENTS: Final = 4
# Which condition makes a laboratory result abnormal.
_LAB_CAUSES: Final = {
    "glucose": {"diabetes2"},
    "hba1c": {"diabetes2"},
    "cholesterol": {"hypercholesterolaemia"},
    "ldl": {"hypercholesterolaemia"},
    "hdl": {"hypercholesterolaemia"},
    "tsh": {"hypothyroidism"},
    "creatinine": {"heart_failure"},
}


def generate_patients(
    count: int,
    *,
    seed: int,
    directory: DemoDirectory,
    start: int = 0,
    reference_date: date = REFERENCE_DATE,
    documents: bool = True,
) -> Iterator[DemoPatient]:
    """Patients ``start`` … ``start + count − 1`` of ``seed``, one at a time.

    ``directory`` must be the one ``generate_directory`` made (patients reference its
    practitioners and organisations). With ``documents=False`` the PDF documents are left
    out (they are most of the generation time); everything else is identical.
    """
    if count < 0 or start < 0:
        raise ValueError("count and start must not be negative")
    index = DirectoryIndex.of(directory)
    for number in range(start, start + count):
        yield _patient(number, seed, index, reference_date, with_documents=documents)


def _problems(ctx: PatientContext, recorder: Resource) -> list[Problem]:
    found = []
    for spec in draw_conditions(ctx):
        made = problem(ctx, spec, recorder)
        if made is not None:
            found.append(made)
    return found


def _long_term_treatments(ctx: PatientContext, chronic: list[Problem], gp: Resource) -> None:
    made = 0
    for item in chronic:
        medicines = item.spec.medicines
        if not medicines or made >= MAX_LONG_TERM_TREATMENTS:
            continue
        medication_statement(ctx, medicines[0], item, gp)
        made += 1
        if len(medicines) > 1 and ctx.rng.random() < 0.3 and made < MAX_LONG_TERM_TREATMENTS:
            medication_statement(ctx, medicines[1], item, gp)
            made += 1


def _lab_panel(
    ctx: PatientContext, index: DirectoryIndex, problems: list[Problem]
) -> LabPanel | None:
    if ctx.age < 18:
        return None
    active = {item.spec.key for item in problems if item.abatement is None}
    wanted = {key for item in problems if item.abatement is None for key in item.spec.labs}
    if ctx.age >= 40 and ctx.rng.random() < 0.5:
        wanted |= {"glucose", "cholesterol"}
    if not wanted:
        return None
    staff = index.pick(ctx.rng, ctx.department, specialty=BIOLOGY)
    since = max(add_years(ctx.reference_date, -2), RECORD_FROM)
    day = ctx.random_day(since, ctx.reference_date - timedelta(days=1))
    when = ctx.stamp(day, ctx.rng.choice((8, 9)))
    results = tuple(
        lab_result(
            ctx,
            key,
            abnormal=bool(_LAB_CAUSES[key] & active) and ctx.rng.random() < 0.8,
            when=when,
            laboratory=staff.organization,
        )
        for key in LABS
        if key in wanted
    )
    return LabPanel(day, when, staff, results)


def _trim(ctx: PatientContext, planner: Planner, budget: int) -> None:
    """Drop the oldest vital signs until the record fits ``budget`` (nothing references them)."""
    excess = len(ctx.resources) - budget
    if excess <= 0:
        return
    vitals = sorted(
        (r for r in ctx.resources if r["resourceType"] == "Observation" and "encounter" in r),
        key=lambda r: r["effectiveDateTime"],
    )
    dropped = {r["id"] for r in vitals[:excess]}
    ctx.resources[:] = [r for r in ctx.resources if r["id"] not in dropped]
    for visit in planner.visits:
        visit.observations[:] = [r for r in visit.observations if r["id"] not in dropped]


def _visits(
    ctx: PatientContext, index: DirectoryIndex, gp: Staff, problems: list[Problem]
) -> Planner:
    chronic = [item for item in problems if item.spec.chronic]
    obese = any(item.spec.key == "obesity" for item in problems)
    planner = Planner(ctx, index, gp, Growth.draw(ctx, obese=obese))
    if ctx.age < 18:
        planner.child_exams()
    for item in problems:
        if not item.spec.chronic:
            planner.acute(item)
    if ctx.age >= 18:
        planner.follow_up(chronic)
        planner.specialists(chronic)
    planner.hospital(chronic)
    planner.visits.sort(key=lambda visit: visit.day)
    return planner


def _vaccinations(ctx: PatientContext, index: DirectoryIndex, gp: Staff) -> None:
    child_doctor = gp.practitioner
    if ctx.rng.random() < 0.5:
        child_doctor = index.pick(ctx.rng, ctx.department, specialty=PAEDIATRICS).practitioner
    pharmacist = index.pick(ctx.rng, ctx.department, profession="21").practitioner
    immunizations(ctx, child_doctor=child_doctor, gp=gp.practitioner, pharmacist=pharmacist)


def _patient(
    number: int,
    seed: int,
    index: DirectoryIndex,
    reference_date: date,
    *,
    with_documents: bool,
) -> DemoPatient:
    rng = make_rng(seed, "patient", number)
    person = draw_person(rng, reference_date)
    gp = index.pick(rng, person.home.department, specialty=GP)
    patient = patient_resource(
        rng,
        person,
        patient_id=new_id(rng),
        # Distinct order numbers within every run of 999 consecutive patients keep their
        # INS distinct even when they share sex, birth month and birthplace.
        order=1 + number % 999,
        general_practitioner=gp.practitioner,
        reference_date=reference_date,
    )
    ctx = PatientContext(
        rng, reference_date, person.birth_date, person.sex, patient, person.home.department
    )
    problems = _problems(ctx, gp.practitioner)
    allergies(ctx, gp.practitioner)
    _long_term_treatments(ctx, [item for item in problems if item.spec.chronic], gp.practitioner)
    planner = _visits(ctx, index, gp, problems)
    lab = _lab_panel(ctx, index, problems)
    _vaccinations(ctx, index, gp)
    # Documents draw from their own stream: leaving them out changes nothing else.
    document_rng = make_rng(seed, "patient", number, "documents")
    plans = plan_documents(document_rng, planner.visits, lab, adult=ctx.age >= 18)
    _trim(ctx, planner, MAX_RESOURCES - 2 * len(plans))
    resources = list(ctx.resources)
    if with_documents:
        for plan in plans:
            resources.extend(
                document_resources(
                    document_rng, plan, person=person, patient=patient, record=ctx.resources
                )
            )
    return DemoPatient(patient=patient, resources=tuple(resources), label=person.label)
