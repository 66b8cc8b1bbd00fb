"""The PDF summary (every section) and the IPS Bundle of a 10,000-resource patient, in process.

    python bench/summary_pdf.py --db sqlite|postgres [--resources 10000] [--runs 20]

One patient written through the repository: vital signs (7,000 Observations over 5 codes),
lifestyle observations, conditions (a few disabilities), vaccinations, treatments, stays and
procedures, allergies, family history, contacts, "not concerned" lists; plus a blood group.
Then, as the holder (the Repository decides and audits every search), the PDF of the fourteen
sections and the IPS document Bundle are built ``--runs`` times each (one transaction per run,
as the portal does). Prints p50/p95 and the peak Python memory of one run (tracemalloc).
Target (2-core machine): the PDF under 2 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.core.ids import new_id
from carnet.runtime import Runtime
from carnet.summary import service as summary_service
from carnet.summary.schemas import Section
from common import build, fresh_database, machine, temp_dir

_VITALS = (
    ("29463-7", "Poids", "kg"),
    ("8302-2", "Taille", "cm"),
    ("8867-4", "Fréquence cardiaque", "/min"),
    ("8310-5", "Température", "Cel"),
    ("2345-7", "Glycémie", "mg/dL"),
)
_MIX = (  # (share of the resources, maker)
    (0.70, "vital"),
    (0.05, "social"),
    (0.08, "condition"),
    (0.03, "immunization"),
    (0.03, "medication"),
    (0.03, "encounter"),
    (0.03, "procedure"),
    (0.02, "allergy"),
    (0.02, "family"),
    (0.01, "contact"),
)


def _category(system: str, code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": system, "code": code}]}]


def _make(kind: str, i: int, subject: dict[str, str]) -> dict[str, Any]:
    day = f"{2000 + i % 25}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    obs_cat = "http://terminology.hl7.org/CodeSystem/observation-category"
    if kind in {"vital", "social"}:
        code, text, unit = _VITALS[i % 5] if kind == "vital" else ("72166-2", "Tabac", "")
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": _category(obs_cat, "vital-signs" if kind == "vital" else "social-history"),
            "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": text},
            "subject": subject,
            "effectiveDateTime": day,
        }
        if unit:
            resource["valueQuantity"] = {"value": 40 + i % 50, "unit": unit}
        else:
            resource["valueString"] = "Non-fumeur"
        return resource
    simple: dict[str, dict[str, Any]] = {
        "condition": {
            "resourceType": "Condition",
            "category": _category(
                "http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item"
            )
            + (_category("urn:carnet:profil:categorie", "disability") if i % 20 == 0 else []),
            "code": {"text": f"Maladie {i}"},
            "subject": subject,
            "recordedDate": day,
        },
        "immunization": {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"text": f"Vaccin {i}"},
            "patient": subject,
            "occurrenceDateTime": day,
        },
        "medication": {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": {"text": f"Médicament {i}"},
            "subject": subject,
            "effectiveDateTime": day,
        },
        "encounter": {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "IMP" if i % 3 == 0 else "AMB",
            },
            "subject": subject,
            "period": {"start": day},
        },
        "procedure": {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"text": f"Acte {i}"},
            "subject": subject,
            "performedDateTime": day,
        },
        "allergy": {
            "resourceType": "AllergyIntolerance",
            "code": {"text": f"Allergie {i}"},
            "patient": subject,
        },
        "family": {
            "resourceType": "FamilyMemberHistory",
            "status": "completed",
            "patient": subject,
            "relationship": {"text": "Mère"},
            "condition": [{"code": {"text": f"Maladie {i}"}}],
        },
        "contact": {
            "resourceType": "RelatedPerson",
            "patient": subject,
            "name": [{"family": f"Proche {i}"}],
        },
    }
    return simple[kind]


def _resources(patient_id: str, total: int) -> Iterator[dict[str, Any]]:
    subject = {"reference": f"Patient/{patient_id}"}
    i = 0
    for share, kind in _MIX:
        for _ in range(int(total * share)):
            yield _make(kind, i, subject)
            i += 1
    yield {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "882-1"}],
            "text": "Groupe sanguin",
        },
        "subject": subject,
        "valueCodeableConcept": {"text": "O+"},
    }


def _seed(rt: Runtime, total: int) -> str:
    patient_id = new_id()
    patient = {
        "resourceType": "Patient",
        "id": patient_id,
        "name": [{"family": "Bench", "given": ["Ada"]}],
        "birthDate": "1970-01-01",
    }
    with rt.carnet_repository() as repo:
        repo.update("Patient", patient_id, patient)
    batch: list[dict[str, Any]] = []
    for resource in _resources(patient_id, total):
        batch.append(resource)
        if len(batch) == 500:
            _write(rt, batch)
            batch = []
    _write(rt, batch)
    return patient_id


def _write(rt: Runtime, batch: list[dict[str, Any]]) -> None:
    with rt.carnet_repository() as repo:
        for resource in batch:
            repo.create(rt.record.prepare(resource))


def _timed(runs: int, work: Callable[[], Any]) -> tuple[list[float], int, Any]:
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    work()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return times, peak, result


def _report(name: str, times: list[float], peak: int, extra: str) -> None:
    times.sort()
    p95 = times[max(0, round(len(times) * 0.95) - 1)]
    print(
        f"{name}: p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"peak Python memory {peak / 2**20:.1f} MiB; {extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        started = time.perf_counter()
        patient_id = _seed(rt, args.resources)
        print(f"machine: {machine()}")
        print(
            f"database: {args.db}; one patient with {args.resources:,} resources, seeded in "
            f"{time.perf_counter() - started:.1f} s"
        )
        ctx = AccessContext(actor=Actor(ActorKind.PATIENT, patient_id), patient_id=patient_id)
        now = datetime.now(UTC)

        def pdf() -> bytes:
            with rt.transaction() as db:
                repo = rt.record.repository(db=db, ctx=ctx)
                return summary_service.build_pdf(
                    repo, patient_id=patient_id, sections=list(Section), now=now
                )

        def ips() -> dict[str, Any]:
            with rt.transaction() as db:
                repo = rt.record.repository(db=db, ctx=ctx)
                return summary_service.international_summary(
                    repo, patient_id=patient_id, base_url="https://carnet.example/fhir", now=now
                )

        times, peak, made = _timed(args.runs, pdf)
        _report("PDF, 14 sections", times, peak, f"{len(made) / 1024:.0f} KiB")
        times, peak, bundle = _timed(args.runs, ips)
        _report("IPS Bundle", times, peak, f"{len(bundle['entry'])} entries")
        rt.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
