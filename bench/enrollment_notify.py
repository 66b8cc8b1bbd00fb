"""Notification campaign: persons informed per second and peak memory.

    python bench/enrollment_notify.py --db sqlite|postgres [--persons 100000] [--batch 1000]

Writes a synthetic beneficiary file with ``--persons`` holders (and their children), imports it
into a fresh database (not measured), then, in a process of its own whose peak RSS the parent
reads from ``wait4``, starts one campaign over every département and runs the jobs until none is
left: each step picks a batch of holders, opens their sealed entry, makes an activation code
(stored as a keyed hash), writes the notices and queues one e-mail each in the outbox; each
e-mail job then renders the ``space_opening`` message (text and HTML) and hands it to a sender
that only counts (no SMTP relay here: the relay's own speed is not Carnet's). Holders without an
e-mail are marked ``letter-due``. Prints persons/s for the whole pipeline, the time at which the
campaign itself finished, and the peak RSS. See docs/benchmarks.md for recorded runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from carnet.core.actor import CARNET
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.jobs.service import Worker
from carnet.notify.schemas import OutgoingEmail
from carnet.notify.tasks import EMAIL_JOB, email_handler
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


def child(url: str, data_dir: Path, batch: int, out: Path) -> None:
    """Run a campaign over every département in this process; write the figures to ``out``."""
    rt = build(url, data_dir)
    rt.enrollment.settings.campaign_batch = batch
    sender = CountingSender()
    rt.jobs.register(EMAIL_JOB, email_handler(sender, rt.notify.renderer))
    try:
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
        with rt.transaction(readonly=True) as db:
            state = rt.enrollment.campaign(db, campaign_id=campaign.id)
    finally:
        rt.close()
    out.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "campaign_seconds": campaign_done or seconds,
                "emailed": state.emailed,
                "letters_due": state.letters_due,
                "sent": sender.sent,
            }
        )
    )


def run_child(url: str, data_dir: Path, batch: int) -> dict:
    out = data_dir / "child.json"
    command = [sys.executable, __file__, "--child", url, str(data_dir), str(batch), str(out)]
    process = subprocess.Popen(command)
    _pid, status, usage = os.wait4(process.pid, 0)
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
            result = run_child(url, work, args.batch)
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
        assert persons == args.persons, persons
        assert result["sent"] == result["emailed"], result
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
        sys.exit(0)
    sys.exit(main())
