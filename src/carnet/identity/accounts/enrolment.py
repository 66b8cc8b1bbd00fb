"""Creating accounts and changing their factors: patients, professionals, operators, TOTP.

Contacts are sealed (the clear address is needed to send codes) and shown masked; the login is
kept only as its blind index. Operators get a TOTP secret at creation: they never sign in with a
code sent to them, and never without their authenticator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from carnet.audit.tags import EventTag
from carnet.core.actor import Actor
from carnet.core.ids import new_id
from carnet.identity.accounts import models, totp
from carnet.identity.accounts.context import AccountsContext
from carnet.identity.accounts.errors import LoginTaken, NotAllowed, SignInRefused
from carnet.identity.accounts.passwords import check_login, check_password, personal_words
from carnet.identity.accounts.schemas import (
    AccountKind,
    OperatorRole,
    SecondFactor,
    TotpEnrolment,
)

_a = models.account
_p = models.profile


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"[:80]


def mask_phone(number: str) -> str:
    return f"{number[:3]}…{number[-2:]}"


def hash_password(
    ctx: AccountsContext,
    password: str,
    *,
    names: Iterable[str] = (),
    birth_date: date | None = None,
) -> tuple[str, list[str]]:
    """Check ``password`` against the rules, then hash it (blocking: argon2). Returns the hash
    and the personal words it was checked against (kept, sealed, for later changes)."""
    words = personal_words(names, birth_date)
    check_password(password, personal=words)
    return ctx.hasher.hash(password), words


def create_account(
    ctx: AccountsContext,
    db: Connection,
    *,
    actor: Actor,
    kind: AccountKind,
    person_id: str | None,
    login: str | None,
    password_hash: str | None,
    personal: list[str] | None = None,
    email: str | None = None,
    phone: str | None = None,
    second_factor: SecondFactor = "email",
    roles: Iterable[OperatorRole] = (),
    dev_only: bool = False,
    language: str = "fr",
) -> str:
    """A new account; ``LoginTaken`` if the login is someone else's, ``NotAllowed`` for an
    operator without a role or a development account where they are off."""
    if kind == "operator" and not roles:
        raise NotAllowed("an operator needs at least one role")
    if dev_only and not ctx.dev_accounts:
        raise NotAllowed("development accounts")
    account_id = new_id()
    login_mac = None
    if login is not None:
        login_mac = ctx.login_key(check_login(login))
        if db.execute(select(_a.c.id).where(_a.c.login_mac == login_mac)).first():
            raise LoginTaken
    seal = ctx.sealer.seal
    now = ctx.clock.now()
    db.execute(
        insert(_a).values(
            id=account_id,
            kind=kind,
            person_id=person_id,
            login_mac=login_mac,
            password_hash=password_hash,
            email_sealed=seal(email, context=f"{account_id}:email") if email else None,
            email_masked=mask_email(email) if email else None,
            phone_sealed=seal(phone, context=f"{account_id}:phone") if phone else None,
            phone_masked=mask_phone(phone) if phone else None,
            contact_verified_at=now if email or phone else None,
            second_factor=second_factor,
            totp_sealed=None,
            totp_pending_sealed=None,
            totp_last_step=0,
            personal_sealed=(
                seal(json.dumps(personal), context=f"{account_id}:personal") if personal else None
            ),
            roles=",".join(sorted(r.value for r in roles)),
            dev_only=dev_only,
            language=language,
            created_at=now,
            password_changed_at=now if password_hash else None,
            disabled_at=None,
        )
    )
    account = db.execute(select(_a).where(_a.c.id == account_id)).one()
    ctx.record(
        db, EventTag.IDENTITY_ACCOUNT_CREATE, account=account, actor=actor, detail={"kind": kind}
    )
    return account_id


def create_operator(
    ctx: AccountsContext,
    db: Connection,
    *,
    actor: Actor,
    login: str,
    password: tuple[str, list[str]],
    email: str | None,
    roles: tuple[OperatorRole, ...],
) -> tuple[str, str]:
    """An operator account (``password`` from ``hash_password``) with its TOTP secret set at
    once; returns (account id, the secret to load in the operator's authenticator)."""
    account_id = create_account(
        ctx,
        db,
        actor=actor,
        kind="operator",
        person_id=None,
        login=login,
        password_hash=password[0],
        personal=password[1],
        email=email,
        second_factor="totp",
        roles=roles,
    )
    secret = totp.new_secret()
    set_totp(ctx, db, account=ctx.account(db, account_id), secret=secret)
    return account_id, secret


def add_profile(
    ctx: AccountsContext, db: Connection, *, account_id: str, patient_id: str, label: str
) -> None:
    """Let a parent act for a child (``label``: what the switcher shows, sealed at rest)."""
    position = len(db.execute(select(_p.c.patient_id).where(_p.c.account_id == account_id)).all())
    db.execute(
        insert(_p).values(
            account_id=account_id,
            patient_id=patient_id,
            relation="child",
            label_sealed=ctx.sealer.seal(label, context=f"{account_id}:{patient_id}"),
            position=position + 1,
        )
    )


def remove_profile(db: Connection, *, account_id: str, patient_id: str) -> bool:
    """Stop a parent acting for a child (coming of age); False when it was not there. A
    session acting as that child acts as the account's own person again."""
    removed = db.execute(
        delete(_p).where(_p.c.account_id == account_id, _p.c.patient_id == patient_id)
    ).rowcount
    own = select(_a.c.person_id).where(_a.c.id == account_id).scalar_subquery()
    db.execute(
        update(models.session)
        .where(models.session.c.account_id == account_id, models.session.c.patient_id == patient_id)
        .values(patient_id=own)
    )
    return bool(removed)


def set_totp(ctx: AccountsContext, db: Connection, *, account: Any, secret: str) -> list[str]:
    """Make ``secret`` the account's factor; returns ten new recovery codes."""
    now = ctx.clock.now()
    db.execute(
        update(_a)
        .where(_a.c.id == account.id)
        .values(
            totp_sealed=ctx.sealer.seal(secret, context=f"{account.id}:totp"),
            totp_pending_sealed=None,
            totp_last_step=0,
            second_factor="totp",
        )
    )
    ctx.record(db, EventTag.IDENTITY_FACTOR_CHANGE, account=account, detail={"factor": "totp"})
    return totp.new_recovery_codes(db, ctx.sealer, account_id=account.id, now=now)


def start_totp(ctx: AccountsContext, db: Connection, *, account: Any, label: str) -> TotpEnrolment:
    """A pending secret to scan; it becomes the factor once ``confirm_totp`` sees a code."""
    secret = totp.new_secret()
    db.execute(
        update(_a)
        .where(_a.c.id == account.id)
        .values(totp_pending_sealed=ctx.sealer.seal(secret, context=f"{account.id}:totp-pending"))
    )
    uri = totp.provisioning_uri(secret, label=label, issuer=ctx.service_name)
    return TotpEnrolment(secret=secret, uri=uri, qr_svg=totp.qr_svg(uri))


def confirm_totp(ctx: AccountsContext, db: Connection, *, account: Any, code: str) -> list[str]:
    """Turn the pending secret into the account's factor if ``code`` comes from it."""
    if account.totp_pending_sealed is None:
        raise SignInRefused
    secret = ctx.sealer.open(account.totp_pending_sealed, context=f"{account.id}:totp-pending")
    if totp.matching_step(secret, code, now=ctx.clock.now(), after_step=0) is None:
        raise SignInRefused
    return set_totp(ctx, db, account=account, secret=secret)


def personal_of(ctx: AccountsContext, account: Any) -> list[str]:
    """The words the account's password may not contain."""
    if account.personal_sealed is None:
        return []
    words = json.loads(ctx.sealer.open(account.personal_sealed, context=f"{account.id}:personal"))
    return [str(w) for w in words]
