"""Automatic opening: spaces opened per second, time per batch and peak memory.

    python bench/enrollment_open.py [--db postgres|sqlite] [--persons 100000] [--batch 1000]
                                    [--workers 1]

Seeds (not measured) a fresh database with ``--persons`` holders of a synthetic registry,
imported by the registry importer (so each has their data key and sealed entry), then informed
by direct bulk inserts: one campaign, one notice each whose opposition window ended yesterday,
status ``notified``. Then, in a process of its own whose peak RSS the parent reads from
``wait4``, runs the opening job (``Enrollment.opening.open_due``) to its end: each batch claims
its people, opens their sealed entries, builds, validates, indexes and seals their Patient,
writes it through the Repository, records the spaces with their defaults, audits each opening
in the person's chain and queues the "your space is open" e-mail (sending it is the notify
worker's business, not measured here). Prints spaces/s, p50/p99 per batch and the peak RSS; see
docs/benchmarks.md for recorded runs. With ``--workers N``, N such processes run the job at
once, as N ``carnet worker`` processes would: they claim disjoint people (``SKIP LOCKED``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, literal, select, text, update
from sqlalchemy.engine import make_url

from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from common import build, fresh_database, machine, temp_dir


def holders_only(persons: int) -> Iterator[dict[str, str]]:
    """The synthetic file's holders (children are informed through them and not opened)."""
    made = 0
    for row in synthetic_registry(3 * persons, seed=1):
        if row["nir_ouvrant_droit"]:
            continue
        if made == persons:
            return
        made += 1
        yield row


def seed(url: str, work: Path, persons: int) -> None:
    """Registered holders (the real importer), then informed in bulk, windows over."""
    source = work / "registry_synthetic.txt"
    with source.open("w", encoding="utf-8") as handle:
        enrollment_service.write_registry(handle, holders_only(persons))
    rt = build(url, work)
    try:
        enrollment_service.import_registry(
            source=source,
            storage=rt.storage,
            audit=rt.audit,
            transaction=rt.transaction,
            batch_lines=2000,
        )
        now = datetime.now(UTC)
        sent = (now - timedelta(days=43)).date()
        beneficiary, notice = models.beneficiary, models.notice
        with rt.transaction() as db:
            db.execute(
                insert(models.campaign).values(
                    id="bench",
                    kind="initial",
                    departements="all",
                    send_date=sent,
                    opposition_ends=sent + timedelta(days=42),
                    status="finished",
                    emailed=0,
                    letters_due=0,
                    skipped=0,
                    created_by="bench",
                    created_at=now,
                    updated_at=now,
                )
            )
            # The notice's id is the person's id: unique, and no Python loop over a million.
            db.execute(
                insert(notice).from_select(
                    [
                        "id",
                        "campaign_id",
                        "beneficiary_id",
                        "channel",
                        "status",
                        "opposition_ends",
                        "created_at",
                        "updated_at",
                    ],
                    select(
                        beneficiary.c.id,
                        literal("bench"),
                        beneficiary.c.id,
                        literal("email"),
                        literal("queued"),
                        literal(sent + timedelta(days=42)),
                        literal(now),
                        literal(now),
                    ),
                )
            )
            db.execute(update(beneficiary).values(status="notified", status_at=now))
            if db.dialect.name == "postgresql":
                db.exec_driver_sql("ANALYZE")
    finally:
        rt.close()


def child(url: str, data_dir: Path, batch: int, out: Path) -> None:
    """Run the opening job to its end in this process; write the figures to ``out``."""
    rt = build(url, data_dir)
    rt.record.warm_up(frozenset({"Patient"}))
    seconds: list[float] = []
    last = time.perf_counter()

    def tick(_people: int) -> None:
        nonlocal last
        now = time.perf_counter()
        seconds.append(now - last)
        last = now

    try:
        started = time.perf_counter()
        report = rt.enrollment.opening.open_due(rt.transaction, batch=batch, progress=tick)
        wall = time.perf_counter() - started
        with rt.transaction(readonly=True) as db:
            spaces = db.execute(select(func.count()).select_from(models.space)).scalar_one()
    finally:
        rt.close()
    full = sorted(seconds[:-1]) or sorted(seconds)  # the last batch is the short one
    out.write_text(
        json.dumps(
            {
                "seconds": wall,
                "opened": report.opened,
                "emailed": report.emailed,
                "skipped": report.skipped,
                "batches": report.batches,
                "spaces": spaces,
                "p50": statistics.median(full),
                "p99": full[min(len(full) - 1, int(len(full) * 0.99))],
            }
        )
    )


def run_children(url: str, data_dir: Path, batch: int, workers: int) -> dict[str, Any]:
    """Run ``workers`` opening processes at once (they take disjoint people: the job claims
    with ``SKIP LOCKED``); their figures summed, the wall clock and peak RSS of the slowest."""
    started = time.perf_counter()
    processes = {}
    for number in range(workers):
        out = data_dir / f"child-{number}.json"
        command = [sys.executable, __file__, "--child", url, str(data_dir), str(batch), str(out)]
        processes[subprocess.Popen(command).pid] = out
    results, peak, cpu = [], 0.0, 0.0
    while processes:
        pid, status, usage = os.wait4(-1, 0)
        out = processes.pop(pid)
        if status != 0:
            sys.exit("the opening job failed (see above)")
        results.append(json.loads(out.read_text()))
        peak = max(peak, usage.ru_maxrss / 1024)  # KiB on Linux
        cpu += usage.ru_utime + usage.ru_stime
    merged = {key: sum(r[key] for r in results) for key in ("opened", "emailed", "skipped")}
    merged["batches"] = sum(r["batches"] for r in results)
    merged["spaces"] = max(r["spaces"] for r in results)
    merged["seconds"] = time.perf_counter() - started
    merged["p50"] = max(r["p50"] for r in results)
    merged["p99"] = max(r["p99"] for r in results)
    merged["peak_rss_mib"] = peak
    merged["cpu_seconds"] = cpu
    return merged


def database_bytes(url: str) -> int:
    """The database's size on disk (PostgreSQL; 0 elsewhere)."""
    if not url.startswith("postgresql"):
        return 0
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="opening processes at once")
    args = parser.parse_args()
    work = temp_dir()
    try:
        print(f"machine: {machine()}")
        with fresh_database(args.db, work) as url:
            started = time.perf_counter()
            seed(url, work, args.persons)
            print(
                f"seeded {args.persons:,} informed holders in {time.perf_counter() - started:,.0f} s"
            )
            before = database_bytes(url)
            result = run_children(url, work, args.batch, args.workers)
            result["bytes"] = database_bytes(url) - before
        print(
            f"{args.db}: {result['opened']:,} spaces opened in {result['batches']:,} batches of "
            f"{args.batch:,} ({result['emailed']:,} e-mails queued, {result['skipped']} skipped)"
        )
        print(
            f"{result['opened'] / result['seconds']:>8,.0f} spaces/s   {result['seconds']:,.0f} s"
            f"   per batch p50 {result['p50'] * 1000:,.0f} ms  p99 {result['p99'] * 1000:,.0f} ms"
            f"   peak RSS {result['peak_rss_mib']:,.0f} MiB"
        )
        print(
            f"{args.workers} worker(s); Carnet's processes used {result['cpu_seconds']:,.0f} s of "
            f"CPU ({result['cpu_seconds'] / result['opened'] * 1e6:,.0f} µs per space; the "
            "database's own CPU is not counted)"
        )
        if result["bytes"]:
            print(
                f"database grew by {result['bytes'] / 2**20:,.0f} MiB: "
                f"{result['bytes'] / result['opened']:,.0f} bytes per space opened (Patient, its "
                "index rows, space row, audit events, queued e-mail jobs)"
            )
        assert result["opened"] == result["spaces"] == args.persons, result
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
        sys.exit(0)
    sys.exit(main())
