"""Changing one's password while signed in: the current password, then a new one.

The current password is checked like a sign-in's, on the same counters: a wrong one counts
against the login (and the client address), so a borrowed session cannot be used to guess the
password faster than the sign-in page allows. The new password follows the enrolment rules
(names and birth date included, from the sealed words kept at enrolment). Success ends every
other session of the account, and the person is told by e-mail.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from carnet.audit.tags import EventTag, Outcome
from carnet.identity.accounts import models, sessions, throttle
from carnet.identity.accounts.context import AccountsContext, Transaction
from carnet.identity.accounts.enrolment import personal_of
from carnet.identity.accounts.errors import LockedOut, NotAllowed, SignInRefused
from carnet.identity.accounts.passwords import check_password
from carnet.identity.accounts.schemas import CurrentSession
from carnet.identity.accounts.signin import address_key_of
from carnet.notify import service as notify_service

_a = models.account


def change_password(
    ctx: AccountsContext,
    transaction: Transaction,
    *,
    session: CurrentSession,
    current_password: str,
    new_password: str,
    client_address: str | None,
) -> int:
    """Replace the password (blocking: argon2 twice, between transactions). Raises
    ``SignInRefused`` (wrong current password), ``LockedOut``, ``WeakPassword`` or
    ``NotAllowed`` (an account without a password); returns the number of sessions ended."""
    with transaction(readonly=True) as db:
        account = db.execute(select(_a).where(_a.c.id == session.account_id)).one()
    if account.password_hash is None or account.login_mac is None:
        raise NotAllowed("this account signs in through an identity provider")
    # The rules first: they cost nothing and say what to fix without spending an attempt.
    check_password(new_password, personal=personal_of(ctx, account))
    login_key = f"password:{account.login_mac[:64]}"
    by_address = address_key_of(ctx, client_address)
    now = ctx.clock.now()
    with transaction(readonly=True) as db:
        locked = throttle.is_locked(db, login_key, now=now) or (
            by_address is not None and throttle.is_locked(db, by_address, now=now)
        )
    right = not locked and ctx.hasher.verify(account.password_hash, current_password)
    new_hash = ctx.hasher.hash(new_password) if right else ""
    with transaction() as db:
        if locked:
            raise LockedOut
        if not right:
            _refuse(ctx, db, account, login_key, by_address)
        throttle.clear(db, login_key)
        db.execute(
            update(_a)
            .where(_a.c.id == account.id)
            .values(password_hash=new_hash, password_changed_at=now)
        )
        ended = sessions.revoke_all(db, account_id=account.id, now=now, keep=session.session_id)
        ctx.record(
            db,
            EventTag.IDENTITY_PASSWORD_CHANGE,
            account=account,
            detail={"via": "security-page", "sessions_ended": ended},
        )
        if account.email_sealed is not None:
            notify_service.queue_email(
                db,
                ctx.jobs,
                to=ctx.sealer.open(account.email_sealed, context=f"{account.id}:email"),
                template="password_changed",
                context={},
                language=account.language,
            )
        return ended


def _refuse(
    ctx: AccountsContext,
    db: Connection,
    account: object,
    login_key: str,
    by_address: str | None,
) -> None:
    now = ctx.clock.now()
    locked = throttle.fail(db, login_key, ctx.limit(ctx.settings.password_failures), now=now)
    if by_address is not None:
        locked |= throttle.fail(db, by_address, ctx.limit(ctx.settings.address_failures), now=now)
    ctx.record(db, EventTag.IDENTITY_PASSWORD_CHANGE, account=account, outcome=Outcome.REFUSED)
    if locked:
        ctx.record(db, EventTag.IDENTITY_SIGN_IN_LOCKOUT, account=account, outcome=Outcome.REFUSED)
        raise LockedOut
    raise SignInRefused
