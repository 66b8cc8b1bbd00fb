"""The account's security settings as its holder sees and manages them: the summary the
security page shows, trusted devices revoked, new recovery codes; and, in development only, the
current TOTP code of a demonstration account.

Changing the password, the mobile number or the second factor has modules of its own
(``password_change``, ``phone``, ``enrolment``).
"""

from __future__ import annotations

from sqlalchemy import Connection

from carnet.audit.tags import EventTag
from carnet.identity.accounts import devices, totp
from carnet.identity.accounts.context import AccountsContext
from carnet.identity.accounts.errors import NotAllowed
from carnet.identity.accounts.schemas import AccountSummary, CurrentSession, OperatorRole


def summary(ctx: AccountsContext, db: Connection, *, account_id: str) -> AccountSummary:
    """What the account's security page shows: factors, masked contacts, roles. No secret."""
    account = ctx.account(db, account_id)
    return AccountSummary(
        account_id=account.id,
        kind=account.kind,
        second_factor=account.second_factor,
        email_masked=account.email_masked,
        phone_masked=account.phone_masked,
        totp_enabled=account.totp_sealed is not None,
        recovery_codes_left=totp.recovery_codes_left(db, account_id=account.id),
        roles=frozenset(OperatorRole(r) for r in account.roles.split(",") if r),
        has_password=account.password_hash is not None,
        sms_available=ctx.sms_available,
    )


def revoke_device(
    ctx: AccountsContext, db: Connection, *, session: CurrentSession, device_id: str | None
) -> int:
    """Revoke one trusted device of the account, or all (``None``); how many were."""
    done = devices.revoke(
        db, account_id=session.account_id, device_id=device_id, now=ctx.clock.now()
    )
    if done:
        ctx.record(
            db,
            EventTag.IDENTITY_DEVICE_REVOKE,
            account=ctx.account(db, session.account_id),
            detail={"devices": done},
        )
    return done


def new_recovery_codes(
    ctx: AccountsContext, db: Connection, *, session: CurrentSession
) -> list[str]:
    """A new set of recovery codes, replacing the old (``NotAllowed`` without TOTP: the codes
    stand in for the authenticator app, and for nothing else)."""
    account = ctx.account(db, session.account_id)
    if account.totp_sealed is None:
        raise NotAllowed("recovery codes come with an authenticator app")
    codes = totp.new_recovery_codes(db, ctx.sealer, account_id=account.id, now=ctx.clock.now())
    ctx.record(
        db,
        EventTag.IDENTITY_FACTOR_CHANGE,
        account=account,
        detail={"factor": "recovery-codes"},
    )
    return codes


def totp_code_for_demo(ctx: AccountsContext, db: Connection, *, login: str) -> str | None:
    """The current TOTP code of a development account (``carnet accounts demo-code``);
    None in production or for an account without TOTP."""
    account = ctx.account_by_login(db, login)
    if account is None or ctx.production or account.totp_sealed is None:
        return None
    secret = ctx.sealer.open(account.totp_sealed, context=f"{account.id}:totp")
    return totp.current_code(secret, now=ctx.clock.now())
