"""One-time codes sent by e-mail or SMS: six random digits, stored as a keyed hash, bound to
the pending session (or recovery request, or number to confirm) they were sent for,
single-use, expiring, and burnt after a few wrong entries.

A new code for the same binding replaces the previous one (only the latest works), so "send me
another code" cannot multiply the guesses.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, insert, select, update

from carnet.core.ids import new_id
from carnet.identity.accounts import models
from carnet.identity.accounts.sealing import Sealer

_c = models.code
CODE_DIGITS = 6
Purpose = Literal["sign-in", "recovery", "phone"]


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def issue(
    db: Connection,
    sealer: Sealer,
    *,
    account_id: str,
    purpose: Purpose,
    binding: str,
    channel: str,
    lifetime: timedelta,
    now: datetime,
) -> str:
    """A fresh code for ``binding`` (earlier ones stop working); returns it in clear, once."""
    db.execute(
        update(_c).where(_c.c.binding == binding, _c.c.used_at.is_(None)).values(used_at=now)
    )
    code = new_code()
    db.execute(
        insert(_c).values(
            id=new_id(),
            account_id=account_id,
            purpose=purpose,
            binding=binding,
            code_mac=sealer.mac(f"code:{purpose}:{binding}", code),
            channel=channel,
            attempts=0,
            created_at=now,
            expires_at=now + lifetime,
            used_at=None,
        )
    )
    return code


def consume(
    db: Connection,
    sealer: Sealer,
    *,
    purpose: Purpose,
    binding: str,
    code: str,
    max_attempts: int,
    now: datetime,
) -> bool:
    """Whether ``code`` is the live code of ``binding``; a right code is used up, a wrong one
    counts an attempt (the code is burnt at ``max_attempts``)."""
    row = db.execute(
        select(_c)
        .where(_c.c.binding == binding, _c.c.purpose == purpose, _c.c.used_at.is_(None))
        .order_by(_c.c.created_at.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None or row.expires_at <= now:
        return False
    entered = "".join(code.split())
    expected = sealer.mac(f"code:{purpose}:{binding}", entered)
    if hmac.compare_digest(expected, row.code_mac):
        db.execute(update(_c).where(_c.c.id == row.id).values(used_at=now))
        return True
    attempts = row.attempts + 1
    burnt = now if attempts >= max_attempts else None
    db.execute(update(_c).where(_c.c.id == row.id).values(attempts=attempts, used_at=burnt))
    return False
