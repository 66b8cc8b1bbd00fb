"""``carnet directory``: the professional directory (Annuaire Santé extract).

Output names lines and columns, counts and ids; never a professional's identifiers or names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from carnet.cli.context import console, out, runtime

if TYPE_CHECKING:
    from carnet.interop.service import ImportReport

app = typer.Typer(help="The professional directory (Annuaire Santé extract).", no_args_is_help=True)


@app.command("import")
def import_command(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="PS_LibreAcces_Personne_activite file.",
    ),
    full: bool = typer.Option(
        True,
        "--full/--partial",
        help="A full extract (default) makes inactive whoever it no longer lists; a partial one "
        "only creates and updates.",
    ),
    report: Path | None = typer.Option(
        None,
        "--report",
        dir_okay=False,
        help="Where to write rejected lines (CSV: line, column, reason). "
        "Default: <data_dir>/reports/directory-import-<file name>.csv",
    ),
    batch_lines: int = typer.Option(
        200, min=1, help="Lines per transaction (a professional is never split)."
    ),
    max_deactivation_share: float = typer.Option(
        0.25,
        min=0.0,
        max=1.0,
        help="Hold removals back when a full extract would make more than this share of the "
        "directory inactive (a truncated file?).",
    ),
) -> None:
    """Load the public directory extract into Practitioner, PractitionerRole and Organization.

    Idempotent (unchanged resources are not rewritten) and resumable: after a crash or Ctrl-C,
    run the same command again.
    """
    from carnet.interop import service as interop_service

    with runtime() as rt:
        report_path = (
            report or rt.settings.data_dir / "reports" / f"directory-import-{file.stem}.csv"
        )
        columns = (
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("import", total=file.stat().st_size)
            result = interop_service.import_directory(
                source=file,
                record=rt.record,
                ctx=rt.carnet_context(),
                transaction=rt.transaction,
                mode="full" if full else "partial",
                report_path=report_path,
                batch_lines=batch_lines,
                max_deactivation_share=max_deactivation_share,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        _print_report(result)
        if result.status == "removals-held":
            raise typer.Exit(1)


def _print_report(result: ImportReport) -> None:
    from carnet.interop.service import DIRECTORY_TYPES

    resumed = " (resumed)" if result.resumed else ""
    out.print(f"run {result.run} ({result.mode}){resumed}: {result.status}")
    out.print(f"{result.lines_read:,} lines read, {result.lines_rejected:,} rejected")
    table = Table("resource", "created", "updated", "unchanged", "deactivated")
    for name in DIRECTORY_TYPES:
        counts = result.counts[name]
        table.add_row(
            name,
            f"{counts.created:,}",
            f"{counts.updated:,}",
            f"{counts.unchanged:,}",
            f"{counts.deactivated:,}",
        )
    out.print(table)
    if result.repeated:
        out.print(
            f"{result.repeated:,} resources listed again after their professional's lines "
            "(is the file sorted by professional?): their first occurrence was kept"
        )
    if result.legacy_encoded_lines:
        out.print(f"{result.legacy_encoded_lines:,} lines were not UTF-8 (read as Latin-1)")
    if result.unknown_columns:
        out.print(f"{len(result.unknown_columns)} unknown column(s) ignored")
    if result.status == "removals-held":
        out.print(
            f"[red]{result.held_deactivations:,} resources would have been made inactive: more "
            "than --max-deactivation-share of the directory; nothing was deactivated[/red]"
        )
    if result.lines_rejected and result.report_path is not None:
        out.print(f"rejected lines: {result.report_path}")


@app.command("sample")
def sample_command(
    file: Path = typer.Argument(..., dir_okay=False, help="Where to write the extract."),
    lines: int = typer.Option(1000, min=0, help="How many synthetic lines."),
    seed: int = typer.Option(1, help="Same seed, same professionals."),
    legacy: bool = typer.Option(False, "--legacy", help="The 52-column layout (else 56)."),
    demo_directory: bool = typer.Option(
        False, "--demo-directory", help="Start with the demo directory of the seed."
    ),
) -> None:
    """Write a synthetic extract in the PS_LibreAcces format (no real professional)."""
    import itertools

    from carnet.demo import directory_extract
    from carnet.demo.population import generate_directory
    from carnet.interop import service as interop_service

    rows = directory_extract.synthetic_activities(lines, seed=seed)
    if demo_directory:
        demo = directory_extract.directory_activities(generate_directory(seed=seed))
        rows = itertools.chain(demo, rows)
    with file.open("w", encoding="utf-8") as handle:
        written = interop_service.write_extract(handle, rows, current=not legacy)
    out.print(f"{written:,} lines written to {file}")
