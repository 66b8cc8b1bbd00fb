"""``carnet jobs``: look at and revive background jobs."""

from __future__ import annotations

import typer
from rich.table import Table

from carnet.cli.context import out, runtime

app = typer.Typer(help="Background jobs.", no_args_is_help=True)


@app.command()
def failed(limit: int = typer.Option(100, help="How many to list.")) -> None:
    """List parked jobs (those that kept failing) with their last error."""
    with runtime() as rt, rt.transaction(readonly=True) as db:
        jobs = rt.jobs.failed(db, limit=limit)
    table = Table("id", "kind", "attempts", "created", "last error")
    for job in jobs:
        table.add_row(
            job.id,
            job.kind,
            str(job.attempts),
            f"{job.created_at:%Y-%m-%d %H:%M}",
            job.last_error or "",
        )
    out.print(table)
    out.print(f"{len(jobs)} parked job(s)")


@app.command()
def status() -> None:
    """Count jobs by status."""
    with runtime() as rt, rt.transaction(readonly=True) as db:
        counts = rt.jobs.counts(db)
    for name in ("pending", "running", "failed"):
        out.print(f"{name}: {counts.get(name, 0)}")


@app.command()
def retry(
    job_ids: list[str] = typer.Argument(None, help="Parked job ids (default: all of them)."),
) -> None:
    """Give parked jobs another round of attempts."""
    with runtime() as rt, rt.transaction() as db:
        revived = rt.jobs.retry(db, job_ids=job_ids or None)
    out.print(f"{revived} job(s) queued again")


@app.command("run")
def run_due() -> None:
    """Run every due job now in this process, then exit."""
    with runtime() as rt:
        ran = rt.worker().run_until_idle()
    out.print(f"{ran} job(s) ran")
