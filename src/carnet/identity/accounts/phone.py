"""A mobile number for the codes, and the choice of the channel they come by.

A number is used only once it is proved: ``start`` sends a code by SMS to the number typed and
hands back a sealed token naming it (carried by the confirmation form, bound to the account:
nothing is stored for a number never confirmed); ``confirm`` checks the code and makes the
number the account's. Only French mobile numbers (06 and 07, written in any usual way) are
taken. Codes may then come by e-mail or SMS (``choose_factor``); an authenticator app, once
set, stays the factor (it is stronger than both).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, update

from carnet.audit.tags import EventTag, Outcome
from carnet.identity.accounts import codes, models, throttle
from carnet.identity.accounts.context import AccountsContext
from carnet.identity.accounts.enrolment import mask_phone
from carnet.identity.accounts.errors import InvalidPhone, LockedOut, NotAllowed, SignInRefused
from carnet.identity.accounts.schemas import CodeChannel
from carnet.notify import service as notify_service

_a = models.account
# After the optional +33, 0033 or 0: a 6 or a 7, then eight digits; spaces, dots, dashes and a
# « (0) » are allowed between them.
_FRENCH_MOBILE = re.compile(r"(?:\+33|0033)?(?:\(0\))?0?([67]\d{8})")
_SEPARATORS = re.compile(r"[\s.\-]")


def normalise_mobile(number: str) -> str:
    """A French mobile number in E.164 (``+33612345678``); ``InvalidPhone`` otherwise."""
    compact = _SEPARATORS.sub("", number)
    match = _FRENCH_MOBILE.fullmatch(compact) if len(compact) <= 20 else None
    if match is None:
        raise InvalidPhone
    return "+33" + match.group(1)


def _binding(ctx: AccountsContext, account_id: str, number: str) -> str:
    return ctx.sealer.mac("phone-binding", f"{account_id}:{number}")


def start(ctx: AccountsContext, db: Connection, *, account: Any, number: str) -> str:
    """Send a code by SMS to ``number``; the sealed token the confirmation form carries."""
    if not ctx.sms_available or account.kind == "operator":
        raise NotAllowed("SMS")
    e164 = normalise_mobile(number)
    now = ctx.clock.now()
    key = f"phone:{account.id}"
    # As many numbers tried as codes resent: an open session cannot be used to send SMS at will.
    if throttle.is_locked(db, key, now=now) or throttle.fail(
        db, key, ctx.limit(ctx.settings.code_attempts), now=now
    ):
        raise LockedOut
    code = codes.issue(
        db,
        ctx.sealer,
        account_id=account.id,
        purpose="phone",
        binding=_binding(ctx, account.id, e164),
        channel="sms",
        lifetime=ctx.code_lifetime,
        now=now,
    )
    notify_service.queue_sms(
        db,
        ctx.jobs,
        to=e164,
        template="phone_verification",
        context={"code": code, "expires_minutes": ctx.settings.code_minutes},
        language=account.language,
    )
    sealed = ctx.sealer.seal(e164, context=f"{account.id}:phone-pending")
    return base64.urlsafe_b64encode(sealed).decode()


def pending_number(ctx: AccountsContext, account: Any, token: str) -> str | None:
    """The number a confirmation token names, or None (forged, another account's)."""
    try:
        sealed = base64.urlsafe_b64decode(token[:200].encode())
        return ctx.sealer.open(sealed, context=f"{account.id}:phone-pending")
    except (InvalidTag, ValueError, binascii.Error):
        return None


def confirm(ctx: AccountsContext, db: Connection, *, account: Any, token: str, code: str) -> str:
    """Make the token's number the account's if ``code`` is the one sent to it; the masked
    number. ``SignInRefused`` for a wrong code or token, ``LockedOut`` after too many."""
    now = ctx.clock.now()
    code_key = f"code:{account.id}"  # the same counter as sign-in codes
    if throttle.is_locked(db, code_key, now=now):
        raise LockedOut
    number = pending_number(ctx, account, token)
    right = number is not None and codes.consume(
        db,
        ctx.sealer,
        purpose="phone",
        binding=_binding(ctx, account.id, number),
        code=code[:40],
        max_attempts=ctx.settings.code_attempts,
        now=now,
    )
    if not right or number is None:
        locked = throttle.fail(db, code_key, ctx.limit(ctx.settings.code_failures), now=now)
        ctx.record(
            db,
            EventTag.IDENTITY_FACTOR_CHANGE,
            account=account,
            outcome=Outcome.REFUSED,
            detail={"factor": "phone"},
        )
        raise LockedOut if locked else SignInRefused
    throttle.clear(db, code_key)
    masked = mask_phone(number)
    db.execute(
        update(_a)
        .where(_a.c.id == account.id)
        .values(
            phone_sealed=ctx.sealer.seal(number, context=f"{account.id}:phone"),
            phone_masked=masked,
        )
    )
    ctx.record(db, EventTag.IDENTITY_FACTOR_CHANGE, account=account, detail={"factor": "phone"})
    return masked


def choose_factor(
    ctx: AccountsContext, db: Connection, *, account: Any, factor: CodeChannel
) -> None:
    """Send the account's codes by e-mail or by SMS (``NotAllowed`` when that cannot work)."""
    if account.second_factor == "totp" or account.kind == "operator":
        raise NotAllowed("the authenticator app stays the factor")
    if factor == "sms" and (not ctx.sms_available or account.phone_sealed is None):
        raise NotAllowed("no verified mobile number")
    if factor == "email" and account.email_sealed is None:
        raise NotAllowed("no verified e-mail address")
    if factor == account.second_factor:
        return
    db.execute(update(_a).where(_a.c.id == account.id).values(second_factor=factor))
    ctx.record(db, EventTag.IDENTITY_FACTOR_CHANGE, account=account, detail={"factor": factor})
