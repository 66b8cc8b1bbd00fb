"""``carnet audit``: verify the hash chains."""

from __future__ import annotations

import typer
from rich.progress import Progress

from carnet.cli.context import console, out, runtime

app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Recompute every chain; exit 0 when intact, 1 with the first broken link otherwise."""
    from carnet.core.actor import CARNET

    with runtime() as rt:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("verifying audit chains", total=None)
            with rt.transaction(readonly=True) as db:
                report = rt.audit.verify(db, progress=lambda n: progress.advance(task, n))
        with rt.transaction() as db:
            rt.audit.record_verification(db, report, CARNET)
    rate = report.events / report.seconds if report.seconds else 0.0
    summary = f"{report.chains} chains, {report.events} events in {report.seconds:.2f} s"
    if report.first_break is None:
        out.print(f"OK: {summary} ({rate:,.0f} events/s)")
        return
    brk = report.first_break
    out.print(f"BROKEN: chain {brk.chain_id} at event {brk.seq}: {brk.reason} ({summary})")
    raise typer.Exit(1)
