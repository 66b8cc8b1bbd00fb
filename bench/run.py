"""Run every benchmark of bench/ on SQLite and PostgreSQL and print their figures.

    python bench/run.py [--quick]

Needs wrk (sudo apt-get install wrk) and, for the PostgreSQL runs, a server reachable at
CARNET_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test, where each
benchmark creates and drops its own database). Record the output in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    quick = "--quick" in sys.argv
    runs = []
    for db in ("sqlite", "postgres"):
        runs += [
            ["fhir_crud.py", "--db", db, "--seconds", "5" if quick else "15"],
            ["audit_verify.py", "--db", db, "--events", "100000" if quick else "1000000"],
            ["storage_bytes.py", "--db", db, "--patients", "100" if quick else "500"],
            ["storage_bytes.py", "--db", db, "--synthea", "--bundles", "10" if quick else "50"],
            ["search_mix.py", "--db", db, "--seconds", "5" if quick else "15"],
            ["bundle_import.py", "--db", db, "--bundles", "10" if quick else "50"],
            ["everything.py", "--db", db, "--requests", "40" if quick else "200"],
            ["export.py", "--db", db, "--resources", "100000" if quick else "1000000"],
            ["enrollment_import.py", "--db", db, "--lines", "100000" if quick else "1000000"],
        ]
    runs.append(["encryption_cost.py"])
    runs.append(["portal_pages.py", "--seconds", "5" if quick else "10"])
    failed = 0
    for args in runs:
        print(f"\n$ python bench/{' '.join(args)}", flush=True)
        failed += (
            subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]], check=False).returncode
            != 0
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
