"""Importing the Annuaire Santé extract into the record: Practitioner, PractitionerRole and
Organization resources, written through the record repository acting as Carnet.

- **Idempotent.** Ids derive from national identifiers (``identity.fhir_directory``); each
  written resource has an entry holding the hash of what was written. A resource whose content
  hash is unchanged is not written again (no new version, no audit event); a changed one gets a
  new version.
- **Removals.** A full extract lists everyone. After a full import, every resource the importer
  wrote that this run did not see is made inactive (``active: false``, a new version), never
  deleted: roles and practitioners are referenced from patients' records (care teams,
  authors), which must keep resolving, and the history says when they left. A professional who
  comes back is made active again. A partial extract applies creations and updates only. When a
  full extract would deactivate more than ``max_deactivation_share`` of the directory (a
  truncated download?), nothing is deactivated and the run ends ``removals-held``.
- **Bounded memory.** The file is streamed; a batch of about 200 lines (never splitting a
  professional) is written in one transaction, its new and changed resources together
  (``Repository.put_all``: creations in one insert, one audit event for the batch); what each
  run saw is recorded in the entries (``last_seen_run``), not in memory.
- **Crash-safe and resumable.** Each batch commits with the run's progress (last line done,
  counters, size of the error report). Running the same command again resumes the unfinished run
  of the same file from there; re-running a finished import is a no-op pass.
- **Private.** The error report and the logs name line numbers, columns and rules, never values.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection

from carnet.access.schemas import AccessContext
from carnet.core.errors import ClientError
from carnet.core.line_report import LineReport
from carnet.interop import directory_tracking as tracking
from carnet.interop.directory.grouping import Batch, batches
from carnet.interop.directory.reader import ExtractReader, file_digest
from carnet.interop.errors import BatchFailed
from carnet.interop.schemas import ImportMode, ImportReport, LineError
from carnet.record.errors import ResourceDeleted, ResourceNotFound
from carnet.record.service import PreparedWrite, Record, Repository

log = logging.getLogger(__name__)

TransactionFactory = Callable[[], AbstractContextManager[Connection]]
Progress = Callable[[int, int], None]
"""Called after each batch with (bytes done, bytes in the file)."""

STALE_AFTER = timedelta(minutes=2)
"""An unfinished run with no batch for this long is taken for dead and may be resumed."""
_SWEEP_PAGE = 500
_REPORT_HEADER = ("line", "column", "reason")


def content_hash(resource: dict[str, Any]) -> str:
    """SHA-256 of a resource's canonical JSON (keys sorted), without its ``meta``."""
    body = {key: value for key, value in resource.items() if key != "meta"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class _Plan:
    """What one professional's resources need: writes (prepared), unchanged, repeated."""

    def __init__(self) -> None:
        self.keys: list[tracking.Key] = []
        self.writes: list[tuple[tracking.Key, PreparedWrite, str, bool]] = []
        self.unchanged: list[tracking.Key] = []
        self.repeated = 0

    def add(
        self,
        resource: dict[str, Any],
        known: dict[tracking.Key, tracking.Entry],
        seen: set[tracking.Key],
        run: int,
        record: Record,
    ) -> None:
        key = (resource["resourceType"], resource["id"])
        entry = known.get(key)
        if key in seen or key in self.keys or (entry is not None and entry.last_seen_run == run):
            # Organisations recur everywhere; a professional or activity recurring after its
            # lines comes from an unsorted file: the first occurrence in the run wins.
            self.repeated += key[0] != "Organization"
            return
        self.keys.append(key)
        digest = content_hash(resource)
        if entry is not None and entry.active and entry.content_hash == digest:
            self.unchanged.append(key)
        else:
            self.writes.append((key, record.prepare(resource), digest, entry is not None))

    def rejection(self) -> str | None:
        """Why the professional cannot be written (a resource would be invalid R4), or None."""
        for key, prepared, _, _ in self.writes:
            if prepared.issues:
                where = prepared.issues[0].expression or key[0]
                return f"the lines of this professional would make an invalid {key[0]} ({where})"
        return None


class _Importer:
    def __init__(
        self, *, record: Record, ctx: AccessContext, transaction: TransactionFactory
    ) -> None:
        self.record = record
        self.ctx = ctx
        self.transaction = transaction
        self.lines_done = 0

    @contextmanager
    def repository(self) -> Iterator[tuple[Connection, Repository]]:
        with self.transaction() as db:
            yield db, self.record.repository(db=db, ctx=self.ctx)

    def now(self) -> datetime:
        return self.record.clock.now()

    def run(
        self,
        source: Path,
        state: tracking.RunState,
        errors: LineReport,
        *,
        batch_lines: int,
        progress: Progress | None,
    ) -> None:
        """Stream the file from where the run stopped, one transaction per batch."""
        report = state.report
        self.lines_done = state.lines_done
        with ExtractReader(source) as reader:
            report.unknown_columns = reader.header.unknown
            lines = (raw for raw in reader.lines() if raw.number > state.lines_done)
            for batch in batches(lines, reader.header, size=batch_lines):
                with self.repository() as (db, repo):
                    try:
                        self.apply(db, repo, state.run, batch, report)
                    except ClientError as exc:
                        # Raised as a ClientError, the unit of work would commit the writes
                        # made so far; as BatchFailed, it rolls the whole batch back.
                        raise BatchFailed(
                            f"the record refused a write in lines {self.lines_done + 1}-"
                            f"{batch.end_line}: {exc.message}"
                        ) from exc
                    report.lines_read += batch.lines
                    report.lines_rejected += len(batch.errors)
                    report.legacy_encoded_lines += batch.legacy_encoded
                    tracking.save_progress(
                        db,
                        state.run,
                        lines_done=batch.end_line,
                        report=report,
                        report_size=errors.write(
                            [(e.line, e.field, e.reason) for e in batch.errors]
                        ),
                        now=self.now(),
                    )
                self.lines_done = batch.end_line
                if progress is not None:
                    progress(batch.end_offset, reader.size)
            if progress is not None:
                progress(reader.size, reader.size)

    def apply(
        self, db: Connection, repo: Repository, run: int, batch: Batch, report: ImportReport
    ) -> None:
        """Write one batch's resources that are new or changed; mark every one as seen.

        Each professional's resources are validated before any is written: if one would not
        be valid R4, none is, and the professional's lines are reported as rejected.
        """
        built = [(group, group.resources()) for group in batch.groups]
        keys = {(r["resourceType"], r["id"]) for _, resources in built for r in resources}
        known = tracking.entries(db, keys)
        seen: set[tracking.Key] = set()
        created: list[tuple[tracking.Key, str]] = []
        changed: list[tuple[tracking.Key, str]] = []
        unchanged: list[tracking.Key] = []
        writes: list[tuple[tracking.Key, PreparedWrite, str, bool]] = []
        for group, resources in built:
            plan = _Plan()
            for resource in resources:
                plan.add(resource, known, seen, run, self.record)
            rejected = plan.rejection()
            if rejected is not None:
                batch.errors.append(LineError(group.first_line, "-", rejected))
                report.lines_rejected += group.lines - 1  # the error itself counts one
                continue
            report.repeated += plan.repeated
            seen.update(plan.keys)
            unchanged += plan.unchanged
            writes += plan.writes
            for key in plan.unchanged:
                report.counts[key[0]].unchanged += 1
        # The batch's writes go in together: creations in one insert, one audit event.
        result = repo.put_all([prepared for _, prepared, _, _ in writes]) if writes else None
        for (key, _, digest, exists), outcome in zip(
            writes, result.entries if result else (), strict=True
        ):
            (changed if exists else created).append((key, digest))
            counts = report.counts[key[0]]
            counts.created += outcome.action == "created"
            counts.updated += outcome.action != "created"
        tracking.add_entries(db, run, created)
        tracking.update_entries(db, run, changed)
        tracking.touch_entries(db, run, unchanged)

    def deactivate(self, run: int, report: ImportReport, max_share: float) -> None:
        """Make inactive what a full run did not see, page by page (one transaction each)."""
        with self.transaction() as db:
            active, stale = tracking.count_active(db), tracking.count_stale(db, run)
        if stale == 0:
            return
        if stale > max_share * active:
            report.held_deactivations = stale
            report.status = "removals-held"
            log.warning("directory import %s: %d deactivations held back", run, stale)
            return
        after: tracking.Key | None = None
        while True:
            with self.repository() as (db, repo):
                page = tracking.stale_page(db, run, after, _SWEEP_PAGE)
                for key in page:
                    self._deactivate_one(db, repo, key, report)
            if not page:
                return
            after = page[-1]

    def _deactivate_one(
        self, db: Connection, repo: Repository, key: tracking.Key, report: ImportReport
    ) -> None:
        try:
            stored = repo.read(*key)
        except (ResourceNotFound, ResourceDeleted):
            # Deleted by someone else meanwhile: nothing to deactivate, stop tracking it.
            tracking.update_entries(db, 0, [(key, "")], active=False)
            return
        resource = orjson.loads(stored.body)
        resource.pop("meta", None)
        resource["active"] = False
        repo.update(key[0], key[1], resource)
        entry = tracking.entries(db, [key])[key]
        tracking.update_entries(
            db, entry.last_seen_run, [(key, content_hash(resource))], active=False
        )
        report.counts[key[0]].deactivated += 1


def _mark_interrupted(importer: _Importer, run: int) -> None:
    try:
        with importer.transaction() as db:
            tracking.set_status(db, run, "interrupted", importer.now())
    except Exception:
        # The database itself may be what failed: keep the original error, not this one.
        log.exception("directory import %s: could not record the interruption", run)


def _report_rows(errors: list[LineError]) -> list[tuple[object, ...]]:
    return [(error.line, error.field, error.reason) for error in errors]


def import_directory(
    *,
    source: Path,
    record: Record,
    ctx: AccessContext,
    transaction: TransactionFactory,
    mode: ImportMode = "full",
    report_path: Path | None = None,
    batch_lines: int = 200,
    max_deactivation_share: float = 0.25,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an Annuaire Santé ``Personne_activite`` extract (see the module docstring).

    ``transaction`` opens a transaction per batch (the runtime's ``transaction``); ``ctx`` is
    the system context writes are made and audited under. Rejected lines go to
    ``report_path`` (CSV: line, column, reason), if given. Raises ``DirectoryFileError`` when
    the file is not an extract, ``ImportAlreadyRunning`` when another import is active.
    """
    with ExtractReader(source):
        pass  # a file that is not an extract is refused before any run is recorded
    importer = _Importer(record=record, ctx=ctx, transaction=transaction)
    digest = file_digest(source)
    with importer.transaction() as db:
        state = tracking.open_run(
            db,
            digest=digest,
            name=source.name,
            mode=mode,
            now=importer.now(),
            stale_after=STALE_AFTER,
            report_path=report_path,
        )
    errors = LineReport(report_path, size=state.report_size, header=_REPORT_HEADER)
    try:
        importer.run(source, state, errors, batch_lines=batch_lines, progress=progress)
        if mode == "full":
            importer.deactivate(state.run, state.report, max_deactivation_share)
        if state.report.status == "running":
            state.report.status = "finished"
        with importer.transaction() as db:
            tracking.save_progress(
                db,
                state.run,
                lines_done=importer.lines_done,
                report=state.report,
                report_size=errors.size,
                now=importer.now(),
                finished=True,
            )
    except BaseException:
        # Ctrl-C, a refused batch, an outage: the same command resumes the run at once (a
        # process killed outright leaves it "running" until STALE_AFTER has passed).
        _mark_interrupted(importer, state.run)
        raise
    finally:
        errors.close()
    return state.report
