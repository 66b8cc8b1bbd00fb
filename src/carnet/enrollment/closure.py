"""Closing, reopening, suspending and erasing spaces: ``Closures`` is the public face
(``runtime.enrollment.closure``). The rules (R1111-36, L1111-13-1): the holder closes at any
time (password again), with or without a deletion request; the archive is kept 10 years, then
destroyed by crypto-shredding; a deletion request is honoured within 3 months; a space reopened
within the archive period gets its data back; a death closes the space; an operator may suspend
a space (fraud, serious malfunction), which closes 6 weeks later without objection.

The work is done by ``closure_steps`` (closing), ``suspension``, ``reopening`` and ``retention``
(the jobs: deaths, ended suspensions, erasure).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from carnet.core.actor import Actor
from carnet.enrollment import closure_steps, reopening, retention, suspension
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.schemas import ClosureSweep, SpaceEvent, SpaceState, SuspensionReason
from carnet.identity.accounts.service import CurrentSession, Transaction, actor_for
from carnet.jobs.service import JobQueue

__all__ = [
    "CLOSURE_MORE_JOB",
    "CLOSURE_SWEEP_JOB",
    "Closures",
    "SuspensionReason",
]

CLOSURE_SWEEP_JOB = retention.CLOSURE_SWEEP_JOB
CLOSURE_MORE_JOB = retention.CLOSURE_MORE_JOB


class Closures:
    """The end of spaces and their return. Methods taking ``db`` never commit; refusals are
    audited and raised as ``enrollment.errors`` (ClientErrors: the entry point commits the
    refusal's audit event, and nothing else was written)."""

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    def register_jobs(self, jobs: JobQueue) -> None:
        """The closure sweep (deaths, ended suspensions, erasures), every
        ``closure_sweep_minutes``, and its follow-up while batches come back full."""
        every = timedelta(minutes=self._wiring.settings.closure_sweep_minutes)
        jobs.register_periodic(CLOSURE_SWEEP_JOB, self._run_sweep, every=every)
        jobs.register(CLOSURE_MORE_JOB, self._run_sweep)

    def _run_sweep(self, db: Connection, payload: Mapping[str, Any]) -> None:
        retention.run_sweep(db, self._wiring, payload)

    # --- reading ------------------------------------------------------------------------------

    def state(self, db: Connection, *, patient_id: str) -> SpaceState | None:
        """Where the space of ``patient_id`` stands, or None when there is none."""
        row = closure_steps.load(db, patient_id)
        return None if row is None else closure_steps.state_of(row, self._wiring)

    def history(self, db: Connection, *, patient_id: str, limit: int = 50) -> list[SpaceEvent]:
        """The space's closure history (closed, reopened, suspended, lifted, deletion asked,
        erased, death reported), newest first: ids and codes only."""
        return closure_steps.history(db, patient_id, limit=limit)

    # --- the holder ---------------------------------------------------------------------------

    def close_by_holder(
        self,
        transaction: Transaction,
        *,
        session: CurrentSession,
        password: str,
        deletion_requested: bool,
        client_address: str | None,
    ) -> SpaceState:
        """The signed-in holder closes their own space (blocking: the password is checked with
        argon2 between transactions). Raises accounts' ``SignInRefused``, ``LockedOut`` or
        ``FreshSignInRequired`` (an account without a password signed in too long ago), then
        ``SpaceNotFound``, ``SpaceErased`` or ``SpaceStateConflict`` (already closed)."""
        wiring = self._wiring
        wiring.accounts.confirm_holder(
            transaction,
            session=session,
            password=password,
            client_address=client_address,
            fresh_within=timedelta(minutes=wiring.settings.reauth_minutes),
        )
        with transaction() as db:
            return self.close(
                db,
                actor=actor_for(session),
                patient_id=session.person_id or "",
                deletion_requested=deletion_requested,
            )

    def close(
        self, db: Connection, *, actor: Actor, patient_id: str, deletion_requested: bool = False
    ) -> SpaceState:
        """Close a space at its holder's request, once the caller has checked who asks (the
        portal through ``close_by_holder``; an operator on a written request)."""
        return closure_steps.close(
            db,
            self._wiring,
            actor=actor,
            patient_id=patient_id,
            deletion_requested=deletion_requested,
        )

    def request_deletion(self, db: Connection, *, actor: Actor, patient_id: str) -> SpaceState:
        """Ask for an already closed space's archive to be destroyed within ``deletion_days``
        (an operator, on the holder's request)."""
        return closure_steps.request_deletion(db, self._wiring, actor=actor, patient_id=patient_id)

    def reopen_with_card(
        self,
        db: Connection,
        *,
        nir: str,
        vitale_serial: str,
        birth_date: date,
        client_address: str | None,
    ) -> SpaceState:
        """Reopen the closed space of whoever proves NIR, Carte Vitale serial and birth date
        (see ``reopening``). Raises ``InvalidNir``, ``TooManyTries``, ``SpaceNotFound``,
        ``SpaceErased``, ``ReopenNotAllowed`` or ``SpaceStateConflict``."""
        return reopening.reopen_with_card(
            db,
            self._wiring,
            nir=nir,
            vitale_serial=vitale_serial,
            birth_date=birth_date,
            client_address=client_address,
        )

    def reopen(self, db: Connection, *, actor: Actor, patient_id: str) -> SpaceState:
        """Reopen a closed space once the caller has checked who asks (an operator)."""
        return reopening.reopen(db, self._wiring, actor=actor, patient_id=patient_id)

    # --- operators ----------------------------------------------------------------------------

    def suspend(
        self, db: Connection, *, actor: Actor, patient_id: str, reason: SuspensionReason | str
    ) -> SpaceState:
        """Suspend an open or active space: ``reason`` is ``fraud`` or ``malfunction``
        (``InvalidInput`` otherwise). Sign-ins are refused at once, the person is told and may
        object through support; the space closes ``suspension_days`` later unless lifted.
        Raises ``SpaceNotFound``, ``SpaceErased`` or ``SpaceStateConflict`` (``state``:
        ``suspended`` or ``closed``)."""
        return suspension.suspend(
            db, self._wiring, actor=actor, patient_id=patient_id, reason=str(reason)
        )

    def lift_suspension(self, db: Connection, *, actor: Actor, patient_id: str) -> SpaceState:
        """End a suspension: the space is ``active`` again (``open`` without an account) and
        sign-ins work. Raises ``SpaceNotFound``, ``SpaceErased`` or ``SpaceStateConflict``
        (not suspended)."""
        return suspension.lift_suspension(db, self._wiring, actor=actor, patient_id=patient_id)

    # --- the jobs, callable directly (tests, ``carnet enrollment closure-sweep``) -------------

    def sweep(self, db: Connection) -> ClosureSweep:
        """One bounded run of the closure jobs: deaths, ended suspensions, erasures."""
        return retention.sweep(db, self._wiring)
