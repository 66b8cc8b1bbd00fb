"""TOTP second factor (RFC 6238, pyotp) and single-use recovery codes.

The secret is sealed at rest (``Sealer``, bound to the account). Enrolment is two steps: a
pending secret is shown (QR code as inline SVG, and the key to type), and becomes the account's
factor only once a code from the person's app proves they hold it. A code is accepted in the
current 30-second step or the one before (clock drift), and never twice: the last step used is
kept, so a code seen over a shoulder cannot be replayed.
Recovery codes (ten, shown once) stand in for the app; each works once.
"""

from __future__ import annotations

import hmac
import io
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import Connection, delete, func, insert, select, update

from carnet.core.ids import new_id
from carnet.identity.accounts import models
from carnet.identity.accounts.sealing import Sealer

_r = models.recovery_code
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, label: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an SVG QR code (a path, no script), to embed in the page."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # without the XML declaration, for inline use


def matching_step(secret: str, code: str, *, now: datetime, after_step: int) -> int | None:
    """The time step ``code`` belongs to (now or the step before), if later than
    ``after_step``; None when it matches neither."""
    entered = "".join(code.split())
    if not entered.isdigit() or len(entered) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1):
        if step > after_step and hmac.compare_digest(totp.generate_otp(step), entered):
            return step
    return None


def current_code(secret: str, *, now: datetime) -> str:
    """The code an authenticator app shows at ``now`` (the demo's and the tests' helper)."""
    return pyotp.TOTP(secret).at(now)


def new_recovery_codes(
    db: Connection, sealer: Sealer, *, account_id: str, now: datetime
) -> list[str]:
    """Replace the account's recovery codes with ten new ones, returned in clear once."""
    db.execute(delete(_r).where(_r.c.account_id == account_id))
    fresh = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        fresh.append(f"{raw[:5]}-{raw[5:]}")
        db.execute(
            insert(_r).values(
                id=new_id(),
                account_id=account_id,
                code_mac=sealer.mac(f"recovery:{account_id}", raw),
                created_at=now,
                used_at=None,
            )
        )
    return fresh


def use_recovery_code(
    db: Connection, sealer: Sealer, *, account_id: str, code: str, now: datetime
) -> bool:
    """Whether ``code`` is an unused recovery code of the account (then it is used up)."""
    raw = "".join(c for c in code.lower() if c.isalnum())
    if len(raw) != 10:
        return False
    mac = sealer.mac(f"recovery:{account_id}", raw)
    done = db.execute(
        update(_r)
        .where(_r.c.account_id == account_id, _r.c.code_mac == mac, _r.c.used_at.is_(None))
        .values(used_at=now)
    )
    return done.rowcount > 0


def recovery_codes_left(db: Connection, *, account_id: str) -> int:
    return int(
        db.execute(
            select(func.count())
            .select_from(_r)
            .where(_r.c.account_id == account_id, _r.c.used_at.is_(None))
        ).scalar_one()
    )
