"""Activation codes (the « code provisoire » of a notice): random, stored only as a keyed hash,
single use, expiring, burnt after a few wrong entries.

A code is twelve characters from an alphabet without look-alikes (no 0/O, 1/I/L), written in
three groups of four: about 59 bits, read aloud or typed from a letter without ambiguity. It is
never stored: only ``storage.blind_index`` of the code bound to the beneficiary's id, so a
database dump yields nothing to type, and a code cannot be replayed for someone else.
A new code for a person retires the previous one (only the latest works).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, insert, select, update

from carnet.core.ids import new_id
from carnet.enrollment import models
from carnet.storage.service import Storage

ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_GROUPS, _GROUP = 3, 4
_DOMAIN = "enrollment-activation-code"
_code = models.activation_code


def new_code() -> str:
    """A fresh code, ``XXXX-XXXX-XXXX``, from the operating system's random source."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(_GROUPS * _GROUP))
    return "-".join(chars[i : i + _GROUP] for i in range(0, len(chars), _GROUP))


def normalise(code: str) -> str:
    """The code as compared: upper case, without spaces or dashes (people type both)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_mac(storage: Storage, beneficiary_id: str, code: str) -> str:
    """The stored form of ``code`` for ``beneficiary_id``: a keyed hash, bound to the person."""
    return storage.blind_index(_DOMAIN, f"{beneficiary_id}|{normalise(code)}")


def code_rows(
    storage: Storage, beneficiary_ids: Iterable[str], *, now: datetime, lifetime: timedelta
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Fresh codes for people who hold none yet (a campaign's batch): the codes in clear, by
    beneficiary, to put in their notices, and the rows to insert (hashes only)."""
    codes: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for beneficiary_id in beneficiary_ids:
        code = codes[beneficiary_id] = new_code()
        rows.append(
            {
                "id": new_id(),
                "beneficiary_id": beneficiary_id,
                "code_mac": code_mac(storage, beneficiary_id, code),
                "attempts": 0,
                "created_at": now,
                "expires_at": now + lifetime,
                "used_at": None,
            }
        )
    return codes, rows


def insert_codes(db: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.execute(insert(_code), rows)


def replace_code(
    db: Connection, storage: Storage, *, beneficiary_id: str, now: datetime, lifetime: timedelta
) -> str:
    """A new code for ``beneficiary_id``, retiring every live one; returned in clear, once."""
    return replace_codes(db, storage, [beneficiary_id], now=now, lifetime=lifetime)[beneficiary_id]


def replace_codes(
    db: Connection,
    storage: Storage,
    beneficiary_ids: list[str],
    *,
    now: datetime,
    lifetime: timedelta,
) -> dict[str, str]:
    """New codes for ``beneficiary_ids`` (a print batch), retiring their live ones; the codes in
    clear by beneficiary, returned once."""
    if not beneficiary_ids:
        return {}
    db.execute(
        update(_code)
        .where(_code.c.beneficiary_id.in_(beneficiary_ids), _code.c.used_at.is_(None))
        .values(used_at=now)
    )
    codes, rows = code_rows(storage, beneficiary_ids, now=now, lifetime=lifetime)
    insert_codes(db, rows)
    return codes


def consume_code(
    db: Connection,
    storage: Storage,
    *,
    beneficiary_id: str,
    code: str,
    now: datetime,
    max_attempts: int,
) -> bool:
    """Whether ``code`` is the live code of ``beneficiary_id``. The right code is used up; a
    wrong one counts an attempt, and the code is burnt at ``max_attempts``."""
    row = db.execute(
        select(_code)
        .where(_code.c.beneficiary_id == beneficiary_id, _code.c.used_at.is_(None))
        .order_by(_code.c.created_at.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if row is None or row.expires_at <= now:
        return False
    if hmac.compare_digest(code_mac(storage, beneficiary_id, code), row.code_mac):
        db.execute(update(_code).where(_code.c.id == row.id).values(used_at=now))
        return True
    attempts = row.attempts + 1
    burnt = now if attempts >= max_attempts else None
    db.execute(update(_code).where(_code.c.id == row.id).values(attempts=attempts, used_at=burnt))
    return False
