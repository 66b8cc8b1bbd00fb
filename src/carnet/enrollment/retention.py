"""The closure jobs: what happens to spaces with time, without anyone asking.

- **Deaths.** A registry import that reports the death of someone with a space leaves a pending
  ``death`` event (``registry_apply``); the job closes that space (reason ``death``, archive
  kept ``retention_years``) and ends its sessions. Nobody is e-mailed about a death.
- **Ended suspensions.** A space suspended more than ``suspension_days`` ago, and not lifted,
  closes (reason ``fraud``); the person is told how to reach support.
- **Erasure.** A space whose ``erase_after`` has passed is destroyed by crypto-shredding: the
  person's data key is erased (every copy of their registry entry, record and documents, in the
  database, its backups and the blob store, becomes unreadable), the status becomes ``erased``,
  the account is anonymised. It is audited on the system chain: the person's own chain keeps its
  events (ids and codes, never data), but nobody can open their space to read it any more.
- **Resumable, bounded.** Each run handles at most ``closure_batch`` spaces per kind of work in
  one transaction (the job's); when a batch was full another run is queued at once. All the
  state is in the tables, so a crash only delays the work, and a second run finds nothing left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, select, update

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import CARNET
from carnet.enrollment import closure_steps, models
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.closure_steps import EventKind, close_space, load
from carnet.enrollment.schemas import BeneficiaryStatus, CloseReason, ClosureSweep

CLOSURE_SWEEP_JOB = "enrollment:closure-sweep"
CLOSURE_MORE_JOB = "enrollment:closure-more"
_b = models.beneficiary
_space = models.space
_event = models.space_event
Status = BeneficiaryStatus
_WITH_LIVE_SPACE = (Status.OPEN, Status.ACTIVE, Status.SUSPENDED, Status.DECEASED)


def _claim(db: Connection, query: Select[Any]) -> list[Any]:
    # Concurrent workers skip each other's rows on PostgreSQL (SQLite has one writer).
    if db.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.execute(query))


def close_deaths(db: Connection, wiring: Wiring, *, limit: int) -> int:
    """Close the spaces of deaths the registry reported; the number of reports handled (a
    report is done also when there was no live space left to close)."""
    now = wiring.storage.clock.now()
    pending = _claim(
        db,
        select(_event.c.id, _event.c.patient_id)
        .where(_event.c.done_at.is_(None), _event.c.kind == EventKind.DEATH.value)
        .order_by(_event.c.at)
        .limit(limit),
    )
    for event in pending:
        row = load(db, event.patient_id, lock=True)
        if row is not None and row.closed_at is None and row.status in _WITH_LIVE_SPACE:
            close_space(db, wiring, row, actor=CARNET, reason=CloseReason.DEATH)
        db.execute(update(_event).where(_event.c.id == event.id).values(done_at=now))
    return len(pending)


def close_ended_suspensions(db: Connection, wiring: Wiring, *, limit: int) -> int:
    """Close (reason ``fraud``) the spaces suspended longer than the objection delay."""
    cutoff = wiring.storage.clock.now() - wiring.settings.suspension_delay
    due = _claim(
        db,
        select(_space.c.patient_id)
        .where(_space.c.suspended_at <= cutoff, _space.c.closed_at.is_(None))
        .order_by(_space.c.suspended_at)
        .limit(limit),
    )
    closed = 0
    for item in due:
        row = load(db, item.patient_id, lock=True)
        if row is not None and row.status == Status.SUSPENDED:
            close_space(db, wiring, row, actor=CARNET, reason=CloseReason.FRAUD)
            closed += 1
    return closed


def erase_due(db: Connection, wiring: Wiring, *, limit: int) -> int:
    """Crypto-shred the spaces whose archive period is over; the number erased."""
    now = wiring.storage.clock.now()
    due = _claim(
        db,
        select(_space.c.patient_id)
        .where(_space.c.erase_after <= now)
        .order_by(_space.c.erase_after)
        .limit(limit),
    )
    return sum(erase_one(db, wiring, item.patient_id) for item in due)


def erase_one(db: Connection, wiring: Wiring, patient_id: str) -> bool:
    """Erase one space if it is (still) due: see the module docstring."""
    now = wiring.storage.clock.now()
    row = load(db, patient_id, lock=True)
    if row is None or row.erase_after is None or row.erase_after > now:
        return False
    told = False
    if row.status != Status.ERASED and row.close_reason != CloseReason.DEATH:
        # Told first: the address is unreadable once the key is gone.
        told = closure_steps.tell(db, wiring, row, template="space_erased", context={})
    destroyed = wiring.storage.destroy_data_key(db, owner_id=patient_id)
    db.execute(
        update(_b).where(_b.c.id == patient_id).values(status=Status.ERASED.value, status_at=now)
    )
    db.execute(
        update(_space)
        .where(_space.c.patient_id == patient_id)
        .values(erase_after=None, updated_at=now)
    )
    wiring.accounts.erase_person(db, patient_id=patient_id, account_id=row.account_id)
    closure_steps.record_event(
        db, wiring, patient_id=patient_id, kind=EventKind.ERASED, actor=CARNET
    )
    wiring.audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_SPACE_ERASE,
            outcome=Outcome.SUCCESS,
            actor=CARNET,
            patient_id=None,  # the system chain: see the module docstring
            entity=f"enrollment-space/{patient_id}",
            detail={
                "reason": row.close_reason or "",
                "deletion_requested": row.deletion_requested_at is not None,
                "key_destroyed": destroyed,
                "told": told,
            },
        ),
    )
    return True


def sweep(db: Connection, wiring: Wiring) -> ClosureSweep:
    """One run of the closure jobs (deaths, ended suspensions, erasures), each bounded."""
    limit = wiring.settings.closure_batch
    deaths = close_deaths(db, wiring, limit=limit)
    suspensions = close_ended_suspensions(db, wiring, limit=limit)
    erased = erase_due(db, wiring, limit=limit)
    return ClosureSweep(
        deaths=deaths,
        suspensions_closed=suspensions,
        erased=erased,
        more=max(deaths, suspensions, erased) >= limit,
    )


def run_sweep(db: Connection, wiring: Wiring, _payload: Mapping[str, Any] | None = None) -> None:
    """The job: one sweep, then another at once while batches come back full."""
    if sweep(db, wiring).more:
        wiring.jobs.enqueue(db, kind=CLOSURE_MORE_JOB, dedup_key=CLOSURE_MORE_JOB)
