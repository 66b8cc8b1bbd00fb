"""Importing the insurer's beneficiary file (``registry_file``) into the registry.

- **Idempotent.** A beneficiary is found by the blind index of their NIR; a line whose content
  is unchanged (same keyed hash) writes nothing but the mark that this run saw it. A changed
  line is sealed again; a new NIR registers a new beneficiary with a new data key.
- **Later files** update, add and mark deaths (a date of death sets the status ``deceased``);
  nobody is removed for being absent from a file.
- **Whole lines.** Each line is checked (``validation``), then decided against the database
  (duplicate in the file, unknown holder…); a refused line writes nothing, the rest of its
  batch goes on.
- **Bounded memory, crash-safe, resumable.** The file is streamed; each batch of lines is one
  transaction that also records the run's progress and appends its rejected lines to the CSV
  report. Running the same file again resumes an unfinished run after its last commit.
- **Audited, private.** Each batch is one event of the system audit chain (counts and line
  numbers). The report and the logs name lines, columns and rules, never a value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Connection

from carnet.audit.service import AuditRecord, AuditTrail, EventTag, Outcome
from carnet.core.actor import CARNET
from carnet.core.line_report import LineReport
from carnet.enrollment import registry_runs
from carnet.enrollment.registry_apply import BatchApplier
from carnet.enrollment.registry_file import RawLine, RegistryReader, file_digest
from carnet.enrollment.schemas import LineError, RegistryEntry, RegistryReport
from carnet.enrollment.validation import check_line
from carnet.storage.service import Storage

log = logging.getLogger(__name__)

TransactionFactory = Callable[[], AbstractContextManager[Connection]]
Progress = Callable[[int, int], None]
"""Called after each batch with (bytes done, bytes in the file)."""

STALE_AFTER = timedelta(minutes=2)
"""An unfinished run with no committed batch for this long is taken for dead: it may resume."""
REPORT_HEADER = ("line", "column", "rule", "reason")


class _Batch:
    def __init__(self) -> None:
        self.lines: list[tuple[int, RegistryEntry]] = []
        self.errors: list[LineError] = []
        self.count = 0
        self.first_line = 0
        self.last_line = 0
        self.end_offset = 0


def _batches(reader: RegistryReader, *, after: int, size: int, today: date) -> Iterator[_Batch]:
    batch = _Batch()
    for raw in reader.lines(after=after):
        _add(batch, raw, today)
        if batch.count >= size:
            yield batch
            batch = _Batch()
    if batch.count:
        yield batch


def _add(batch: _Batch, raw: RawLine, today: date) -> None:
    batch.count += 1
    batch.first_line = batch.first_line or raw.number
    batch.last_line = raw.number
    batch.end_offset = raw.end_offset
    if raw.fields is None:
        batch.errors.append(LineError(raw.number, "-", "line-format", raw.problem))
        return
    checked = check_line(raw.number, raw.fields, today=today)
    if isinstance(checked, list):
        batch.errors.extend(checked)
    else:
        batch.lines.append((raw.number, checked))


def _report_rows(errors: list[LineError]) -> list[tuple[object, ...]]:
    """The report's rows for a batch's rejected lines, in line order."""
    ordered = sorted(errors, key=lambda error: error.line)
    return [(e.line, e.column, e.rule, e.reason) for e in ordered]


def _audit(
    audit: AuditTrail,
    db: Connection,
    *,
    run: int,
    batch: _Batch,
    before: RegistryReport,
    after: RegistryReport,
    rejected: int,
) -> None:
    audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_REGISTRY_IMPORT,
            outcome=Outcome.SUCCESS,
            actor=CARNET,
            patient_id=None,
            entity=f"enrollment-registry-run/{run}",
            detail={
                "first_line": batch.first_line,
                "last_line": batch.last_line,
                "created": after.created - before.created,
                "updated": after.updated - before.updated,
                "unchanged": after.unchanged - before.unchanged,
                "deceased": after.deceased - before.deceased,
                "rejected": rejected,
            },
        ),
    )


def import_registry(
    *,
    source: Path,
    storage: Storage,
    audit: AuditTrail,
    transaction: TransactionFactory,
    report_path: Path | None = None,
    batch_lines: int = 1000,
    progress: Progress | None = None,
) -> RegistryReport:
    """Import the beneficiary file ``source`` (see the module docstring).

    ``transaction`` opens one transaction (the runtime's); one is used per batch. Rejected lines
    go to ``report_path`` (CSV: line, column, rule, reason) when given. Raises
    ``RegistryFileError`` when the file is not a registry file (nothing is recorded), and
    ``RegistryImportRunning`` when another import is alive.
    """
    with RegistryReader(source):
        pass  # a file that is not a registry file is refused before any run is recorded
    clock = storage.clock
    with transaction() as db:
        state = registry_runs.open_run(
            db,
            digest=file_digest(source),
            name=source.name,
            now=clock.now(),
            stale_after=STALE_AFTER,
            report_path=report_path,
        )
    report, lines_done = state.report, state.lines_done
    errors = LineReport(report_path, size=state.report_size, header=REPORT_HEADER)
    today = clock.now().date()
    try:
        with RegistryReader(source) as reader:
            for batch in _batches(reader, after=lines_done, size=batch_lines, today=today):
                with transaction() as db:
                    applier = BatchApplier(storage=storage, run=state.run, now=clock.now())
                    before = replace(report)
                    batch.errors += applier.apply(db, batch.lines, report)
                    rejected = len({error.line for error in batch.errors})
                    report.lines_read += batch.count
                    report.lines_rejected += rejected
                    _audit(
                        audit,
                        db,
                        run=state.run,
                        batch=batch,
                        before=before,
                        after=report,
                        rejected=rejected,
                    )
                    registry_runs.save_progress(
                        db,
                        state.run,
                        lines_done=batch.last_line,
                        report=report,
                        size=errors.write(_report_rows(batch.errors)),
                        now=clock.now(),
                    )
                lines_done = batch.last_line
                if progress is not None:
                    progress(batch.end_offset, reader.size)
            if progress is not None:
                progress(reader.size, reader.size)
        report.status = "finished"
        with transaction() as db:
            registry_runs.save_progress(
                db, state.run, lines_done=lines_done, report=report, size=errors.size,
                now=clock.now(), finished=True,
            )  # fmt: skip
    except BaseException:
        # A crash, Ctrl-C, an outage: the batch in flight rolled back; the same command resumes
        # after the last commit (a process killed outright stays "running" until STALE_AFTER).
        _mark_interrupted(transaction, state.run, storage)
        raise
    finally:
        errors.close()
    log.info("registry import %s: %d lines, %d rejected", state.run, report.lines_read,
             report.lines_rejected)  # fmt: skip
    return report


def _mark_interrupted(transaction: TransactionFactory, run: int, storage: Storage) -> None:
    try:
        with transaction() as db:
            registry_runs.set_status(db, run, "interrupted", storage.clock.now())
    except Exception:
        # The database may be what failed: keep the original error, not this one.
        log.exception("registry import %s: could not record the interruption", run)
