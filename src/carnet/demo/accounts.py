"""Demo sign-ins: a patient, a parent acting for a child, a general practitioner, a nurse and an
operator, with development passwords, made idempotently for ``make run``.

The professionals' password accounts are development-only (``dev_only``): in the real system
professionals sign in through Pro Santé Connect, and production refuses these accounts. Their
second factor is an e-mailed code (the development console prints it); the operator's is TOTP,
as for every operator (``carnet accounts demo-code demo.operateur`` prints the current code).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from carnet.core.actor import CARNET
from carnet.demo.population import generate_directory, generate_patients
from carnet.demo.space import post_notices
from carnet.identity.accounts import service as accounts_service

GP_SPECIALTY = "SM54"
NURSE_PROFESSION = "60"
_PATIENT, _PARENT, _CHILD = 0, 1, 6
"""Indices in the demo population (seed 1: the child, born in 2012, is a minor)."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: str
    login: str
    password: str
    second_factor: str
    person: str
    """Who it is (a synthetic label), for the printed list."""


def _names(resource: dict[str, Any]) -> tuple[str, ...]:
    name = resource["name"][0]
    return (*name.get("given", []), name.get("family", ""))


def _birth(resource: dict[str, Any]) -> date | None:
    value = resource.get("birthDate")
    return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None


def _practitioner(practitioners: tuple[dict[str, Any], ...], code: str) -> dict[str, Any]:
    for practitioner in practitioners:
        codes = {c.get("code") for q in practitioner["qualification"] for c in q["code"]["coding"]}
        if code in codes:
            return practitioner
    raise LookupError(code)


def seed_accounts(
    *,
    accounts: accounts_service.Accounts,
    transaction: accounts_service.Transaction,
    seed: int = 1,
) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; every one of them, for printing."""
    directory = generate_directory(seed=seed)
    people = list(generate_patients(_CHILD + 1, seed=seed, directory=directory))
    patient, parent, child = people[_PATIENT], people[_PARENT], people[_CHILD]
    gp = _practitioner(directory.practitioners, GP_SPECIALTY)
    nurse = _practitioner(directory.practitioners, NURSE_PROFESSION)
    made = []
    plans: list[tuple[str, str, str, str, dict[str, Any], str]] = [
        (
            "patient",
            "demo.patient",
            "Demo-Patient-2026!",
            "patient",
            patient.patient,
            patient.label,
        ),
        ("parent", "demo.parent", "Demo-Parent-2026!", "patient", parent.patient, parent.label),
        ("médecin généraliste", "demo.medecin", "Demo-Medecin-2026!", "professional", gp, "GP"),
        ("infirmier", "demo.infirmier", "Demo-Infirmier-2026!", "professional", nurse, "nurse"),
    ]
    for role, login, password, kind, resource, label in plans:
        with transaction(readonly=True) as db:
            exists = accounts.find_account(db, login=login) is not None
        if not exists:
            hashed = accounts.hash_password(
                password, names=_names(resource), birth_date=_birth(resource)
            )
            with transaction() as db:
                account_id = accounts.create_account(
                    db,
                    actor=CARNET,
                    kind=kind,  # type: ignore[arg-type]
                    person_id=resource["id"],
                    login=login,
                    password=hashed,
                    email=f"{login}@carnet.example",
                    dev_only=kind == "professional",
                )
                if login == "demo.parent":
                    given = child.patient["name"][0]["given"][0]
                    accounts.add_child_profile(
                        db, account_id=account_id, patient_id=child.patient["id"], label=given
                    )
        person = label if kind == "patient" else _display(resource)
        if login == "demo.parent":
            person += f" (+ {child.label})"
        made.append(DemoAccount(role, login, password, "e-mail", person))
    made.append(_operator(accounts, transaction))
    with transaction() as db:
        post_notices(db, accounts.ctx.jobs, seed=seed)
    return made


def _display(practitioner: dict[str, Any]) -> str:
    name = practitioner["name"][0]
    return " ".join([*name.get("prefix", []), *name.get("given", []), name.get("family", "")])


def _operator(
    accounts: accounts_service.Accounts, transaction: accounts_service.Transaction
) -> DemoAccount:
    login, password = "demo.operateur", "Demo-Operateur-2026!"
    with transaction(readonly=True) as db:
        exists = accounts.find_account(db, login=login) is not None
    if not exists:
        hashed = accounts.hash_password(password)
        with transaction() as db:
            accounts.create_operator(
                db,
                actor=CARNET,
                login=login,
                password=hashed,
                email=None,
                roles=tuple(accounts_service.OperatorRole),
            )
    return DemoAccount(
        "opérateur", login, password, "TOTP", "support, enrollment, referencing, security"
    )
