"""Accounts for tests: made through the public service, with unique logins."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from carnet.core.actor import CARNET
from carnet.identity.accounts.schemas import OperatorRole
from carnet.runtime import Runtime

PASSWORD = "Carnet-test-2026!"


@dataclass
class MadeAccount:
    account_id: str
    login: str
    password: str
    email: str
    person_id: str | None
    totp_secret: str | None = None


def make_account(
    rt: Runtime,
    *,
    kind: str = "patient",
    second_factor: str = "email",
    dev_only: bool = False,
    phone: str | None = None,
) -> MadeAccount:
    login = f"test.{secrets.token_hex(5)}"
    person_id = f"pat-{secrets.token_hex(6)}" if kind != "operator" else None
    email = f"{login}@example.org"
    hashed = rt.accounts.hash_password(PASSWORD, names=("Camille", "Martin"))
    with rt.transaction() as db:
        account_id = rt.accounts.create_account(
            db,
            actor=CARNET,
            kind=kind,  # type: ignore[arg-type]
            person_id=person_id,
            login=login,
            password=hashed,
            email=email,
            phone=phone,
            second_factor=second_factor,  # type: ignore[arg-type]
            dev_only=dev_only,
        )
    return MadeAccount(account_id, login, PASSWORD, email, person_id)


def make_operator(
    rt: Runtime, *, roles: tuple[OperatorRole, ...] = (OperatorRole.SUPPORT,)
) -> MadeAccount:
    login = f"oper.{secrets.token_hex(5)}"
    hashed = rt.accounts.hash_password(PASSWORD)
    with rt.transaction() as db:
        account_id, secret = rt.accounts.create_operator(
            db, actor=CARNET, login=login, password=hashed, email=None, roles=roles
        )
    return MadeAccount(account_id, login, PASSWORD, "", None, totp_secret=secret)
