"""The opening job's batches: every person ``notified`` whose every notice's window has ended
gets a space (``opening`` states what a space is made of). A minor dependant has no notice of
their own: their holder's notices are theirs, and they wait while the holder is ``letter-due``.

- **Claiming.** A batch reads the next ``limit`` ids in status ``notified`` after its cursor (a
  range of the ``(status, id)`` index), drops those with a window still open (one probe of the
  notices' ``beneficiary_id`` index per id, not a scan of every notice), then locks the rest
  still ``notified`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: concurrent runners take disjoint
  people and never wait; SQLite has one writer). Three small queries whose cost does not grow
  with the tables; the data keys are read by id, never by a join the planner may walk from the
  start of the key table.
- **Writing.** The batch's Patients go through the Repository in one ``put_all`` (one insert
  per table, one audit event per person's chain), the spaces and statuses in one statement
  each, the openings' audit events together (``AuditTrail.record_many``), the e-mails as a few
  batch jobs (``notify.queue_emails``), and one event with the counts in the system chain.
- **Resumable.** One transaction per batch: a crash undoes the batch whole, and its people are
  still ``notified`` for the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Connection, func, or_, select, update

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import CARNET
from carnet.core.db import among
from carnet.enrollment import models, spaces
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.ports import DmpMerge
from carnet.enrollment.registry_apply import entry_from, sealing_context
from carnet.enrollment.schemas import BeneficiaryStatus, OpeningReport, RegistryEntry
from carnet.identity.errors import InvalidIdentity
from carnet.notify import service as notify_service
from carnet.notify.schemas import BatchEmail
from carnet.record.service import PreparedWrite

_beneficiary = models.beneficiary
_notice = models.notice
_NOTIFIED: Final = BeneficiaryStatus.NOTIFIED.value
_UNINFORMED: Final = (BeneficiaryStatus.REGISTERED.value, BeneficiaryStatus.LETTER_DUE.value)


def due_count(db: Connection, *, today: date) -> int:
    """How many people are due a space on ``today`` (one counting query, for progress bars)."""
    # A minor dependant has no notice of their own: their holder's window is theirs.
    window_open = (
        select(_notice.c.id)
        .where(
            or_(
                _notice.c.beneficiary_id == _beneficiary.c.id,
                _notice.c.beneficiary_id == _beneficiary.c.holder_id,
            ),
            _notice.c.opposition_ends >= today,
        )
        .exists()
    )
    query = (
        select(func.count())
        .select_from(_beneficiary)
        .where(_beneficiary.c.status == _NOTIFIED, ~window_open)
    )
    return int(db.execute(query).scalar_one())


def _claim(db: Connection, *, today: date, after: str, limit: int) -> tuple[list[Any], str | None]:
    """The due people of the next ``limit`` ids after ``after``, locked, with their sealed
    entries; and the cursor to go on from (None: the walk is over)."""
    found = db.execute(
        select(_beneficiary.c.id, _beneficiary.c.holder_id)
        .where(_beneficiary.c.status == _NOTIFIED, _beneficiary.c.id > after)
        .order_by(_beneficiary.c.id)
        .limit(limit)
    ).all()
    ids = [row.id for row in found]
    cursor = ids[-1] if len(ids) == limit else None
    waiting = _waiting(db, ids, today)
    # A minor dependant (no notice of their own) waits for their holder's window, and for the
    # holder to be informed again when the holder's e-mail bounced (``letter-due``).
    holders = {row.id: row.holder_id for row in found if row.holder_id is not None}
    if holders:
        held = sorted(set(holders.values()))
        waiting |= _waiting(db, held, today)
        for among_held in among(db, _beneficiary.c.id, held):
            waiting.update(
                db.execute(
                    select(_beneficiary.c.id).where(
                        among_held,
                        _beneficiary.c.status.in_(_UNINFORMED),
                    )
                ).scalars()
            )
    due = [i for i in ids if i not in waiting and holders.get(i) not in waiting]
    rows: list[Any] = []
    for among_due in among(db, _beneficiary.c.id, due):
        # Under the lock the status is read again: someone opened, opposed or died meanwhile
        # is left alone; someone another runner holds is skipped, not waited for.
        query = select(_beneficiary.c.id, _beneficiary.c.sealed).where(
            among_due, _beneficiary.c.status == _NOTIFIED
        )
        if db.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows.extend(db.execute(query))
    return rows, cursor


def _waiting(db: Connection, ids: Sequence[str], today: date) -> set[str]:
    """Those of ``ids`` with a notice whose window is still open (one probe of the notices'
    ``beneficiary_id`` index per id)."""
    waiting: set[str] = set()
    for among_ids in among(db, _notice.c.beneficiary_id, ids):
        waiting.update(
            db.execute(
                select(_notice.c.beneficiary_id).where(
                    among_ids, _notice.c.opposition_ends >= today
                )
            ).scalars()
        )
    return waiting


@dataclass(slots=True)
class _Batch:
    """One batch's people, as they go through the steps."""

    ready: list[tuple[str, RegistryEntry, PreparedWrite]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)


def open_batch(
    db: Connection,
    wiring: Wiring,
    *,
    today: date,
    after: str,
    limit: int,
    merger: DmpMerge,
    report: OpeningReport,
) -> str | None:
    """Open the spaces of the people due among the next ``limit`` ids after the cursor
    ``after``, in the caller's transaction; return the next cursor, or None when the walk is
    over."""
    rows, cursor = _claim(db, today=today, after=after, limit=limit)
    if not rows:
        return cursor
    now = wiring.storage.clock.now()
    batch = _prepare(db, wiring, rows)
    if batch.ready:
        repo = wiring.record.repository(db=db, ctx=spaces.carnet_context())
        repo.put_all([prepared for _, _, prepared in batch.ready])
        _record_opened(db, wiring, batch, merger=merger, now=now, report=report)
    wiring.audit.record_many(
        db,
        [
            spaces.open_record(CARNET, patient_id, Outcome.REFUSED, {"reason": reason})
            for patient_id, reason in batch.refused
        ],
    )
    report.skipped += len(batch.refused)
    report.batches += 1
    _audit_batch(db, wiring, opened=len(batch.ready), skipped=len(batch.refused))
    return cursor


def _prepare(db: Connection, wiring: Wiring, rows: Sequence[Any]) -> _Batch:
    """Open each entry with its data key and make its Patient (validated and indexed); people
    whose key is gone or whose identity the record refuses are set aside, with the reason."""
    keys = wiring.storage.data_keys(db, owner_ids=[row.id for row in rows])
    batch = _Batch()
    for row in rows:
        key = keys.get(row.id)
        if key is None:
            batch.refused.append((row.id, "erased"))
            continue
        entry = entry_from(key.open(row.sealed, sealing_context(row.id)))
        try:
            prepared = wiring.record.prepare(spaces.patient_resource(row.id, entry))
        except InvalidIdentity:
            batch.refused.append((row.id, "identity"))
            continue
        if prepared.issues:
            batch.refused.append((row.id, "identity"))
            continue
        batch.ready.append((row.id, entry, prepared))
    return batch


def _record_opened(
    db: Connection,
    wiring: Wiring,
    batch: _Batch,
    *,
    merger: DmpMerge,
    now: datetime,
    report: OpeningReport,
) -> None:
    rows, records, messages = [], [], []
    for patient_id, entry, _prepared in batch.ready:
        outcome = merger.merge(db, patient_id=patient_id)
        report.merged += outcome == "merged"
        rows.append(spaces.space_row(patient_id, opened_by="automatic", dmp_merge=outcome, now=now))
        detail = spaces.open_detail("automatic", outcome)
        records.append(spaces.open_record(CARNET, patient_id, Outcome.SUCCESS, detail))
        if entry.email and notify_service.is_email_address(entry.email):
            messages.append(BatchEmail(to=entry.email, context={}))
    spaces.insert_spaces(db, rows)
    # Everyone here was read ``notified`` under their row lock (``_claim``).
    opened = [patient_id for patient_id, _, _ in batch.ready]
    for among_opened in among(db, _beneficiary.c.id, opened):
        db.execute(
            update(_beneficiary)
            .where(among_opened, _beneficiary.c.status == _NOTIFIED)
            .values(status=BeneficiaryStatus.OPEN.value, status_at=now)
        )
    wiring.audit.record_many(db, records)
    notify_service.queue_emails(
        db,
        wiring.jobs,
        template=spaces.OPENED_TEMPLATE,
        shared={"link": wiring.activation_url},
        messages=messages,
    )
    report.emailed += len(messages)
    report.opened += len(batch.ready)


def _audit_batch(db: Connection, wiring: Wiring, *, opened: int, skipped: int) -> None:
    wiring.audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_SPACE_OPENING_BATCH,
            outcome=Outcome.SUCCESS,
            actor=CARNET,
            patient_id=None,
            entity="enrollment-space",
            detail={"opened": opened, "skipped": skipped},
        ),
    )
