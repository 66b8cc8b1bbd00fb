"""Signing in: password, then a second factor (a code by e-mail or SMS, or TOTP).

Every refusal is the same ``SignInRefused`` whatever went wrong (unknown login, wrong password,
wrong, used or expired code), and an unknown login costs the same argon2 verification as a known
one, so neither the answer nor its timing tells whether a login exists. Failures are counted per
login, per account (codes) and per client address, and lock them for a while (``throttle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from carnet.audit.tags import EventTag, Outcome
from carnet.identity.accounts import alerts, codes, devices, models, sessions, throttle, totp
from carnet.identity.accounts.context import AccountsContext, Transaction
from carnet.identity.accounts.errors import LockedOut, SignInRefused
from carnet.identity.accounts.schemas import IssuedSession, PasswordAccepted
from carnet.notify import service as notify_service

_a = models.account
Area = Literal["portal", "admin"]


@dataclass(frozen=True, slots=True)
class SecondFactorPassed:
    issued: IssuedSession
    device_token: str | None
    """The trusted-device cookie's value, when the person chose to trust this browser."""
    account_kind: str


def address_key_of(ctx: AccountsContext, client_address: str | None) -> str | None:
    """The throttle key of a client address (its keyed hash), or None without one."""
    return f"address:{ctx.address_index(client_address)[:64]}" if client_address else None


def _eligible(ctx: AccountsContext, account: Any, area: Area) -> bool:
    if account.disabled_at is not None or account.password_hash is None:
        return False
    if account.dev_only and not ctx.dev_accounts:
        return False  # the demo professionals' password accounts never work in production
    return bool((account.kind == "operator") == (area == "admin"))


def sign_in_password(
    ctx: AccountsContext,
    transaction: Transaction,
    *,
    login: str,
    password: str,
    area: Area,
    client_address: str | None,
    user_agent: str | None,
    device_token: str | None,
) -> PasswordAccepted:
    """Check a login and password (blocking: argon2); raise ``SignInRefused`` or
    ``LockedOut``. On success, a session waiting for the second factor, or an active one on a
    trusted device."""
    now = ctx.clock.now()
    login_key = f"password:{ctx.login_key(login)[:64]}"
    address_key = address_key_of(ctx, client_address)
    with transaction(readonly=True) as db:
        locked = throttle.is_locked(db, login_key, now=now) or (
            address_key is not None and throttle.is_locked(db, address_key, now=now)
        )
        account = ctx.account_by_login(db, login)
    # Verified even when locked or unknown: every answer costs the same.
    right = ctx.hasher.verify(account.password_hash if account is not None else None, password)
    with transaction() as db:
        if locked:
            ctx.record(
                db, EventTag.IDENTITY_SIGN_IN_LOCKOUT, account=account, outcome=Outcome.REFUSED
            )
            raise LockedOut
        if account is None or not right or not _eligible(ctx, account, area):
            _password_failed(ctx, db, account, login_key, address_key)
        throttle.clear(db, login_key)
        return _password_passed(
            ctx, db, account, area=area, user_agent=user_agent, device_token=device_token
        )


def _password_failed(
    ctx: AccountsContext, db: Connection, account: Any, login_key: str, address_key: str | None
) -> None:
    now = ctx.clock.now()
    limit = ctx.limit(ctx.settings.password_failures)
    locked = throttle.fail(db, login_key, limit, now=now)
    if address_key is not None:
        locked |= throttle.fail(db, address_key, ctx.limit(ctx.settings.address_failures), now=now)
    ctx.record(db, EventTag.IDENTITY_SIGN_IN_PASSWORD, account=account, outcome=Outcome.REFUSED)
    if locked:
        ctx.record(db, EventTag.IDENTITY_SIGN_IN_LOCKOUT, account=account, outcome=Outcome.REFUSED)
        raise LockedOut
    raise SignInRefused


def _password_passed(
    ctx: AccountsContext,
    db: Connection,
    account: Any,
    *,
    area: Area,
    user_agent: str | None,
    device_token: str | None,
) -> PasswordAccepted:
    now = ctx.clock.now()
    patient_id = account.person_id if account.kind == "patient" else None
    device_id = None
    if area == "portal":  # operators always give their TOTP code
        device_id = devices.recognise(db, account_id=account.id, token=device_token, now=now)
    ctx.record(db, EventTag.IDENTITY_SIGN_IN_PASSWORD, account=account)
    if device_id is not None:
        issued = sessions.create(
            db,
            account_id=account.id,
            stage="active",
            method="password+device",
            acr=None,
            user_agent=user_agent,
            now=now,
            patient_id=patient_id,
        )
        ctx.record(
            db,
            EventTag.IDENTITY_SESSION_OPEN,
            account=account,
            detail={"method": "password+device"},
        )
        return PasswordAccepted(issued, account.second_factor, None, device_trusted=True)
    issued = sessions.create(
        db,
        account_id=account.id,
        stage="second-factor",
        method="password",
        acr=None,
        user_agent=user_agent,
        now=now,
        patient_id=patient_id,
    )
    sent_to = send_code(ctx, db, account, purpose="sign-in", binding=issued.session_id)
    return PasswordAccepted(issued, account.second_factor, sent_to, device_trusted=False)


def send_code(
    ctx: AccountsContext,
    db: Connection,
    account: Any,
    *,
    purpose: codes.Purpose,
    binding: str,
    channel: str | None = None,
) -> str | None:
    """Send a fresh code by ``channel`` (default: the account's second factor); the masked
    contact it went to, or None (TOTP: nothing to send)."""
    channel = channel or account.second_factor
    if channel == "totp":
        return None
    if channel == "sms" and (not ctx.sms_available or account.phone_sealed is None):
        channel = "email"  # no SMS provider (or no phone): the verified e-mail address
    code = codes.issue(
        db,
        ctx.sealer,
        account_id=account.id,
        purpose=purpose,
        binding=binding,
        channel=channel,
        lifetime=ctx.code_lifetime,
        now=ctx.clock.now(),
    )
    context = {"code": code, "expires_minutes": ctx.settings.code_minutes}
    if channel == "sms":
        phone = ctx.sealer.open(account.phone_sealed, context=f"{account.id}:phone")
        notify_service.queue_sms(
            db,
            ctx.jobs,
            to=phone,
            template="sign_in_code",
            context=context,
            language=account.language,
        )
        return str(account.phone_masked)
    email = ctx.sealer.open(account.email_sealed, context=f"{account.id}:email")
    notify_service.queue_email(
        db, ctx.jobs, to=email, template="sign_in_code", context=context, language=account.language
    )
    return str(account.email_masked)


def pending(ctx: AccountsContext, db: Connection, token: str) -> tuple[Any, Any]:
    """The session waiting for its second factor, and its account; else ``SignInRefused``."""
    row = sessions.find(db, token, timeouts=ctx.timeouts, now=ctx.clock.now())
    if row is None or row.stage != "second-factor":
        raise SignInRefused
    account = db.execute(select(_a).where(_a.c.id == row.account_id)).one()
    return row, account


def check_second_factor(
    ctx: AccountsContext, db: Connection, account: Any, row: Any, code: str
) -> bool:
    """Whether ``code`` is the account's second factor for this pending session."""
    now = ctx.clock.now()
    if account.second_factor != "totp":
        return codes.consume(
            db,
            ctx.sealer,
            purpose="sign-in",
            binding=row.id,
            code=code,
            max_attempts=ctx.settings.code_attempts,
            now=now,
        )
    if any(c.isalpha() for c in code):
        return totp.use_recovery_code(db, ctx.sealer, account_id=account.id, code=code, now=now)
    secret = ctx.sealer.open(account.totp_sealed, context=f"{account.id}:totp")
    step = totp.matching_step(secret, code, now=now, after_step=account.totp_last_step)
    if step is None:
        return False
    db.execute(update(_a).where(_a.c.id == account.id).values(totp_last_step=step))
    return True


def verify_second_factor(
    ctx: AccountsContext,
    db: Connection,
    *,
    token: str,
    code: str,
    trust_device: bool,
    device_label: str,
) -> SecondFactorPassed:
    """Finish a sign-in: the session becomes active under a new token."""
    now = ctx.clock.now()
    row, account = pending(ctx, db, token)
    code_key = f"code:{account.id}"
    if throttle.is_locked(db, code_key, now=now):
        raise LockedOut
    if not check_second_factor(ctx, db, account, row, code[:40]):
        locked = throttle.fail(db, code_key, ctx.limit(ctx.settings.code_failures), now=now)
        ctx.record(
            db, EventTag.IDENTITY_SIGN_IN_SECOND_FACTOR, account=account, outcome=Outcome.REFUSED
        )
        if locked:
            sessions.revoke(db, session_id=row.id, now=now)
            ctx.record(
                db, EventTag.IDENTITY_SIGN_IN_LOCKOUT, account=account, outcome=Outcome.REFUSED
            )
            raise LockedOut
        raise SignInRefused
    throttle.clear(db, code_key)
    issued = sessions.rotate(db, row, now=now, stage="active")
    device_token = None
    if trust_device and account.kind != "operator":
        lifetime = ctx.device_lifetime
        device_id, device_token = devices.trust(
            db, account_id=account.id, label=device_label, lifetime=lifetime, now=now
        )
        ctx.record(
            db, EventTag.IDENTITY_DEVICE_TRUST, account=account, detail={"device": device_id}
        )
    method = f"password+{account.second_factor}"
    ctx.record(db, EventTag.IDENTITY_SIGN_IN_SECOND_FACTOR, account=account)
    ctx.record(db, EventTag.IDENTITY_SESSION_OPEN, account=account, detail={"method": method})
    # A code was asked, so this browser was not a trusted device: the person is told.
    alerts.announce_new_sign_in(ctx, db, account, user_agent=row.user_agent)
    return SecondFactorPassed(issued=issued, device_token=device_token, account_kind=account.kind)


def resend_code(ctx: AccountsContext, db: Connection, *, token: str) -> str | None:
    """A new code for a pending sign-in (the previous one stops working); rate-limited."""
    row, account = pending(ctx, db, token)
    key = f"resend:{account.id}"
    now = ctx.clock.now()
    if throttle.is_locked(db, key, now=now) or throttle.fail(
        db, key, ctx.limit(ctx.settings.code_attempts), now=now
    ):
        raise LockedOut
    return send_code(ctx, db, account, purpose="sign-in", binding=row.id)
