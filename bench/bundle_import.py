"""Import transaction bundles: through ``carnet fhir load``, and over HTTP to ``carnet serve``.

    python bench/bundle_import.py --db sqlite|postgres [--via cli|http|both] [--workers 2]
                                  [--connections 4] [--bundles 50]

The bundles are Synthea's (``$CARNET_TESTDATA/synthea-r4/bundles``, every entry a POST with
``urn:uuid`` links) when present, otherwise the demo generator's patients written as
transaction bundles of PUTs. Each run starts from a fresh database.

- ``cli``: ``carnet fhir load DIR --workers N`` in a subprocess; the rate is the loader's own
  (from its first unit to its last, process start-up excluded), and the wall time is printed.
- ``http``: a real ``carnet serve --workers N``; the load generator is this script, posting the
  bundles (``Prefer: return=minimal``) from ``--connections`` threads with httpx2, on the same
  machine.

Also printed: the CPU time of Carnet's own processes per resource (user + system, from
``getrusage``), which other work on the machine does not change the way it changes wall time.
Target (2-core machine): >= 2,000 resources/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from carnet.demo.population import generate_directory, generate_patients
from common import build, fresh_database, machine, running_server, temp_dir

TESTDATA = Path(
    os.environ.get("CARNET_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "testdata")
)


def bundles(limit: int, work: Path) -> tuple[Path, str]:
    """A directory of transaction bundles, and where they come from."""
    synthea = sorted((TESTDATA / "synthea-r4" / "bundles").glob("*.json"))[:limit]
    if synthea:
        return synthea[0].parent if limit >= 50 else _copied(synthea, work), "Synthea"
    directory = work / "bundles"
    directory.mkdir()
    people = generate_patients(limit, seed=7, directory=generate_directory(seed=7))
    for index, person in enumerate(people):
        entries = [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in (person.patient, *person.resources)
        ]
        value = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        (directory / f"{index:04}.json").write_bytes(orjson.dumps(value))
    return directory, "demo generator (PUTs)"


def _copied(paths: list[Path], work: Path) -> Path:
    directory = work / "bundles"
    directory.mkdir()
    for path in paths:
        (directory / path.name).write_bytes(path.read_bytes())
    return directory


def count_entries(directory: Path) -> int:
    return sum(len(orjson.loads(p.read_bytes())["entry"]) for p in directory.glob("*.json"))


def via_cli(url: str, work: Path, directory: Path, workers: int) -> str:
    env = {
        **os.environ,
        "CARNET_ENVIRONMENT": "test",
        "CARNET_DATA_DIR": str(work / "var"),
        "CARNET_DATABASE__URL": url,
        "CARNET_LOGGING__LEVEL": "WARNING",
    }
    cpu = _children_cpu()
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "carnet", "fhir", "load", str(directory), "--workers", str(workers)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    summary = re.search(
        r"(\d+) resources loaded .* in ([\d.]+) s \(([\d,]+) resources/s\)", out.stdout
    )
    if out.returncode != 0 or summary is None:
        return (
            f"carnet fhir load failed ({out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}"
        )
    loaded, seconds, rate = summary.groups()
    return (
        f"carnet fhir load --workers {workers}: {int(loaded):,} resources in {seconds} s "
        f"= {rate} resources/s (wall {wall:.1f} s with process start-up); "
        f"Carnet CPU {cpu:.1f} s = {cpu / int(loaded) * 1000:.2f} ms per resource"
    )


def via_http(rt: object, url: str, directory: Path, workers: int, connections: int) -> str:
    bodies = [p.read_bytes() for p in sorted(directory.glob("*.json"))]
    sizes = [len(orjson.loads(b)["entry"]) for b in bodies]
    cpu = _children_cpu()
    with running_server(rt, url, workers=workers) as server:  # type: ignore[arg-type]
        headers = {
            "Authorization": f"Bearer {server.token}",
            "Content-Type": "application/fhir+json",
            "Prefer": "return=minimal",
        }
        queue = list(range(len(bodies)))
        lock = threading.Lock()
        failures: list[str] = []

        def post_all() -> None:
            with httpx2.Client(base_url=server.base, timeout=300) as client:
                while True:
                    with lock:
                        if not queue:
                            return
                        index = queue.pop()
                    response = client.post("/fhir", content=bodies[index], headers=headers)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        threads = [threading.Thread(target=post_all) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        database_cpu = _postgres_cpu(url)
    total = sum(sizes)
    cpu = _children_cpu() - cpu  # the server's processes, counted once they have exited
    note = f"; {len(failures)} failed: {failures[:1]}" if failures else ""
    return (
        f"HTTP POST /fhir, carnet serve --workers {workers}, {connections} connections: "
        f"{total:,} resources in {seconds:.1f} s = {total / seconds:,.0f} resources/s{note}; "
        f"server CPU {cpu:.1f} s (start-up included) = {cpu / total * 1000:.2f} ms per resource"
        + (
            f"; PostgreSQL CPU {database_cpu:.1f} s = {database_cpu / total * 1000:.2f} ms "
            "per resource"
            if database_cpu is not None
            else ""
        )
    )


def _postgres_cpu(url: str) -> float | None:
    """CPU seconds of the server's PostgreSQL backends so far (same machine, /proc readable)."""
    if not url.startswith("postgresql"):
        return None
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        total = 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += (int(fields[11]) + int(fields[12])) / ticks
    engine.dispose()
    return total


def _children_cpu() -> float:
    """CPU seconds (user + system) of the child processes that have exited so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--via", choices=["cli", "http", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--bundles", type=int, default=50)
    args = parser.parse_args()
    work = temp_dir()
    directory, source = bundles(args.bundles, work)
    total = count_entries(directory)
    print(f"machine: {machine()}")
    print(
        f"database: {args.db}; {len(list(directory.glob('*.json')))} {source} bundles, {total:,} entries"
    )
    if args.via in ("cli", "both"):
        run = work / "cli"
        run.mkdir()
        with fresh_database(args.db, run) as url:
            print(via_cli(url, run, directory, args.workers), flush=True)
    if args.via in ("http", "both"):
        run = work / "http"
        run.mkdir()
        with fresh_database(args.db, run) as url:
            rt = build(url, run / "var")
            print(via_http(rt, url, directory, args.workers, args.connections), flush=True)
            rt.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
