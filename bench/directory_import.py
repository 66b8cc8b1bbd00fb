"""Directory import: lines per second and peak memory, on a synthetic extract.

    python bench/directory_import.py --db sqlite|postgres [--lines 1000000] [--batch-lines 2000]

Writes a synthetic PS_LibreAcces extract (``carnet.demo.directory_extract``: professionals with
1 to 4 activities), then imports it into a fresh database twice, each time in a process of its
own so that its peak RSS is the importer's alone: the first import creates everything, the
second finds everything unchanged (the idempotent pass). Prints lines/s, resources written/s
and peak RSS, and a progress line a minute. On PostgreSQL it runs ``VACUUM ANALYZE`` once a
minute (see ``vacuum``). See docs/benchmarks.md for recorded runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from carnet.demo.directory_extract import synthetic_activities
from carnet.interop import service as interop_service
from carnet.runtime import Runtime
from common import build, fresh_database, machine, temp_dir


def child(url: str, source: Path, data_dir: Path, batch_lines: int) -> None:
    """Import ``source`` in this process and print what it took, as JSON."""
    rt = build(url, data_dir)
    started = last = time.perf_counter()

    def progress(done: int, total: int) -> None:
        # A line a minute on stderr, so that a run of hours shows its rate as it goes.
        nonlocal last
        now = time.perf_counter()
        if now - last >= 60 or done == total:
            last = now
            vacuum(rt)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"  {done / total:6.1%} of the file after {now - started:7,.0f} s, "
                f"peak RSS {rss:,.0f} MiB",
                file=sys.stderr,
                flush=True,
            )

    try:
        report = interop_service.import_directory(
            source=source,
            record=rt.record,
            ctx=rt.carnet_context(),
            transaction=rt.transaction,
            batch_lines=batch_lines,
            progress=progress,
        )
        seconds = time.perf_counter() - started
    finally:
        rt.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "lines": report.lines_read,
                "rejected": report.lines_rejected,
                "written": report.total("created") + report.total("updated"),
                "unchanged": report.total("unchanged"),
                "counts": {k: vars(v) for k, v in report.counts.items()},
                # ru_maxrss is in KiB on Linux.
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def vacuum(rt: Runtime) -> None:
    """What autovacuum does in production, done by hand: this machine's PostgreSQL runs with
    ``autovacuum = off``, and every write rewrites the system audit chain's head row, so without
    it that one-row table bloats (7.5 MB after 41,000 writes) and each append walks it."""
    if rt.database.is_sqlite:
        return
    with rt.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def run_child(url: str, source: Path, data_dir: Path, batch_lines: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, str(source), str(data_dir), str(batch_lines)],
        check=False,
        stdout=subprocess.PIPE,  # the figures; progress and errors go to our stderr
        text=True,
    )
    if done.returncode != 0:
        sys.exit("the import failed (see above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


def line(label: str, result: dict) -> str:
    return (
        f"{label:<22} {result['lines'] / result['seconds']:>8,.0f} lines/s   "
        f"{result['written'] / result['seconds']:>7,.0f} resources written/s   "
        f"{result['seconds']:>7,.0f} s   peak RSS {result['peak_rss_mib']:,.0f} MiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch-lines", type=int, default=200)
    args = parser.parse_args()
    work = temp_dir()
    try:
        source = work / "PS_LibreAcces_Personne_activite_synthetic.txt"
        started = time.perf_counter()
        with source.open("w", encoding="utf-8") as out:
            interop_service.write_extract(out, synthetic_activities(args.lines, seed=1))
        print(f"machine: {machine()}")
        print(
            f"extract: {args.lines:,} lines, {source.stat().st_size / 2**20:,.0f} MiB, "
            f"written in {time.perf_counter() - started:,.0f} s"
        )
        with fresh_database(args.db, work) as url:
            build(url, work).close()  # keys made once, outside the measured runs
            first = run_child(url, source, work, args.batch_lines)
            print(f"created: {json.dumps(first['counts'])}")
            print(line(f"{args.db} first import", first))
            again = run_child(url, source, work, args.batch_lines)
            print(line(f"{args.db} re-import", again))
            assert again["written"] == 0, again
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    sys.exit(main())
