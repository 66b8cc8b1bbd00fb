"""Read by id and create through a real `carnet serve`, at concurrency 16, with wrk.

    python bench/fhir_crud.py --db sqlite|postgres [--patients 200] [--workers 2] [--seconds 15]

Prints throughput and p50/p99 for: the trivial Starlette endpoint of the same server (the
ceiling), FHIR read by id (each with its audit event), FHIR create (validation, indexing,
encryption, audit). Targets (2-core machine): read >= 1,500/s with p99 < 50 ms; create >= 500/s.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from carnet.demo import service as demo_service
from carnet.demo.population import generate_directory, generate_patients
from common import build, fresh_database, machine, running_server, temp_dir, wrk

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--patients", type=int, default=200)
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
        ids = [
            f"{r['resourceType']}/{r['id']}"
            for person in generate_patients(args.patients, seed=7, directory=directory)
            for r in (person.patient, *person.resources)
            if r["resourceType"] != "Binary"
        ]
        patients = [i for i in ids if i.startswith("Patient/")]
        (work / "ids.txt").write_text("\n".join(ids) + "\n")
        (work / "patients.txt").write_text("\n".join(patients) + "\n")
        print(f"machine: {machine()}")
        print(
            f"database: {args.db}; {report.resources:,} resources seeded in {seeded:.1f} s "
            f"({report.resources / seeded:,.0f}/s in-process, one transaction per patient)"
        )
        print(
            f"server: carnet serve --workers {args.workers}; load: wrk -t2 -c{args.connections} "
            f"-d{args.seconds}s (same machine)"
        )
        with running_server(rt, url, workers=args.workers) as server:
            env = {"TOKEN": server.token, "IDS_FILE": str(work / "ids.txt")}
            wrk(f"{server.base}/healthz", seconds=3)  # warm-up
            ceiling = wrk(
                f"{server.base}/healthz", seconds=args.seconds, connections=args.connections
            )
            wrk(server.base, script=HERE / "wrk_read.lua", env=env, seconds=3)
            reads = wrk(
                server.base,
                script=HERE / "wrk_read.lua",
                env=env,
                seconds=args.seconds,
                connections=args.connections,
            )
            env["IDS_FILE"] = str(work / "patients.txt")
            creates = wrk(
                server.base,
                script=HERE / "wrk_create.lua",
                env=env,
                seconds=args.seconds,
                connections=args.connections,
            )
        print(ceiling.line("trivial Starlette endpoint"))
        print(reads.line("FHIR read by id (+audit)"))
        print(creates.line("FHIR create (+index, audit)"))
        print(f"read / ceiling: {reads.requests_per_second / ceiling.requests_per_second:.0%}")
        rt.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
