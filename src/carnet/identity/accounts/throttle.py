"""Rate limits and temporary lockout, kept in the database (any process sees them).

A counter per key (a login's blind index, an account, a client address's keyed hash) counts
failures over a window; reaching the limit locks the key until the window's end. Success on a
login or account clears its counter; an address's counter only ages out, so one attacker
spraying many logins is slowed down whatever they guess right.
Unknown logins are counted like known ones: the lock itself reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update

from carnet.core.db import insert_or_ignore
from carnet.identity.accounts import models

_t = models.throttle


@dataclass(frozen=True, slots=True)
class Limit:
    failures: int
    window: timedelta


def is_locked(db: Connection, key: str, *, now: datetime) -> bool:
    """Whether ``key`` is locked at ``now``."""
    locked_until = db.execute(select(_t.c.locked_until).where(_t.c.key == key)).scalar()
    return locked_until is not None and locked_until > now


def fail(db: Connection, key: str, limit: Limit, *, now: datetime) -> bool:
    """Count one failure on ``key``; True when the key is now locked."""
    inserted = insert_or_ignore(
        db,
        _t,
        {"key": key, "failures": 0, "window_started_at": now, "locked_until": None},
        key="key",
    )
    del inserted  # the row exists either way; lock it and read it
    row = db.execute(select(_t).where(_t.c.key == key).with_for_update()).one()
    failures = row.failures + 1
    started = row.window_started_at
    if now - started >= limit.window:
        failures, started = 1, now
    locked_until = now + limit.window if failures >= limit.failures else None
    db.execute(
        update(_t)
        .where(_t.c.key == key)
        .values(failures=failures, window_started_at=started, locked_until=locked_until)
    )
    return locked_until is not None


def clear(db: Connection, key: str) -> None:
    """Forget the failures of ``key`` (after a success)."""
    db.execute(delete(_t).where(_t.c.key == key))
