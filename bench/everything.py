"""Patient/$everything of a 2,000-resource patient through a real `carnet serve`.

    python bench/everything.py --db sqlite|postgres [--requests 200] [--background 200]

Seeds ``--background`` demo patients (so the tables are not the one patient alone), then one
patient written through the repository with 1,900 Observations, 60 Encounters and 39
Conditions (2,000 resources with the Patient), the encounters referencing 10 practitioners and 2
organizations (12 more resources, returned as ``include``). The load generator is a Python
client (httpx2, keep-alive), sequential then 4 concurrent clients; it times whole responses
(the Bundle fully read). Target (2-core machine): p95 < 200 ms for the whole $everything.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2

from carnet.core.ids import new_id
from carnet.demo import service as demo_service
from common import build, fresh_database, machine, running_server, temp_dir

_LOINC = (
    ("29463-7", "Body weight", "kg"),
    ("8867-4", "Heart rate", "/min"),
    ("8310-5", "Body temperature", "Cel"),
)


def _resources(patient_id: str) -> list[dict[str, Any]]:
    subject = {"reference": f"Patient/{patient_id}"}
    doctors = [
        {"resourceType": "Practitioner", "id": new_id(), "name": [{"family": f"Dr {i}"}]}
        for i in range(10)
    ]
    clinics = [
        {"resourceType": "Organization", "id": new_id(), "name": f"Clinique {i}"} for i in range(2)
    ]
    resources: list[dict[str, Any]] = [*doctors, *clinics]
    for i in range(1900):
        code, display, unit = _LOINC[i % 3]
        resources.append(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {
                    "coding": [{"system": "http://loinc.org", "code": code, "display": display}]
                },
                "subject": subject,
                "effectiveDateTime": f"20{10 + i % 15}-0{1 + i % 9}-1{i % 9}T08:00:00+01:00",
                "valueQuantity": {
                    "value": 40 + i % 50,
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": unit,
                },
            }
        )
    resources.extend(
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": subject,
            "participant": [{"individual": {"reference": f"Practitioner/{doctors[i % 10]['id']}"}}],
            "serviceProvider": {"reference": f"Organization/{clinics[i % 2]['id']}"},
        }
        for i in range(60)
    )
    resources.extend(
        {
            "resourceType": "Condition",
            "subject": subject,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(38341003 + i)}]},
        }
        for i in range(39)
    )
    return resources


def seed_patient(rt: Any) -> str:
    patient_id = new_id()
    with rt.carnet_repository() as repo:
        repo.update(
            "Patient", patient_id, {"resourceType": "Patient", "id": patient_id, "gender": "male"}
        )
        for resource in _resources(patient_id):
            if "id" in resource:
                repo.update(resource["resourceType"], resource["id"], resource)
            else:
                repo.create(rt.record.prepare(resource))
    return patient_id


def in_process(rt: Any, patient_id: str, requests: int) -> list[float]:
    """The repository call alone (its own transaction, audit included), without HTTP."""
    times = []
    for i in range(requests + 3):
        started = time.perf_counter()
        with rt.carnet_repository() as repo:
            page = repo.everything(patient_id, count=5000)
        if i >= 3:
            times.append((time.perf_counter() - started) * 1000)
    assert len(page.entries) == 2012
    return times


def timed(client: httpx2.Client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    body = response.content
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text[:300]
    return elapsed, len(body)


def run(base: str, token: str, url: str, requests: int, clients: int) -> tuple[list[float], int]:
    def one_client(n: int) -> tuple[list[float], int]:
        with httpx2.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            for _ in range(3):
                timed(client, url)
            results = [timed(client, url) for _ in range(n)]
        return [r[0] for r in results], results[-1][1]

    with ThreadPoolExecutor(clients) as pool:
        parts = list(pool.map(one_client, [requests // clients] * clients))
    return [t for times, _ in parts for t in times], parts[0][1]


def line(label: str, times: list[float], size: int) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{label:<44} p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   "
        f"max {ordered[-1]:6.1f} ms   ({len(ordered)} requests, {size / 1024:,.0f} KiB each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--background", type=int, default=200)
    args = parser.parse_args()
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        report = demo_service.seed(
            repository=rt.carnet_repository, patients=args.background, seed=7
        )
        patient_id = seed_patient(rt)
        print(f"machine: {machine()}")
        print(
            f"database: {args.db}; {report.resources:,} background resources + one patient of 2,000"
        )
        print(
            line("repository.everything in-process (no HTTP)", in_process(rt, patient_id, 100), 0)
        )
        print("server: carnet serve --workers 1; load: httpx2 (Python), same machine")
        with running_server(rt, url) as server:
            everything = f"/fhir/Patient/{patient_id}/$everything"
            with httpx2.Client(
                base_url=server.base, headers={"Authorization": f"Bearer {server.token}"}
            ) as client:
                bundle = client.get(everything).json()
            assert len(bundle["entry"]) == 2012, len(bundle["entry"])
            assert "next" not in {link["relation"] for link in bundle["link"]}
            for label, path, clients in (
                ("$everything, whole (2,012 entries), 1 client", everything, 1),
                ("$everything, whole (2,012 entries), 4 clients", everything, 4),
                ("$everything?_count=100 (first page), 1 client", f"{everything}?_count=100", 1),
            ):
                times, size = run(server.base, server.token, path, args.requests, clients)
                print(line(label, times, size))
        rt.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
