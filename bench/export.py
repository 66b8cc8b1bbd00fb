"""A bulk export of a million resources: the exporting process's peak memory and throughput.

    python bench/export.py --db sqlite|postgres [--resources 1000000] [--patients 1000]

Seeds ``--patients`` patients, each with one Observation written through the repository (the
real write path: validation, sealing, indexing, audit), then clones those rows up to
``--resources`` resources in large transactions: each clone has its own id and body, sealed
with its patient's data key exactly as the repository seals (index rows and creation audit
events are not written: the export reads neither). Then, against a real ``carnet serve`` whose
in-server worker is off: ``GET $export`` (kick-off over HTTP), the export run by
``carnet jobs run`` in a child process (its peak RSS is the figure: ``ru_maxrss`` from wait4),
the manifest, and every file downloaded over HTTP with httpx2, streamed (the server's VmHWM).
Target (2-core machine): peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from typing import Any

import httpx2
import orjson
from sqlalchemy import insert, select

from carnet.core.ids import new_id
from carnet.record import models
from carnet.record.door import sealing_context
from common import build, fresh_database, machine, running_server, temp_dir

_BATCH = 5_000


def _observation(patient_id: str, resource_id: str, value: float, stamp: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "meta": {"versionId": "1", "lastUpdated": stamp},
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2025-03-04T10:15:00+01:00",
        "valueQuantity": {
            "value": value,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }


def seed(rt: Any, patients: int, resources: int) -> float:
    """Write the patients and their first Observation through the repository, then clone."""
    started = time.perf_counter()
    ids = [new_id() for _ in range(patients)]
    with rt.carnet_repository() as repo:
        for patient_id in ids:
            repo.update(
                "Patient",
                patient_id,
                {"resourceType": "Patient", "id": patient_id, "gender": "female"},
            )
            first = _observation(patient_id, "-", 70.0, "-")
            del first["id"], first["meta"]
            repo.create(first)
    clones = resources - 2 * patients
    with rt.transaction(readonly=True) as db:
        first_row = db.execute(
            select(models.resource).where(models.resource.c.resource_type == "Observation").limit(1)
        ).one()
    template = first_row._asdict()
    del template["key"]
    reference_hash = _reference_hash()
    written = 0
    while written < clones:
        rows = []
        with rt.transaction() as db:
            now = rt.clock.now()
            stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            for i in range(min(_BATCH, clones - written)):
                patient_id = ids[(written + i) % patients]
                resource_id = new_id()
                key = rt.storage.data_key(db, owner_id=patient_id)
                plain = orjson.dumps(
                    _observation(patient_id, resource_id, 50 + (written + i) % 50, stamp)
                )
                row = template | {
                    "id": resource_id,
                    "patient_id": patient_id,
                    "last_updated": now,
                    "body": key.seal(plain, sealing_context("Observation", resource_id, 1)),
                    "indexed": 0,
                }
                if reference_hash is not None and "ref_hash" in row:
                    row["ref_hash"] = reference_hash("Observation", resource_id)
                rows.append(row)
            db.execute(insert(models.resource), rows)
        written += len(rows)
    return time.perf_counter() - started


def _reference_hash() -> Any:
    try:
        from carnet.record.hashes import reference_hash  # noqa: PLC0415 - only when it exists
    except ImportError:
        return None
    return reference_hash


def run_export_worker(rt: Any, url: str) -> tuple[float, int]:
    """``carnet jobs run`` in a child process; its wall time and peak RSS (KiB)."""
    env = {
        **os.environ,
        "CARNET_ENVIRONMENT": "test",
        "CARNET_DATA_DIR": str(rt.settings.data_dir),
        "CARNET_DATABASE__URL": url,
        "CARNET_LOGGING__LEVEL": "WARNING",
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "carnet", "jobs", "run"], env=env, stdout=subprocess.DEVNULL
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.exit(f"carnet jobs run failed ({status})")
    return elapsed, usage.ru_maxrss


def vm_hwm_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: PTH123, SIM115
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--patients", type=int, default=1_000)
    args = parser.parse_args()
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        seconds = seed(rt, args.patients, args.resources)
        print(f"machine: {machine()}")
        print(f"database: {args.db}; {args.resources:,} resources seeded in {seconds:.0f} s")
        env = {"CARNET_JOBS__WORKER_IN_SERVER": "false"}
        with running_server(rt, url, extra_env=env) as server:
            auth = {"Authorization": f"Bearer {server.token}"}
            kick = httpx2.get(
                f"{server.base}/fhir/$export",
                headers={**auth, "Prefer": "respond-async", "Accept": "application/fhir+json"},
            )
            assert kick.status_code == 202, kick.text
            status_url = kick.headers["content-location"]
            elapsed, peak_kib = run_export_worker(rt, url)
            manifest = httpx2.get(status_url, headers=auth).json()
            exported = sum(item["count"] for item in manifest["output"])
            print(
                f"export ({len(manifest['output'])} files): {exported:,} resources in {elapsed:.1f} s "
                f"= {exported / elapsed:,.0f} resources/s (carnet jobs run, whole process)"
            )
            print(f"export worker peak RSS: {peak_kib / 1024:.0f} MiB (target < 300 MiB)")
            before = vm_hwm_kib(server.process.pid)
            started, lines, size = time.perf_counter(), 0, 0
            for item in manifest["output"]:
                with httpx2.stream("GET", item["url"], headers=auth, timeout=600) as response:
                    for chunk in response.iter_bytes():
                        lines += chunk.count(b"\n")
                        size += len(chunk)
            took = time.perf_counter() - started
            assert lines == exported, (lines, exported)
            print(
                f"download: {lines:,} lines, {size / 2**20:,.0f} MiB in {took:.1f} s = "
                f"{lines / took:,.0f} resources/s; server VmHWM {before / 1024:.0f} -> "
                f"{vm_hwm_kib(server.process.pid) / 1024:.0f} MiB"
            )
        rt.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
