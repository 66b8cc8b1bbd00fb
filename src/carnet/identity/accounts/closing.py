"""What closing a space asks of the holder's account (``enrollment.closure`` calls these).

- **Confirming.** Closing is grave, so the holder proves it is them again: the password, checked
  on the sign-in counters (a wrong one counts against the login and the address, as on the
  security page); an account without a password (FranceConnect) proves it by a fresh sign-in:
  its session must have been opened within the confirmation window.
- **Disabling.** A closed or suspended space's account is disabled and every session ends; a
  disabled account signs in nowhere (``signin``, ``signed_in`` and ``external`` refuse it).
  Reopening enables it again.
- **Erasing.** Once the space is erased, the account keeps nothing that names anyone: login,
  password, contacts, factors and profiles go, its row stays (disabled) so that audit events
  naming it still resolve.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, update

from carnet.audit.tags import EventTag, Outcome
from carnet.identity.accounts import models, sessions, throttle
from carnet.identity.accounts.context import AccountsContext, Transaction
from carnet.identity.accounts.errors import FreshSignInRequired, LockedOut, SignInRefused
from carnet.identity.accounts.schemas import CurrentSession
from carnet.identity.accounts.signin import address_key_of

_a = models.account
_s = models.session


def confirm_holder(
    ctx: AccountsContext,
    transaction: Transaction,
    *,
    session: CurrentSession,
    password: str,
    client_address: str | None,
    fresh_within: timedelta,
) -> None:
    """Check that the signed-in holder is really there (blocking: argon2 runs between two
    transactions). Raises ``SignInRefused`` (wrong password), ``LockedOut`` or
    ``FreshSignInRequired`` (no password, and the session is older than ``fresh_within``)."""
    with transaction(readonly=True) as db:
        account = ctx.account(db, session.account_id)
        opened = db.execute(select(_s.c.created_at).where(_s.c.id == session.session_id))
        opened_at = opened.scalar_one()
    now = ctx.clock.now()
    if account.password_hash is None or account.login_mac is None:
        if now - opened_at > fresh_within:
            raise FreshSignInRequired
        return
    login_key = f"password:{account.login_mac[:64]}"
    by_address = address_key_of(ctx, client_address)
    with transaction(readonly=True) as db:
        locked = throttle.is_locked(db, login_key, now=now) or (
            by_address is not None and throttle.is_locked(db, by_address, now=now)
        )
    if locked:
        raise LockedOut
    if ctx.hasher.verify(account.password_hash, password):
        with transaction() as db:
            throttle.clear(db, login_key)
        return
    with transaction() as db:
        locked = throttle.fail(db, login_key, ctx.limit(ctx.settings.password_failures), now=now)
        if by_address is not None:
            limit = ctx.limit(ctx.settings.address_failures)
            locked |= throttle.fail(db, by_address, limit, now=now)
        detail = {"via": "space-closure"}
        tag = EventTag.IDENTITY_SIGN_IN_PASSWORD
        ctx.record(db, tag, account=account, outcome=Outcome.REFUSED, detail=detail)
    raise LockedOut if locked else SignInRefused


def disable(ctx: AccountsContext, db: Connection, *, account_id: str) -> int:
    """Disable the account (if not already) and end its sessions; the number ended."""
    now = ctx.clock.now()
    db.execute(
        update(_a).where(_a.c.id == account_id, _a.c.disabled_at.is_(None)).values(disabled_at=now)
    )
    return sessions.revoke_all(db, account_id=account_id, now=now)


def enable(db: Connection, *, account_id: str) -> None:
    """Let a disabled account sign in again (its space was reopened or its suspension
    lifted). An account anonymised by ``erase_person`` has no way to sign in left anyway."""
    db.execute(update(_a).where(_a.c.id == account_id).values(disabled_at=None))


def erase_person(
    ctx: AccountsContext, db: Connection, *, patient_id: str, account_id: str | None
) -> None:
    """Anonymise for good the account of an erased space (``account_id``, and any patient
    account naming ``patient_id``) and drop the profiles through which others acted for it."""
    db.execute(delete(models.profile).where(models.profile.c.patient_id == patient_id))
    owners = set(
        db.execute(
            select(_a.c.id).where(_a.c.kind == "patient", _a.c.person_id == patient_id)
        ).scalars()
    )
    if account_id is not None:
        owners.add(account_id)
    now = ctx.clock.now()
    for owner in sorted(owners):
        sessions.revoke_all(db, account_id=owner, now=now)
        for table in (models.profile, models.device, models.code, models.recovery_code):
            db.execute(delete(table).where(table.c.account_id == owner))
        db.execute(
            update(_a)
            .where(_a.c.id == owner)
            .values(
                person_id=None,
                login_mac=None,
                password_hash=None,
                email_sealed=None,
                email_masked=None,
                phone_sealed=None,
                phone_masked=None,
                totp_sealed=None,
                totp_pending_sealed=None,
                personal_sealed=None,
                disabled_at=_first(ctx, db, owner, now),
            )
        )


def _first(ctx: AccountsContext, db: Connection, account_id: str, now: datetime) -> datetime:
    disabled_at: datetime | None = ctx.account(db, account_id).disabled_at
    return disabled_at or now


def contact(ctx: AccountsContext, db: Connection, *, account_id: str) -> tuple[str, str] | None:
    """The account's e-mail address and language, or None (none given, or erased)."""
    account = db.execute(select(_a).where(_a.c.id == account_id)).first()
    if account is None or account.email_sealed is None:
        return None
    email = ctx.sealer.open(account.email_sealed, context=f"{account.id}:email")
    return email, str(account.language)
