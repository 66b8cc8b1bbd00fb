"""What the account flows share: keys, hasher, clock, settings, and the audit writer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from carnet.audit.schemas import AuditRecord
from carnet.audit.service import AuditTrail
from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import ANONYMOUS, Actor, ActorKind
from carnet.core.clock import Clock
from carnet.identity.accounts import models
from carnet.identity.accounts.config import AccountsSettings
from carnet.identity.accounts.passwords import PasswordHasher, normalise_login
from carnet.identity.accounts.sealing import Sealer
from carnet.identity.accounts.sessions import Timeouts
from carnet.identity.accounts.throttle import Limit
from carnet.jobs.service import JobQueue

Transaction = Callable[..., AbstractContextManager[Connection]]
"""Opens a transaction (``Database.transaction``): flows that hash a password use two, so the
0.2 s of argon2 never runs while SQLite's single writer lock is held."""

_a = models.account


@dataclass
class AccountsContext:
    settings: AccountsSettings
    sealer: Sealer
    hasher: PasswordHasher
    login_index: Callable[[str], str]
    """The blind index of a normalised login (``Storage.blind_index``)."""
    address_index: Callable[[str], str]
    audit: AuditTrail
    jobs: JobQueue
    clock: Clock
    production: bool
    dev_accounts: bool
    sms_available: bool
    service_name: str
    public_base_url: str
    """Where the portal is (links in e-mails: the security page)."""

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            absolute=timedelta(hours=self.settings.session_absolute_hours),
        )

    @property
    def code_lifetime(self) -> timedelta:
        return timedelta(minutes=self.settings.code_minutes)

    @property
    def device_lifetime(self) -> timedelta:
        return timedelta(days=self.settings.trusted_device_days)

    @property
    def lock_window(self) -> timedelta:
        return timedelta(minutes=self.settings.lockout_minutes)

    def limit(self, failures: int) -> Limit:
        return Limit(failures=failures, window=self.lock_window)

    def login_key(self, login: str) -> str:
        return self.login_index(normalise_login(login))

    def account_by_login(self, db: Connection, login: str) -> Any | None:
        return db.execute(select(_a).where(_a.c.login_mac == self.login_key(login))).first()

    def account(self, db: Connection, account_id: str) -> Any:
        """The account row of an id known to exist (a session's, say): raises otherwise."""
        return db.execute(select(_a).where(_a.c.id == account_id)).one()

    def record(
        self,
        db: Connection,
        tag: EventTag,
        *,
        account: Any | None,
        outcome: Outcome = Outcome.SUCCESS,
        actor: Actor | None = None,
        detail: Mapping[str, str | int | bool | list[str]] | None = None,
    ) -> None:
        """Audit an account event: on the patient's own chain for a patient's account (it
        belongs in their access history), on the system chain otherwise."""
        record_account_event(
            self.audit, db, tag, account=account, outcome=outcome, actor=actor, detail=detail
        )

    def audit_operator(
        self, db: Connection, *, account: Any, action: str, entity: str, outcome: Outcome
    ) -> None:
        """An operator's action: on the system chain, the operator as actor, the action named."""
        self.audit.record(
            db,
            AuditRecord(
                tag=EventTag.IDENTITY_OPERATOR_ACTION,
                outcome=outcome,
                actor=actor_of(account),
                patient_id=None,
                entity=entity or f"account/{account.id}",
                detail={"action": action[:64], "roles": account.roles},
            ),
        )


def actor_of(account: Any) -> Actor:
    """The actor an account acts as once signed in."""
    kind = {
        "patient": ActorKind.PATIENT,
        "professional": ActorKind.PROFESSIONAL,
        "operator": ActorKind.OPERATOR,
    }[account.kind]
    return Actor(kind=kind, id=account.person_id or account.id)


def record_account_event(
    audit: AuditTrail,
    db: Connection,
    tag: EventTag,
    *,
    account: Any | None,
    outcome: Outcome = Outcome.SUCCESS,
    actor: Actor | None = None,
    detail: Mapping[str, str | int | bool | list[str]] | None = None,
) -> None:
    patient_id = account.person_id if account is not None and account.kind == "patient" else None
    if actor is None:
        actor = (
            actor_of(account) if account is not None and outcome == Outcome.SUCCESS else ANONYMOUS
        )
    audit.record(
        db,
        AuditRecord(
            tag=tag,
            outcome=outcome,
            actor=actor,
            patient_id=patient_id,
            entity=f"account/{account.id}" if account is not None else "account/-",
            detail=dict(detail or {}),
        ),
    )
