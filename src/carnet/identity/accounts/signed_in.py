"""A signed-in person's sessions, seen from their account: the live session a cookie names
(with the profiles it may act as), switching profile, signing out, ending other sessions.

``sessions`` keeps the rows (tokens, stages, expiry); this module adds what the account knows
(disabled, development-only, roles, children) and audits each change on the account's chain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from carnet.audit.tags import EventTag
from carnet.identity.accounts import models, sessions
from carnet.identity.accounts.context import AccountsContext
from carnet.identity.accounts.errors import NotAllowed
from carnet.identity.accounts.schemas import (
    CurrentSession,
    IssuedSession,
    OperatorRole,
    Profile,
)

_p = models.profile


def current(ctx: AccountsContext, db: Connection, *, token: str) -> CurrentSession | None:
    """The live session of a cookie's token, or None: unknown, expired, revoked, or its
    account disabled (or a development account where they are off). A read only."""
    now = ctx.clock.now()
    row = sessions.find(db, token, timeouts=ctx.timeouts, now=now)
    if row is None:
        return None
    account = ctx.account(db, row.account_id)
    if account.disabled_at is not None or (account.dev_only and not ctx.dev_accounts):
        return None
    return CurrentSession(
        session_id=row.id,
        account_id=account.id,
        kind=account.kind,
        person_id=account.person_id,
        stage=row.stage,
        roles=frozenset(OperatorRole(r) for r in account.roles.split(",") if r),
        patient_id=row.patient_id,
        profiles=_profiles(ctx, db, account),
        second_factor=account.second_factor,
        method=row.method,
        needs_touch=now - row.last_seen_at >= sessions.TOUCH_EVERY,
    )


def _profiles(ctx: AccountsContext, db: Connection, account: Any) -> tuple[Profile, ...]:
    # A patient acts as themself first, then as each child they represent, in order.
    if account.kind != "patient" or account.person_id is None:
        return ()
    rows = db.execute(select(_p).where(_p.c.account_id == account.id).order_by(_p.c.position)).all()
    children = tuple(
        Profile(
            patient_id=r.patient_id,
            relation="child",
            label=ctx.sealer.open(r.label_sealed, context=f"{account.id}:{r.patient_id}"),
        )
        for r in rows
    )
    return (Profile(patient_id=account.person_id, relation="self", label=""), *children)


def switch_profile(
    ctx: AccountsContext, db: Connection, *, session: CurrentSession, index: int
) -> IssuedSession:
    """Act as another profile of the account; the session rotates (a privilege change)."""
    if not 0 <= index < len(session.profiles):
        raise NotAllowed("profile")
    now = ctx.clock.now()
    sessions.set_profile(
        db, session_id=session.session_id, patient_id=session.profiles[index].patient_id
    )
    stored = db.execute(
        select(models.session).where(models.session.c.id == session.session_id)
    ).one()
    issued = sessions.rotate(db, stored, now=now)
    ctx.record(
        db,
        EventTag.IDENTITY_PROFILE_SWITCH,
        account=ctx.account(db, session.account_id),
        detail={"relation": session.profiles[index].relation},
    )
    return issued


def sign_out(ctx: AccountsContext, db: Connection, *, session: CurrentSession) -> None:
    """End this session on the server (its cookie is worth nothing afterwards)."""
    sessions.revoke(db, session_id=session.session_id, now=ctx.clock.now())
    ctx.record(
        db,
        EventTag.IDENTITY_SESSION_REVOKE,
        account=ctx.account(db, session.account_id),
        detail={"reason": "sign-out"},
    )


def sign_out_everywhere(ctx: AccountsContext, db: Connection, *, session: CurrentSession) -> int:
    """End every session of the account, this one included; how many were live."""
    ended = sessions.revoke_all(db, account_id=session.account_id, now=ctx.clock.now())
    ctx.record(
        db,
        EventTag.IDENTITY_SESSION_REVOKE_ALL,
        account=ctx.account(db, session.account_id),
        detail={"sessions": ended},
    )
    return ended


def revoke_session(
    ctx: AccountsContext, db: Connection, *, session: CurrentSession, session_id: str
) -> bool:
    """End one of the account's own sessions (another account's id does nothing)."""
    done = sessions.revoke(
        db, session_id=session_id, now=ctx.clock.now(), account_id=session.account_id
    )
    if done:
        ctx.record(
            db,
            EventTag.IDENTITY_SESSION_REVOKE,
            account=ctx.account(db, session.account_id),
            detail={"reason": "revoked"},
        )
    return done


def expire_pending(ctx: AccountsContext, db: Connection, *, token: str) -> None:
    """Drop a pending sign-in (the person gave up or starts again); an active session's token
    is left alone."""
    row = sessions.find(db, token, timeouts=ctx.timeouts, now=ctx.clock.now())
    if row is not None and row.stage == "second-factor":
        sessions.revoke(db, session_id=row.id, now=ctx.clock.now())
