"""Account recovery: a code to the verified contact, plus the second factor, then a new
password.

Whatever login is entered, the person gets the same page and a request token: for an unknown
login, or one without a verified contact, no code exists and the request simply never succeeds
(the same refusal as a wrong code). An account whose factor is an authenticator app also gives
a TOTP or recovery code: the mailbox alone does not open it. Success ends every session and
forgets every trusted device, and the person is told by e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from carnet.audit.tags import EventTag, Outcome
from carnet.identity.accounts import codes, devices, models, sessions, throttle, totp
from carnet.identity.accounts.context import AccountsContext, Transaction
from carnet.identity.accounts.enrolment import personal_of
from carnet.identity.accounts.errors import LockedOut, SignInRefused
from carnet.identity.accounts.passwords import check_password
from carnet.identity.accounts.sealing import new_token, token_hash
from carnet.identity.accounts.signin import send_code
from carnet.notify import service as notify_service

_a = models.account
_c = models.code


@dataclass(frozen=True, slots=True)
class RecoveryStarted:
    token: str
    """Carried by the recovery form (a hidden field): it names the request, not the account."""

    def __repr__(self) -> str:
        return "RecoveryStarted(token=<hidden>)"


def start(
    ctx: AccountsContext, db: Connection, *, login: str, client_address: str | None
) -> RecoveryStarted:
    """Open a recovery request; a code goes to the account's verified contact, if any."""
    now = ctx.clock.now()
    token = new_token()
    key = f"recovery:{ctx.login_key(login)[:64]}"
    if throttle.is_locked(db, key, now=now) or throttle.fail(
        db, key, ctx.limit(ctx.settings.code_attempts), now=now
    ):
        raise LockedOut
    del client_address
    account = ctx.account_by_login(db, login)
    if account is None or account.contact_verified_at is None or account.kind == "operator":
        return RecoveryStarted(token)  # operators are recovered by a security operator
    # A recovery code is sent by e-mail or SMS even when the factor is an authenticator app.
    channel = "sms" if account.second_factor == "sms" else "email"
    send_code(ctx, db, account, purpose="recovery", binding=token_hash(token), channel=channel)
    ctx.record(db, EventTag.IDENTITY_RECOVERY_START, account=account, actor=None)
    return RecoveryStarted(token)


def finish(
    ctx: AccountsContext,
    transaction: Transaction,
    *,
    token: str,
    code: str,
    second_code: str,
    new_password: str,
) -> None:
    """Check the codes, then set the new password (``SignInRefused``, ``WeakPassword``)."""
    binding = token_hash(token)
    with transaction(readonly=True) as db:
        account_id = db.execute(
            select(_c.c.account_id).where(_c.c.binding == binding, _c.c.purpose == "recovery")
        ).scalar()
        account = (
            None
            if account_id is None
            else db.execute(select(_a).where(_a.c.id == account_id)).one()
        )
    personal = personal_of(ctx, account) if account is not None else []
    check_password(new_password, personal=personal)
    password_hash = ctx.hasher.hash(new_password)  # blocking, between the two transactions
    with transaction() as db:
        now = ctx.clock.now()
        ok = account is not None and codes.consume(
            db,
            ctx.sealer,
            purpose="recovery",
            binding=binding,
            code=code,
            max_attempts=ctx.settings.code_attempts,
            now=now,
        )
        if ok and account is not None and account.totp_sealed is not None:
            ok = _second_factor(ctx, db, account, second_code)
        if not ok or account is None:
            ctx.record(
                db, EventTag.IDENTITY_PASSWORD_CHANGE, account=account, outcome=Outcome.REFUSED
            )
            raise SignInRefused
        db.execute(
            update(_a)
            .where(_a.c.id == account.id)
            .values(password_hash=password_hash, password_changed_at=now)
        )
        sessions.revoke_all(db, account_id=account.id, now=now)
        devices.revoke(db, account_id=account.id, device_id=None, now=now)
        ctx.record(
            db, EventTag.IDENTITY_PASSWORD_CHANGE, account=account, detail={"via": "recovery"}
        )
        if account.email_sealed is not None:
            email = ctx.sealer.open(account.email_sealed, context=f"{account.id}:email")
            notify_service.queue_email(
                db,
                ctx.jobs,
                to=email,
                template="password_changed",
                context={},
                language=account.language,
            )


def _second_factor(ctx: AccountsContext, db: Connection, account: object, code: str) -> bool:
    account_id = getattr(account, "id", "")
    if any(c.isalpha() for c in code):
        return totp.use_recovery_code(
            db, ctx.sealer, account_id=account_id, code=code, now=ctx.clock.now()
        )
    secret = ctx.sealer.open(getattr(account, "totp_sealed", b""), context=f"{account_id}:totp")
    step = totp.matching_step(
        secret, code, now=ctx.clock.now(), after_step=getattr(account, "totp_last_step", 0)
    )
    if step is None:
        return False
    db.execute(update(_a).where(_a.c.id == account_id).values(totp_last_step=step))
    return True
