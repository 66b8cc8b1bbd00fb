"""Notification campaign: persons informed per second and peak memory.

    python bench/enrollment_notify.py --db sqlite|postgres [--persons 100000] [--batch 1000]
        [--smtp] [--profile FILE]

Writes a synthetic beneficiary file with ``--persons`` holders (and their children), imports it
into a fresh database (not measured), then, in a process of its own whose peak RSS the parent
reads from ``wait4``, starts one campaign over every département and runs the jobs until none is
left: each step picks a batch of holders, opens their sealed entry, makes an activation code
(stored as a keyed hash), writes the notices and queues its e-mails as a few batch jobs in the
outbox; each batch job then renders its ``space_opening`` messages (text and HTML, once each)
and hands them to a sender that only counts (no SMTP relay: the relay's own speed is not
Carnet's), or with ``--smtp`` sends them over one SMTP connection per batch to a sink relay
(aiosmtpd, in a process of its own on loopback). Holders without an e-mail are marked
``letter-due``. Prints persons/s for the whole pipeline, the time at which the campaign itself
finished, p50/p99 of each job kind (its transaction included), and the peak RSS; ``--profile``
writes a cProfile of the child. See docs/benchmarks.md for recorded runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from carnet.core.actor import CARNET
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.jobs.service import Worker
from carnet.notify.adapters.smtp import SmtpEmailSender
from carnet.notify.schemas import OutgoingEmail
from carnet.notify.tasks import EMAIL_BATCH_JOB, email_batch_handler
from common import build, fresh_database, machine, temp_dir


class CountingSender:
    """Takes each rendered e-mail and keeps nothing but the count."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: OutgoingEmail) -> None:
        del message
        self.sent += 1


def rows_with_holders(persons: int) -> Iterator[dict[str, str]]:
    """The synthetic file's rows up to ``persons`` holders, each with their children."""
    holders = 0
    for row in synthetic_registry(10 * persons, seed=1):
        if not row["nir_ouvrant_droit"]:
            if holders == persons:
                return
            holders += 1
        yield row


def timed_jobs(rt, durations: dict[str, list[float]]) -> None:
    """Record how long each job takes, its transaction included."""
    run_claimed = rt.jobs.run_claimed

    def timed(job, transaction):
        started = time.perf_counter()
        try:
            return run_claimed(job, transaction)
        finally:
            durations[job.kind].append(time.perf_counter() - started)

    rt.jobs.run_claimed = timed


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
    return {"count": len(values), "p50": cuts[49], "p99": cuts[98], "total": sum(values)}


def child(url: str, data_dir: Path, batch: int, out: Path, *, smtp_port: int, profile: str) -> None:
    """Run a campaign over every département in this process; write the figures to ``out``."""
    rt = build(url, data_dir)
    rt.enrollment.settings.campaign_batch = batch
    counter = CountingSender()
    sender = counter
    if smtp_port:
        sender = SmtpEmailSender(
            host="127.0.0.1", port=smtp_port, tls="none", sender="Carnet <no-reply@carnet.test>"
        )
    rt.jobs.register(EMAIL_BATCH_JOB, email_batch_handler(sender, rt.notify.renderer, rt.jobs))
    durations: dict[str, list[float]] = defaultdict(list)
    timed_jobs(rt, durations)
    profiler = cProfile.Profile() if profile else None
    try:
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        with rt.transaction() as db:
            campaign = rt.enrollment.start_campaign(
                db,
                actor=CARNET,
                departements=tuple(sorted(enrollment_service.DEPARTEMENTS)),
                send_date=date.today(),  # noqa: DTZ011 - the bench runs now
            )
        worker = Worker(queue=rt.jobs, transaction=rt.transaction, name="bench", batch=50)
        campaign_done = 0.0
        while worker.run_once():
            if not campaign_done:
                with rt.transaction(readonly=True) as db:
                    state = rt.enrollment.campaign(db, campaign_id=campaign.id)
                if state.status is enrollment_service.CampaignStatus.FINISHED:
                    campaign_done = time.perf_counter() - started
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        with rt.transaction(readonly=True) as db:
            state = rt.enrollment.campaign(db, campaign_id=campaign.id)
            left = rt.jobs.counts(db)
    finally:
        rt.close()
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "campaign_seconds": campaign_done or seconds,
                "emailed": state.emailed,
                "letters_due": state.letters_due,
                "sent": counter.sent if not smtp_port else state.emailed,
                "jobs_left": left,
                "jobs": {kind: percentiles(values) for kind, values in durations.items()},
            }
        )
    )


def smtp_sink() -> tuple[subprocess.Popen, int]:
    """An SMTP relay that accepts and drops every message, in a process of its own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    command += ["-c", "aiosmtpd.handlers.Sink"]
    process = subprocess.Popen(command)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
        else:
            return process, port
    process.kill()
    sys.exit("the SMTP sink did not start")


def run_child(url: str, data_dir: Path, batch: int, smtp: bool, profile: str) -> dict:
    out = data_dir / "child.json"
    sink, port = smtp_sink() if smtp else (None, 0)
    command = [sys.executable, __file__, "--child", url, str(data_dir), str(batch), str(out)]
    process = subprocess.Popen([*command, str(port), profile])
    try:
        _pid, status, usage = os.wait4(process.pid, 0)
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait()
    if status != 0:
        sys.exit("the campaign failed (see above)")
    result = json.loads(out.read_text())
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--smtp", action="store_true", help="send to a local SMTP sink")
    parser.add_argument("--profile", default="", help="write a cProfile of the campaign here")
    args = parser.parse_args()
    work = temp_dir()
    try:
        source = work / "registry_synthetic.txt"
        with source.open("w", encoding="utf-8") as handle:
            lines = enrollment_service.write_registry(handle, rows_with_holders(args.persons))
        print(f"machine: {machine()}")
        with fresh_database(args.db, work) as url:
            rt = build(url, work)
            started = time.perf_counter()
            try:
                enrollment_service.import_registry(
                    source=source,
                    storage=rt.storage,
                    audit=rt.audit,
                    transaction=rt.transaction,
                    batch_lines=1000,
                )
            finally:
                rt.close()
            print(f"registry: {lines:,} lines imported in {time.perf_counter() - started:,.0f} s")
            result = run_child(
                url,
                work,
                args.batch,
                args.smtp,
                str(Path(args.profile).resolve()) if args.profile else "",
            )
        persons = result["emailed"] + result["letters_due"]
        print(
            f"{args.db}: {persons:,} persons informed ({result['emailed']:,} e-mails rendered and "
            f"sent, {result['letters_due']:,} letters due)"
        )
        print(
            f"{persons / result['seconds']:>8,.0f} persons/s   {result['seconds']:,.0f} s "
            f"(campaign steps done at {result['campaign_seconds']:,.0f} s)   "
            f"peak RSS {result['peak_rss_mib']:,.0f} MiB"
        )
        for kind, figures in sorted(result["jobs"].items()):
            print(
                f"  {kind:<28} {figures['count']:>6,} jobs   p50 {figures['p50'] * 1000:>7,.1f} ms"
                f"   p99 {figures['p99'] * 1000:>7,.1f} ms   total {figures['total']:>6,.1f} s"
            )
        print(f"  jobs left: {result['jobs_left']}")
        assert persons == args.persons, persons
        assert result["sent"] == result["emailed"], result
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(
            sys.argv[2],
            Path(sys.argv[3]),
            int(sys.argv[4]),
            Path(sys.argv[5]),
            smtp_port=int(sys.argv[6]),
            profile=sys.argv[7],
        )
        sys.exit(0)
    sys.exit(main())
