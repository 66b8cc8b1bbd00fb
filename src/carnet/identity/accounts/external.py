"""Sign-in through an external provider (FranceConnect, Pro Santé Connect): the account of a
person, found or created passwordless, and an active session for it.

Callers reach them through ``Accounts.open_session`` and ``Accounts.account_for_person``,
which pass the context (audit trail, jobs, clock) that every opened session is audited and
announced with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, insert, select

from carnet.audit.tags import EventTag
from carnet.core.actor import CARNET
from carnet.core.ids import new_id
from carnet.identity.accounts import alerts, devices, models, sessions
from carnet.identity.accounts.context import AccountsContext
from carnet.identity.accounts.errors import SignInRefused
from carnet.identity.accounts.schemas import IssuedSession

_a = models.account


def open_session(
    ctx: AccountsContext,
    db: Connection,
    *,
    account_id: str,
    method: str,
    acr: str | None,
    client_address: str | None,
    user_agent: str | None,
    now: datetime,
    device_token: str | None = None,
) -> IssuedSession:
    """Open an active session for an account after an external sign-in (``method``:
    ``franceconnect``, ``pro-sante-connect``…; ``acr``: the level the provider asserted).

    Set its token as the cookie with ``web.accounts.cookies.set_session_cookie``. The client
    address is not stored (it is personal data and nothing here needs it later). Unless
    ``device_token`` (the browser's trusted-device cookie) is a live device of the account, the
    person is told of the new sign-in by e-mail.
    """
    del client_address
    account = db.execute(select(_a).where(_a.c.id == account_id)).first()
    if account is None or account.disabled_at is not None:
        raise SignInRefused
    issued = sessions.create(
        db,
        account_id=account_id,
        stage="active",
        method=method[:32],
        acr=acr[:100] if acr else None,
        user_agent=user_agent,
        now=now,
        patient_id=account.person_id if account.kind == "patient" else None,
    )
    ctx.record(
        db,
        EventTag.IDENTITY_SESSION_OPEN,
        account=account,
        detail={"method": method[:32], "acr": (acr or "")[:100]},
    )
    if devices.recognise(db, account_id=account.id, token=device_token, now=now) is None:
        alerts.announce_new_sign_in(ctx, db, account, user_agent=user_agent)
    return issued


def account_for_person(
    ctx: AccountsContext,
    db: Connection,
    *,
    person_kind: Literal["patient", "professional"],
    person_id: str,
    create: bool,
) -> str | None:
    """The account of a Patient or Practitioner (by FHIR id); with ``create``, a passwordless
    one (signing in only through an external provider) is made if there is none."""
    found = db.execute(
        select(_a.c.id).where(_a.c.kind == person_kind, _a.c.person_id == person_id)
    ).scalar()
    if found is not None or not create:
        return found
    account_id = new_id()
    db.execute(
        insert(_a).values(
            id=account_id,
            kind=person_kind,
            person_id=person_id,
            second_factor="email",
            totp_last_step=0,
            roles="",
            dev_only=False,
            language="fr",
            created_at=ctx.clock.now(),
        )
    )
    account = db.execute(select(_a).where(_a.c.id == account_id)).one()
    ctx.record(
        db,
        EventTag.IDENTITY_ACCOUNT_CREATE,
        account=account,
        actor=CARNET,
        detail={"kind": person_kind, "passwordless": True},
    )
    return account_id
