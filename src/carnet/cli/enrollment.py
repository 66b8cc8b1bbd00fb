"""``carnet enrollment``: the insurer's beneficiary registry and notification campaigns.

Output names lines, columns, rules and counts; never a beneficiary's NIR, name or contact.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from carnet.cli.context import console, out, runtime

if TYPE_CHECKING:
    from carnet.enrollment.service import RegistryReport

app = typer.Typer(
    help="Enrollment: the insurer's beneficiary registry and notification campaigns.",
    no_args_is_help=True,
)
campaign_app = typer.Typer(
    help="Notification campaigns: inform people before their space opens.", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign")
letters_app = typer.Typer(
    help="Printed letters for people without a usable e-mail.", no_args_is_help=True
)
app.add_typer(letters_app, name="letters")


@app.command("import")
def import_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="The beneficiary file."
    ),
    report: Path | None = typer.Option(
        None,
        "--report",
        dir_okay=False,
        help="Where to write rejected lines (CSV: line, column, rule, reason). "
        "Default: <data_dir>/reports/registry-import-<file name>.csv",
    ),
    batch_lines: int = typer.Option(1000, min=1, help="Lines per transaction."),
) -> None:
    """Load the insurer's beneficiary file (docs/registry-file.md) into the registry.

    Idempotent (unchanged lines write nothing); later files update, add and mark deaths.
    Resumable: after a crash or Ctrl-C, run the same command again.
    """
    from carnet.enrollment import service as enrollment_service

    with runtime() as rt:
        report_path = (
            report or rt.settings.data_dir / "reports" / f"registry-import-{file.stem}.csv"
        )
        columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("import", total=file.stat().st_size)
            result = enrollment_service.import_registry(
                source=file,
                storage=rt.storage,
                audit=rt.audit,
                transaction=rt.transaction,
                report_path=report_path,
                batch_lines=batch_lines,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        _print_report(result)


def _print_report(result: RegistryReport) -> None:
    resumed = " (resumed)" if result.resumed else ""
    out.print(f"run {result.run}{resumed}: {result.status}")
    out.print(f"{result.lines_read:,} lines read, {result.lines_rejected:,} rejected")
    table = Table("created", "updated", "unchanged", "marked deceased")
    table.add_row(
        f"{result.created:,}", f"{result.updated:,}", f"{result.unchanged:,}",
        f"{result.deceased:,}",
    )  # fmt: skip
    out.print(table)
    if result.lines_rejected and result.report_path is not None:
        out.print(f"rejected lines: {result.report_path}")


@app.command("sample")
def sample_command(
    file: Path = typer.Argument(..., dir_okay=False, help="Where to write the file."),
    lines: int = typer.Option(1000, min=0, help="How many lines (holders and their children)."),
    seed: int = typer.Option(1, help="Same seed, same people."),
    bad_every: int = typer.Option(
        0, min=0, help="Make every n-th line invalid (n > 1; 0: none), to try the report."
    ),
) -> None:
    """Write a synthetic beneficiary file (no real person)."""
    from carnet.demo.registry_extract import synthetic_registry
    from carnet.enrollment import service as enrollment_service

    if bad_every == 1:
        console.print("[red]--bad-every must be 0 or more than 1[/red]")
        raise typer.Exit(2)
    with file.open("w", encoding="utf-8") as handle:
        written = enrollment_service.write_registry(
            handle, synthetic_registry(lines, seed=seed, bad_every=bad_every)
        )
    out.print(f"{written:,} lines written to {file}")


@campaign_app.command("start")
def campaign_start_command(
    departements: str = typer.Option(
        ..., "--departements", help="Département codes, comma-separated, in walking order."
    ),
    send_date: datetime = typer.Option(
        ..., "--date", formats=["%Y-%m-%d"], help="The send date (YYYY-MM-DD)."
    ),
    newcomers: bool = typer.Option(
        False, "--newcomers", help="The weekly wave for people registered since."
    ),
) -> None:
    """Start a campaign: each registered holder of these départements not yet informed gets an
    activation code and an e-mail, or is marked for a letter. Runs as jobs (``carnet worker``,
    or the worker inside ``carnet serve``), from the send date on."""
    from carnet.core.actor import CARNET
    from carnet.enrollment import service as enrollment_service

    kind = (
        enrollment_service.CampaignKind.NEWCOMERS
        if newcomers
        else enrollment_service.CampaignKind.INITIAL
    )
    with runtime() as rt, rt.transaction() as db:
        campaign = rt.enrollment.start_campaign(
            db, actor=CARNET, departements=departements, send_date=send_date.date(), kind=kind
        )
    out.print(
        f"campaign {campaign.id} ({campaign.kind.value}) over {', '.join(campaign.departements)}: "
        f"sent from {campaign.send_date}, opposition until {campaign.opposition_ends}"
    )


@campaign_app.command("status")
def campaign_status_command(
    limit: int = typer.Option(20, min=1, help="How many campaigns, newest first."),
) -> None:
    """The latest campaigns and their counts (never a person)."""
    with runtime() as rt, rt.transaction(readonly=True) as db:
        campaigns = rt.enrollment.campaigns(db, limit=limit)
    table = Table("campaign", "kind", "départements", "send date", "status", "e-mails",
                  "letters due", "skipped")  # fmt: skip
    for c in campaigns:
        table.add_row(
            c.id, c.kind.value, ",".join(c.departements), str(c.send_date), c.status.value,
            f"{c.emailed:,}", f"{c.letters_due:,}", f"{c.skipped:,}",
        )  # fmt: skip
    out.print(table)


@letters_app.command("print")
def letters_print_command(
    out_dir: Path = typer.Argument(..., file_okay=False, help="Where to write the batch PDFs."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Letters per PDF (default: the letter_batch setting)."
    ),
) -> None:
    """Print the letters due (no usable e-mail, or a bounce): one PDF per batch, each letter
    with a fresh activation code; its people are then marked informed. Safe to run again."""
    from carnet.core.errors import InvalidInput

    with runtime() as rt:
        try:
            printed = rt.enrollment.print_letters(rt.transaction, out_dir, batch_size=batch_size)
        except InvalidInput as exc:
            console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(2) from exc
    for path in printed.files:
        out.print(str(path))
    out.print(
        f"{printed.letters:,} letters in {len(printed.files):,} files, "
        f"{printed.skipped:,} due but not printable (erased, or no postal address)"
    )


@app.command("bounces")
def bounces_command(
    file: Path = typer.Argument(
        ...,
        exists=True,
        readable=True,
        help="Delivery reports: one DSN/ARF message, an mbox, a directory of messages (Maildir), "
        "or the relay's export with one Message-ID per line.",
    ),
) -> None:
    """Turn bounced notice e-mails to letters: each report naming a notice (its Message-ID or
    envelope id) marks it bounced and its person due a letter. Safe to run again."""
    from carnet.enrollment.bounces import read_bounces

    reading = read_bounces(file)
    changed = 0
    with runtime() as rt:
        # Bounded transactions: an export of a whole wave holds millions of lines.
        for start in range(0, len(reading.references), 1000):
            with rt.transaction() as db:
                changed += rt.enrollment.waves.record_bounces(
                    db, references=reading.references[start : start + 1000]
                )
    out.print(
        f"{reading.reports:,} reports read: {reading.bounces:,} bounces and "
        f"{reading.complaints:,} complaints naming a notice, {reading.ignored:,} ignored "
        f"(delays, other messages); {changed:,} people now due a letter"
    )


@app.command("open")
def open_command(
    batch: int | None = typer.Option(
        None, "--batch", min=1, help="Spaces per transaction (default: the opening_batch setting)."
    ),
) -> None:
    """Open the space of everyone informed whose opposition window ended without opposition
    (the scheduled job does it hourly; this runs it now). Resumable: after a crash or Ctrl-C,
    run it again; safe alongside the job."""
    from rich.progress import MofNCompleteColumn

    with runtime() as rt:
        with rt.transaction(readonly=True) as db:
            due = rt.enrollment.opening.due(db)
        columns = (TextColumn("opening"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("open", total=due)
            report = rt.enrollment.opening.open_due(
                rt.transaction, batch=batch, progress=lambda n: progress.advance(task, n)
            )
    out.print(
        f"{report.opened:,} spaces opened in {report.batches:,} batches, {report.emailed:,} "
        f"e-mails queued, {report.merged:,} old DMP merged, {report.skipped:,} not openable "
        "(erased, or an identity the record refused: see the audit trail)"
    )


@app.command("closure-sweep")
def closure_sweep_command() -> None:
    """Run the closure jobs now (the scheduled job does it every ``closure_sweep_minutes``):
    close the spaces of reported deaths and of suspensions past their objection delay, and
    crypto-shred the archives whose retention is over. Batch by batch, each its own
    transaction; safe alongside the job."""
    deaths = suspensions = erased = 0
    with runtime() as rt:
        while True:
            with rt.transaction() as db:
                result = rt.enrollment.closure.sweep(db)
            deaths += result.deaths
            suspensions += result.suspensions_closed
            erased += result.erased
            if not result.more:
                break
    out.print(
        f"{deaths:,} reported deaths handled, {suspensions:,} suspended spaces closed, "
        f"{erased:,} archives destroyed"
    )


@app.command("families-daily")
def families_daily_command() -> None:
    """Run the families' daily job now (the scheduled job does it once a day): children who
    came of age leave their representatives' accounts and get their own activation code, and
    invitations past their day are marked expired. Safe to run twice."""
    with runtime() as rt, rt.transaction() as db:
        done = rt.enrollment.families.run_daily(db)
    out.print(f"{done:,} young adults came of age")
