"""Trusted devices: a browser the person chose to trust skips the second factor.

The decision, after the real system (which asks the code on new devices only): a trusted device
still needs the password, and skips the e-mailed, SMS or TOTP code until it expires
(``trusted_device_days``) or is revoked from the security page. Operators never skip it.
The browser holds a random token in a long-lived HttpOnly cookie; only its hash is stored, and
it is bound to one account, so a device trusted by one person does nothing for another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from carnet.core.ids import new_id
from carnet.identity.accounts import models
from carnet.identity.accounts.schemas import DeviceInfo
from carnet.identity.accounts.sealing import new_token, token_hash

_d = models.device


def trust(
    db: Connection, *, account_id: str, label: str, lifetime: timedelta, now: datetime
) -> tuple[str, str]:
    """Register a device; returns (device id, the cookie's token)."""
    token = new_token()
    device_id = new_id()
    db.execute(
        insert(_d).values(
            id=device_id,
            token_mac=token_hash(token),
            account_id=account_id,
            label=label[:120],
            created_at=now,
            last_used_at=now,
            expires_at=now + lifetime,
            revoked_at=None,
        )
    )
    return device_id, token


def recognise(db: Connection, *, account_id: str, token: str | None, now: datetime) -> str | None:
    """The id of the live device of ``account_id`` the token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    row = db.execute(
        select(_d.c.id, _d.c.expires_at).where(
            _d.c.token_mac == token_hash(token),
            _d.c.account_id == account_id,
            _d.c.revoked_at.is_(None),
        )
    ).first()
    if row is None or row.expires_at <= now:
        return None
    db.execute(update(_d).where(_d.c.id == row.id).values(last_used_at=now))
    return str(row.id)


def listing(db: Connection, *, account_id: str, now: datetime) -> list[DeviceInfo]:
    rows = db.execute(
        select(_d)
        .where(_d.c.account_id == account_id, _d.c.revoked_at.is_(None), _d.c.expires_at > now)
        .order_by(_d.c.created_at.desc())
    ).all()
    return [DeviceInfo(r.id, r.label, r.created_at, r.last_used_at) for r in rows]


def revoke(db: Connection, *, account_id: str, device_id: str | None, now: datetime) -> int:
    """Revoke one device of the account, or all of them (``device_id=None``)."""
    stmt = update(_d).where(_d.c.account_id == account_id, _d.c.revoked_at.is_(None))
    if device_id is not None:
        stmt = stmt.where(_d.c.id == device_id)
    return int(db.execute(stmt.values(revoked_at=now)).rowcount)
