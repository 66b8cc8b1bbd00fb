"""A mix of ten typical patient-scoped searches through a real `carnet serve`, with wrk.

    python bench/search_mix.py --db sqlite|postgres [--patients 300] [--workers 2] [--seconds 15]

Seeds the demo population (``--patients`` patients and the directory), then lists, for every
patient, the ten searches below (``/fhir/...`` paths) and has wrk pick among them at random, at
concurrency 16, with a client-credentials token (system scope: each search is filtered by the
patient it names, and writes its audit event). Target (2-core machine): >= 1,000 searches/s.
Prints the throughput and p50/p99, and how many resources the searches returned on average.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path
from urllib.parse import quote

import httpx2

from carnet.demo import service as demo_service
from carnet.demo.population import generate_directory, generate_patients
from common import build, fresh_database, machine, running_server, temp_dir, wrk

HERE = Path(__file__).resolve().parent
LOINC = "http://loinc.org"
SEARCHES = (
    # A patient's weights over a period.
    "Observation?patient={p}&code="
    + quote(f"{LOINC}|29463-7")
    + "&date=ge2020-01-01&date=le2026-12-31",
    # Their latest vital signs.
    "Observation?patient={p}&category=vital-signs&_sort=-date&_count=10",
    # Active problems.
    "Condition?patient={p}&clinical-status=active",
    # Current prescriptions.
    "MedicationRequest?patient={p}&status=active",
    # Vaccinations, newest first.
    "Immunization?patient={p}&_sort=-date",
    # Encounters since 2023.
    "Encounter?patient={p}&date=ge2023-01-01",
    # Consultation reports.
    "DocumentReference?patient={p}&type=" + quote(f"{LOINC}|11488-4"),
    # Allergies.
    "AllergyIntolerance?patient={p}",
    # Weights above 50 kg (a composite: code and value in one Observation).
    "Observation?patient={p}&code-value-quantity=" + quote(f"{LOINC}|29463-7$gt50"),
    # Vital signs with who measured them.
    "Observation?patient={p}&category=vital-signs&_include=Observation:performer&_count=20",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        started = time.perf_counter()
        report = demo_service.seed(repository=rt.carnet_repository, patients=args.patients, seed=7)
        seeded = time.perf_counter() - started
        directory = generate_directory(seed=7)
        patients = [
            p.patient["id"] for p in generate_patients(args.patients, seed=7, directory=directory)
        ]
        urls = [f"/fhir/{search.format(p=p)}" for p in patients for search in SEARCHES]
        random.Random(7).shuffle(urls)
        (work / "urls.txt").write_text("\n".join(urls) + "\n")
        print(f"machine: {machine()}")
        print(f"database: {args.db}; {report.resources:,} demo resources seeded in {seeded:.1f} s")
        print(
            f"server: carnet serve --workers {args.workers}; load: wrk -t2 -c{args.connections} "
            f"-d{args.seconds}s (same machine), {len(urls):,} search URLs ({len(SEARCHES)} per patient)"
        )
        with running_server(rt, url, workers=args.workers) as server:
            headers = {"Authorization": f"Bearer {server.token}"}
            returned = []
            for path in urls[:200]:
                response = httpx2.get(server.base + path, headers=headers)
                assert response.status_code == 200, (path, response.text[:300])
                returned.append(len(response.json().get("entry", [])))
            env = {"TOKEN": server.token, "URLS_FILE": str(work / "urls.txt")}
            wrk(server.base, script=HERE / "wrk_search.lua", env=env, seconds=3)  # warm-up
            mix = wrk(
                server.base,
                script=HERE / "wrk_search.lua",
                env=env,
                seconds=args.seconds,
                connections=args.connections,
            )
        print(f"entries per search (first 200 URLs): {sum(returned) / len(returned):.1f}")
        print(mix.line("FHIR search mix (+audit)"))
        rt.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
