"""``carnet fhir load``: transaction and batch Bundles, and NDJSON, loaded through the record.

Everything goes through the repository acting as Carnet (validation, encryption, indexing,
audit), each unit in its own transaction, in parallel worker processes (``--workers``; on SQLite
the writes still take turns, but the validation and indexing before them do not). The run can
be interrupted and run again: what is done is skipped (see ``loading`` for how a crash between a
commit and its record is settled). Ends with a report; exits 1 when anything failed.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from carnet.cli.context import console, out, runtime
from carnet.cli.loading import LoadState, Unit, UnitReport, load_unit, probe_exists, units_of
from carnet.runtime import Runtime

app = typer.Typer(help="FHIR data.", no_args_is_help=True)

_FAILURES_SHOWN = 200


@app.command()
def load(
    paths: list[Path] = typer.Argument(
        ...,
        exists=True,
        help="Bundle files (.json), NDJSON files (.ndjson), or directories holding them.",
    ),
    workers: int = typer.Option(os.cpu_count() or 1, min=1, help="Processes loading in parallel."),
    batch_size: int = typer.Option(500, min=1, help="NDJSON lines per transaction."),
) -> None:
    """Load FHIR data; resumable, with a report of what failed and why."""
    with runtime() as rt:
        state = LoadState(rt.settings.data_dir)
        chunk = min(batch_size, rt.settings.fhir.bundle_max_entries)
        units = list(units_of(paths, chunk=chunk))
        reports, todo = _settled(rt, state, units)
        started = time.perf_counter()
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(
                "loading resources",
                total=sum(unit.entries for unit in units),
                completed=sum(report.unit.entries for report in reports),
            )
            for report in _load_all(rt, state, todo, workers):
                reports.append(report)
                progress.advance(task, report.unit.entries)
    if _print_report(reports, time.perf_counter() - started):
        raise typer.Exit(1)


def _settled(
    rt: Runtime, state: LoadState, units: list[Unit]
) -> tuple[list[UnitReport], list[Unit]]:
    """Units an earlier run finished (as reports), and the units still to load."""
    done, begun = state.read()
    reports, todo = [], []
    for unit in units:
        record = done.get(unit.key)
        if record is None and unit.key in begun and probe_exists(rt, begun[unit.key]):
            # Committed, but the process died before saying so: record it now.
            report = UnitReport(unit, loaded=unit.entries)
            state.done(report)
            record = {"loaded": unit.entries, "failures": []}
        if record is None:
            todo.append(unit)
            continue
        failures = [(str(where), str(why)) for where, why in record.get("failures", [])]
        reports.append(UnitReport(unit, int(record.get("loaded", 0)), failures, earlier=True))
    return reports, todo


def _load_all(
    rt: Runtime, state: LoadState, units: list[Unit], workers: int
) -> Iterator[UnitReport]:
    if workers == 1 or len(units) <= 1:
        for unit in units:
            yield load_unit(rt, unit, state)
        return
    # Fresh processes (not forks of this one: it holds connections and a progress thread).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:
        futures = [pool.submit(_load_in_worker, unit) for unit in units]
        for future in as_completed(futures):
            yield future.result()


_worker: tuple[Runtime, LoadState] | None = None


def _start_worker() -> None:
    from carnet.runtime import build_runtime
    from carnet.settings import load_settings

    global _worker  # noqa: PLW0603 - one runtime per worker process, built once
    rt = build_runtime(load_settings(), configure_logs=False)
    _worker = (rt, LoadState(rt.settings.data_dir))


def _load_in_worker(unit: Unit) -> UnitReport:
    assert _worker is not None
    rt, state = _worker
    return load_unit(rt, unit, state)


def _print_report(reports: list[UnitReport], seconds: float) -> bool:
    """Print the summary and the failures; True when anything failed."""
    loaded = sum(r.loaded for r in reports if not r.earlier)
    rate = f" in {seconds:.1f} s ({loaded / seconds:,.0f} resources/s)" if seconds > 0 else ""
    earlier = [r for r in reports if r.earlier]
    failures = [(where, why, r.earlier) for r in reports for where, why in r.failures]
    out.print(
        f"{loaded} resources loaded from {len(reports) - len(earlier)} units{rate}; "
        f"{len(earlier)} units skipped (loaded by an earlier run); {len(failures)} failures",
        soft_wrap=True,
    )
    for where, why, before in failures[:_FAILURES_SHOWN]:
        out.print(f"  FAILED {where}: {why}" + (" (earlier run)" if before else ""), soft_wrap=True)
    if len(failures) > _FAILURES_SHOWN:
        out.print(f"  … and {len(failures) - _FAILURES_SHOWN} more")
    return bool(failures)
