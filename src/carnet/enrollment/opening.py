"""Opening spaces: one person's (``open_space``: their request, their activation, the job), and
the scheduled job that opens every space whose opposition window ended without opposition.

- **What opening does.** The space's Patient is written through the record's Repository as
  Carnet itself, under the beneficiary's id and so with the data key the registry import made
  (``spaces`` builds it from the sealed entry); the ``enrollment_space`` row gets the legal
  defaults; the person becomes ``open``; an old DMP is merged (``ports.DmpMerge``) unless they
  refused it; the opening is audited in their chain, and they are told by e-mail (no health
  data, no identifier) when they gave an address.
- **Who the job opens.** People ``notified`` whose every notice's window has ended (a letter
  printed late carries its own, later, deadline; a minor child's are their holder's);
  ``letter-due`` people wait for their letter.
  Someone who opposed, died, or whose space was opened meanwhile has left ``notified``.
- **Resumable, safe twice or at once.** The job runs in batches (``opening_job``), one
  transaction each: its people are claimed under row locks (``SKIP LOCKED`` on PostgreSQL) and
  leave ``notified`` in the same transaction, so a crash rolls a batch back whole and the next
  run finds its people still due; concurrent runners take disjoint people. ``open_space`` locks
  the person's row and is idempotent.
- **Choices.** ``Openings.space`` reads a space, ``Openings.choose`` records the first choices
  at activation and later settings (``spaces``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, func, or_, select

from carnet.audit.service import Outcome
from carnet.core.actor import Actor
from carnet.enrollment import models, opening_job, spaces
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.errors import SpaceNotOpenable
from carnet.enrollment.ports import DmpMerge, NothingToMerge
from carnet.enrollment.registry_apply import open_entry
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    Confidentiality,
    DmpMergeOutcome,
    OpenedBy,
    OpeningReport,
    RegistryEntry,
    Space,
)
from carnet.jobs.service import JobQueue
from carnet.notify import service as notify_service
from carnet.notify.errors import InvalidRecipient
from carnet.storage.service import join_data_key

OPENING_JOB: Final = "enrollment:opening"
"""The periodic job: starts a walk over the people due a space (one batch per step)."""
OPENING_STEP_JOB: Final = "enrollment:opening-step"
OPENED_TEMPLATE: Final = spaces.OPENED_TEMPLATE
_EVERY: Final = timedelta(hours=1)

_beneficiary = models.beneficiary
_notice = models.notice
_Status = BeneficiaryStatus
# Who may not get a space here, and why (other steps reopen closed or suspended spaces).
_REFUSED: Final = {
    _Status.DECEASED: "deceased",
    _Status.SUSPENDED: "suspended",
    _Status.CLOSED: "closed",
    _Status.ERASED: "erased",
}


def _window_over(db: Connection, beneficiary_id: str, today: date) -> bool:
    """Whether the person was informed and every window they were given has ended (a minor
    dependant's are their holder's: the holder's notice informed them)."""
    holder = select(_beneficiary.c.holder_id).where(_beneficiary.c.id == beneficiary_id)
    deadline = db.execute(
        select(func.max(_notice.c.opposition_ends)).where(
            or_(
                _notice.c.beneficiary_id == beneficiary_id,
                _notice.c.beneficiary_id.in_(holder.scalar_subquery()),
            )
        )
    ).scalar_one_or_none()
    return deadline is not None and deadline < today


def _refusal(
    db: Connection, beneficiary_id: str, status: BeneficiaryStatus, opened_by: str, today: date
) -> str | None:
    """Why this person cannot get a space this way (None: they can)."""
    if status in _REFUSED:
        return _REFUSED[status]
    if status is _Status.OPPOSED and opened_by != "request":
        return "opposed"
    if opened_by != "automatic":
        return None
    if status is not _Status.NOTIFIED or not _window_over(db, beneficiary_id, today):
        return "not-notified"
    return None


def open_space(
    db: Connection,
    wiring: Wiring,
    *,
    actor: Actor,
    beneficiary_id: str,
    opened_by: OpenedBy,
    dmp_merge: bool = True,
    now: datetime,
    merger: DmpMerge | None = None,
) -> bool:
    """Open the space of ``beneficiary_id`` (see the module docstring); False when it exists
    already. ``dmp_merge=False`` records that the person refused the merge of an old DMP
    (``merger`` is then not called). Raises ``SpaceNotOpenable`` (audited) for someone unknown,
    deceased, suspended, closed or erased, who opposed (unless ``opened_by="request"``), or, for
    ``"automatic"``, whose window has not ended."""
    joined, key_columns = join_data_key(_beneficiary, _beneficiary.c.id)
    row = db.execute(
        select(_beneficiary.c.id, _beneficiary.c.status, _beneficiary.c.sealed, *key_columns)
        .select_from(joined)
        .where(_beneficiary.c.id == beneficiary_id)
        .with_for_update(of=_beneficiary)
    ).first()
    if row is None:
        raise SpaceNotOpenable("unknown")
    status = _Status(row.status)
    if status in (_Status.OPEN, _Status.ACTIVE) or spaces.get_space(db, patient_id=row.id):
        return False
    reason = _refusal(db, row.id, status, opened_by, spaces.today_of(now))
    entry = open_entry(wiring.storage, row) if reason is None else None
    if reason is None and entry is None:
        reason = "erased"
    if reason is not None or entry is None:
        refusal: dict[str, str | int | bool | list[str]] = {"reason": reason or "erased"}
        _audit_open(
            wiring, db, actor=actor, patient_id=row.id, outcome=Outcome.REFUSED, detail=refusal
        )
        raise SpaceNotOpenable(reason or "erased")
    prepared = wiring.record.prepare(spaces.patient_resource(row.id, entry))
    repo = wiring.record.repository(db=db, ctx=spaces.carnet_context())
    repo.update("Patient", row.id, prepared)
    outcome: DmpMergeOutcome = "refused"
    if dmp_merge:
        outcome = (merger or NothingToMerge()).merge(db, patient_id=row.id)
    spaces.insert_spaces(
        db, [spaces.space_row(row.id, opened_by=opened_by, dmp_merge=outcome, now=now)]
    )
    db.execute(spaces.SET_OPEN, [{"b_id": row.id, "v_from": status.value, "v_at": now}])
    detail = spaces.open_detail(opened_by, outcome)
    _audit_open(wiring, db, actor=actor, patient_id=row.id, outcome=Outcome.SUCCESS, detail=detail)
    _tell(db, wiring, entry)
    return True


def _audit_open(
    wiring: Wiring,
    db: Connection,
    *,
    actor: Actor,
    patient_id: str,
    outcome: Outcome,
    detail: Mapping[str, str | int | bool | list[str]],
) -> None:
    wiring.audit.record(db, spaces.open_record(actor, patient_id, outcome, detail))


def _tell(db: Connection, wiring: Wiring, entry: RegistryEntry) -> bool:
    """Queue the "your space is open" e-mail; False without a usable address (the person was
    told by letter that it would open)."""
    if not entry.email:
        return False
    try:
        notify_service.queue_email(
            db,
            wiring.jobs,
            to=entry.email,
            template=spaces.OPENED_TEMPLATE,
            context={"link": wiring.activation_url},
        )
    except InvalidRecipient:
        return False
    return True


TransactionFactory = Callable[[], AbstractContextManager[Connection]]


class Openings:
    """Opening spaces and their settings, over the enrollment wiring (``Enrollment.opening``).
    Methods taking ``db`` use the caller's transaction and never commit."""

    def __init__(self, wiring: Wiring, *, dmp: DmpMerge | None = None) -> None:
        self._wiring = wiring
        self.dmp: DmpMerge = dmp or NothingToMerge()
        """The DMP-merge adapter (the interop area replaces the default)."""

    def register_jobs(self, jobs: JobQueue) -> None:
        """The periodic opening job and its steps (``Enrollment.register_jobs`` calls this)."""
        jobs.register_periodic(OPENING_JOB, self._start_walk, every=_EVERY)
        jobs.register(OPENING_STEP_JOB, self._run_step)

    def _start_walk(self, db: Connection, _payload: Mapping[str, Any]) -> None:
        self._step(db, after="")

    def _run_step(self, db: Connection, payload: Mapping[str, Any]) -> None:
        self._step(db, after=str(payload.get("after", "")))

    def _step(self, db: Connection, *, after: str) -> None:
        wiring = self._wiring
        cursor = opening_job.open_batch(
            db,
            wiring,
            today=spaces.today_of(wiring.storage.clock.now()),
            after=after,
            limit=wiring.settings.opening_batch,
            merger=self.dmp,
            report=OpeningReport(),
        )
        if cursor is not None:
            # One pending step at a time: the periodic start and a step never walk together.
            wiring.jobs.enqueue(
                db,
                kind=OPENING_STEP_JOB,
                payload={"after": cursor},
                dedup_key="enrollment-opening",
            )

    def open(
        self,
        db: Connection,
        *,
        actor: Actor,
        beneficiary_id: str,
        opened_by: OpenedBy,
        dmp_merge: bool = True,
    ) -> bool:
        """``open_space`` with this process's clock and DMP adapter."""
        return open_space(
            db,
            self._wiring,
            actor=actor,
            beneficiary_id=beneficiary_id,
            opened_by=opened_by,
            dmp_merge=dmp_merge,
            now=self._wiring.storage.clock.now(),
            merger=self.dmp,
        )

    def open_due(
        self,
        transaction: TransactionFactory,
        *,
        batch: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> OpeningReport:
        """Open every space due now, one transaction per batch (``transaction`` opens one);
        ``progress`` is told how many people each batch handled. Resumable: run it again."""
        report = OpeningReport()
        wiring, cursor = self._wiring, ""
        limit = batch or wiring.settings.opening_batch
        today = spaces.today_of(wiring.storage.clock.now())
        while True:
            before = report.opened + report.skipped
            with transaction() as db:
                after = opening_job.open_batch(
                    db,
                    wiring,
                    today=today,
                    after=cursor,
                    limit=limit,
                    merger=self.dmp,
                    report=report,
                )
            if progress is not None:
                progress(report.opened + report.skipped - before)
            if after is None:
                return report
            cursor = after

    def due(self, db: Connection) -> int:
        """How many people are due a space now (for progress bars; counts only)."""
        today = spaces.today_of(self._wiring.storage.clock.now())
        return opening_job.due_count(db, today=today)

    def space(self, db: Connection, *, patient_id: str) -> Space | None:
        """The space of ``patient_id`` (the beneficiary's id), or None."""
        return spaces.get_space(db, patient_id=patient_id)

    def choose(
        self,
        db: Connection,
        *,
        actor: Actor,
        patient_id: str,
        default_confidentiality: Confidentiality,
        samu_access: bool,
        break_glass_access: bool,
        emergency_masked_access: bool,
    ) -> Space:
        """Record the person's choices (first choices at activation, later the settings page);
        audited. Raises ``NoSpace`` without a space, ``InvalidInput`` for a confidentiality
        other than ``visible`` or ``masked``."""
        return spaces.choose(
            db,
            self._wiring.audit,
            actor=actor,
            patient_id=patient_id,
            default_confidentiality=default_confidentiality,
            samu_access=samu_access,
            break_glass_access=break_glass_access,
            emergency_masked_access=emergency_masked_access,
            now=self._wiring.storage.clock.now(),
        )
