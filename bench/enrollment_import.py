"""Registry import: lines per second and peak memory, on a synthetic beneficiary file.

    python bench/enrollment_import.py --db sqlite|postgres [--lines 1000000] [--batch-lines 1000]

Writes a synthetic beneficiary file (``carnet.demo.registry_extract``: holders followed by
their children), then imports it into a fresh database twice, each time with the importer in a
process of its own, whose peak RSS the parent reads from ``wait4``: the first import registers
everyone (a data key, a blind index and a sealed entry each), the second finds every line
unchanged (the idempotent pass). Prints lines/s, wall time and peak RSS, and a progress line a
minute. On PostgreSQL the child runs ``VACUUM ANALYZE`` once a minute, as autovacuum would (this
machine runs with it off). See docs/benchmarks.md for recorded runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.runtime import Runtime
from common import build, fresh_database, machine, temp_dir


def child(url: str, source: Path, data_dir: Path, batch_lines: int, out: Path) -> None:
    """Import ``source`` in this process; write what it reported to ``out`` as JSON."""
    rt = build(url, data_dir)
    started = last = time.perf_counter()
    ended = False

    def progress(done: int, total: int) -> None:
        nonlocal last, ended
        now = time.perf_counter()
        if now - last >= 60 or (done == total and not ended):
            last, ended = now, done == total
            vacuum(rt)
            print(
                f"  {done / total:6.1%} of the file after {now - started:7,.0f} s",
                file=sys.stderr,
                flush=True,
            )

    try:
        report = enrollment_service.import_registry(
            source=source,
            storage=rt.storage,
            audit=rt.audit,
            transaction=rt.transaction,
            batch_lines=batch_lines,
            progress=progress,
        )
        seconds = time.perf_counter() - started
    finally:
        rt.close()
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "lines": report.lines_read,
                "rejected": report.lines_rejected,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }
        )
    )


def vacuum(rt: Runtime) -> None:
    if rt.database.is_sqlite:
        return
    with rt.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def run_child(url: str, source: Path, data_dir: Path, batch_lines: int) -> dict:
    out = data_dir / "child.json"
    command = [sys.executable, __file__, "--child", url, str(source), str(data_dir)]
    process = subprocess.Popen([*command, str(batch_lines), str(out)])
    _pid, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit("the import failed (see above)")
    result = json.loads(out.read_text())
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def line(label: str, result: dict) -> str:
    return (
        f"{label:<24} {result['lines'] / result['seconds']:>8,.0f} lines/s   "
        f"{result['seconds']:>7,.0f} s   peak RSS {result['peak_rss_mib']:,.0f} MiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch-lines", type=int, default=1000)
    args = parser.parse_args()
    work = temp_dir()
    try:
        source = work / "registry_synthetic.txt"
        started = time.perf_counter()
        with source.open("w", encoding="utf-8") as handle:
            enrollment_service.write_registry(handle, synthetic_registry(args.lines, seed=1))
        print(f"machine: {machine()}")
        print(
            f"file: {args.lines:,} lines, {source.stat().st_size / 2**20:,.0f} MiB, "
            f"written in {time.perf_counter() - started:,.0f} s"
        )
        with fresh_database(args.db, work) as url:
            build(url, work).close()  # keys made once, outside the measured runs
            first = run_child(url, source, work, args.batch_lines)
            print(f"first import: {first['created']:,} created, {first['rejected']:,} rejected")
            print(line(f"{args.db} first import", first))
            again = run_child(url, source, work, args.batch_lines)
            print(line(f"{args.db} re-import", again))
            assert again["created"] == again["updated"] == 0, again
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(
            sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]), Path(sys.argv[6])
        )
        sys.exit(0)
    sys.exit(main())
