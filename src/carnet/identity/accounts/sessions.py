"""Server-side sessions: a random token in the cookie, only its hash in the database.

A session starts at the ``second-factor`` stage after a right password and becomes ``active``
after the second factor, under a new token (the id a form's CSRF token is bound to changes
too): a token seen before sign-in is worth nothing after it. A session ends when revoked (sign-
out, "sign out everywhere", a password change), after ``idle`` without use, or ``absolute``
after it was opened; expiry is computed when the session is read, so no sweeper is needed for
correctness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from carnet.core.ids import new_id
from carnet.identity.accounts import models
from carnet.identity.accounts.schemas import IssuedSession, SessionInfo
from carnet.identity.accounts.sealing import new_token, token_hash

_s = models.session
# Writing last_seen_at on every request would turn each page view into a write: a minute of
# slack on a 30-minute idle timeout costs nothing.
TOUCH_EVERY = timedelta(seconds=60)
_USER_AGENT_MAX = 120


@dataclass(frozen=True, slots=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def create(
    db: Connection,
    *,
    account_id: str,
    stage: Literal["second-factor", "active"],
    method: str,
    acr: str | None,
    user_agent: str | None,
    now: datetime,
    patient_id: str | None = None,
) -> IssuedSession:
    """A new session row and its token (returned once, never stored)."""
    token = new_token()
    session_id = new_id()
    db.execute(
        insert(_s).values(
            id=session_id,
            token_mac=token_hash(token),
            account_id=account_id,
            stage=stage,
            method=method,
            acr=acr,
            device_id=None,
            patient_id=patient_id,
            user_agent=(user_agent or "")[:_USER_AGENT_MAX],
            created_at=now,
            last_seen_at=now,
            revoked_at=None,
        )
    )
    return IssuedSession(token=token, session_id=session_id)


def find(db: Connection, token: str, *, timeouts: Timeouts, now: datetime) -> Any | None:
    """The live session row of a cookie's token, or None (unknown, revoked or expired)."""
    if not token or len(token) > 100:
        return None
    row = db.execute(select(_s).where(_s.c.token_mac == token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if now - row.last_seen_at >= timeouts.idle or now - row.created_at >= timeouts.absolute:
        return None
    return row


def touch(db: Connection, row: Any, *, now: datetime) -> None:
    """Record use of the session (at most once a minute)."""
    if now - row.last_seen_at >= TOUCH_EVERY:
        db.execute(update(_s).where(_s.c.id == row.id).values(last_seen_at=now))


def touch_by_id(db: Connection, *, session_id: str, now: datetime) -> None:
    db.execute(
        update(_s).where(_s.c.id == session_id, _s.c.revoked_at.is_(None)).values(last_seen_at=now)
    )


def rotate(db: Connection, row: Any, *, now: datetime, stage: str | None = None) -> IssuedSession:
    """A new token (and id) for a session, the old one revoked: on sign-in and privilege change."""
    revoke(db, session_id=row.id, now=now)
    issued = create(
        db,
        account_id=row.account_id,
        stage=stage or row.stage,  # type: ignore[arg-type]
        method=row.method,
        acr=row.acr,
        user_agent=row.user_agent,
        now=now,
        patient_id=row.patient_id,
    )
    if row.device_id is not None:
        db.execute(update(_s).where(_s.c.id == issued.session_id).values(device_id=row.device_id))
    return issued


def revoke(
    db: Connection, *, session_id: str, now: datetime, account_id: str | None = None
) -> bool:
    """End one session (of ``account_id`` when given: a person revokes only their own)."""
    stmt = update(_s).where(_s.c.id == session_id, _s.c.revoked_at.is_(None))
    if account_id is not None:
        stmt = stmt.where(_s.c.account_id == account_id)
    return db.execute(stmt.values(revoked_at=now)).rowcount > 0


def revoke_all(db: Connection, *, account_id: str, now: datetime, keep: str | None = None) -> int:
    """End every session of an account (but ``keep``); the number ended."""
    stmt = update(_s).where(_s.c.account_id == account_id, _s.c.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(_s.c.id != keep)
    return int(db.execute(stmt.values(revoked_at=now)).rowcount)


def set_profile(db: Connection, *, session_id: str, patient_id: str) -> None:
    db.execute(update(_s).where(_s.c.id == session_id).values(patient_id=patient_id))


def listing(
    db: Connection, *, account_id: str, current: str, timeouts: Timeouts, now: datetime
) -> list[SessionInfo]:
    """The account's live, fully signed-in sessions, newest first."""
    rows = db.execute(
        select(_s)
        .where(_s.c.account_id == account_id, _s.c.revoked_at.is_(None), _s.c.stage == "active")
        .order_by(_s.c.created_at.desc())
    ).all()
    return [
        SessionInfo(
            session_id=r.id,
            user_agent=r.user_agent,
            method=r.method,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            current=r.id == current,
        )
        for r in rows
        if now - r.last_seen_at < timeouts.idle and now - r.created_at < timeouts.absolute
    ]
