"""Refused tries counted per NIR and per client address, for everything a stranger may try
with someone's NIR: a new activation code, an activation, an opposition, a request for a space,
a reopening.

- **Two counters per try.** One on the NIR (by its blind index, so a NIR nobody holds is counted
  too) and, when the client's address is known, one on that address (by its keyed hash: the
  table never holds an address). Each purpose counts on its own keys (``<purpose>:<index>``,
  ``<purpose>-ip:<hash>``), in the ``enrollment_throttle`` table.
- **Limits.** ``regeneration_failures`` on a NIR, ``address_failures`` from an address (higher:
  a France Services desk or a family's connection serves several people), within
  ``regeneration_lockout_minutes``; past either, the key is locked for that long, right details
  included. The way out is told to the person: wait for the lock's end, or call the advisers.
- **Forgiveness.** A person who proved who they are has their NIR's count cleared; the address
  keeps its own (it may serve others).
- **Concurrency.** A counter row is made if missing (``ON CONFLICT DO NOTHING``), then locked
  (``FOR UPDATE``) before it is read and advanced: two tries at once both count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, delete, select, update

from carnet.core.db import insert_or_ignore
from carnet.enrollment import models
from carnet.enrollment.campaigns import Wiring

ADDRESS_DOMAIN: Final = "enrollment-client-address"
"""The blind-index domain of client addresses (keyed hashes, never the address)."""
_t = models.throttle


class Throttle:
    """Refused tries of one purpose, counted per NIR and per client address."""

    def __init__(
        self, wiring: Wiring, purpose: str, *, index: str, client_address: str | None
    ) -> None:
        settings = wiring.settings
        self.index = index
        """The NIR's blind index (what the caller looks the person up by)."""
        self._window = timedelta(minutes=settings.regeneration_lockout_minutes)
        self._nir_key = f"{purpose}:{index}"
        self._limits = {self._nir_key: settings.regeneration_failures}
        if client_address:
            hashed = wiring.storage.blind_index(ADDRESS_DOMAIN, client_address)
            self._limits[f"{purpose}-ip:{hashed}"] = settings.address_failures

    @property
    def lockout_minutes(self) -> int:
        """How long a lock lasts, for the message that tells the person to wait."""
        return int(self._window.total_seconds() // 60)

    def locked_until(self, db: Connection, now: datetime) -> datetime | None:
        """The end of the latest lock in force on this NIR or address, if any."""
        rows = db.execute(select(_t.c.locked_until).where(_t.c.key.in_(list(self._limits))))
        ends = [r.locked_until for r in rows if r.locked_until is not None and r.locked_until > now]
        return max(ends, default=None)

    def fail(self, db: Connection, now: datetime) -> datetime | None:
        """Count one refused try on each key; the end of the lock it caused, if any."""
        locked: datetime | None = None
        for key, limit in self._limits.items():
            fresh = {"key": key, "failures": 0, "window_start": now, "locked_until": None}
            insert_or_ignore(db, _t, fresh, key="key")
            row: Any = db.execute(select(_t).where(_t.c.key == key).with_for_update()).one()
            if row.window_start + self._window <= now:
                failures, start = 1, now  # the old window is over: count afresh
            else:
                failures, start = row.failures + 1, row.window_start
            lock = failures >= limit
            until = now + self._window if lock else None
            db.execute(
                update(_t)
                .where(_t.c.key == key)
                .values(failures=0 if lock else failures, window_start=start, locked_until=until)
            )
            locked = until or locked
        return locked

    def forgive(self, db: Connection) -> None:
        """The person proved who they are: earlier slips on their NIR are forgiven (the
        address keeps its count: it may serve others)."""
        db.execute(delete(_t).where(_t.c.key == self._nir_key))
