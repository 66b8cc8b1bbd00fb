"""A holder with an open space, signed in to the portal: what every patient-area test starts from.

``make_holder`` writes the holder's Patient (id = the account's person id, as opening a space
does) through the record as Carnet, and makes their patient account; ``signed_in_holder`` also
signs a TestClient in with the e-mailed code. Use it with the session ``rt`` (tests share its
database: every holder is new, so tests do not see each other's data).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.testclient import TestClient
from tests.accounts.factories import MadeAccount, make_account
from tests.web.test_sign_in_http import csrf, sign_in

from carnet.runtime import Runtime


@dataclass(frozen=True)
class Holder:
    account: MadeAccount
    patient_id: str
    birth_date: str
    sex: str


def make_holder(rt: Runtime, *, birth_date: str = "1984-03-12", sex: str = "female") -> Holder:
    """A patient account and its Patient resource (family name, given name, birth date, sex)."""
    account = make_account(rt)
    assert account.person_id is not None
    patient = {
        "resourceType": "Patient",
        "id": account.person_id,
        "name": [{"use": "official", "family": "Martin", "given": ["Camille"]}],
        "gender": sex,
        "birthDate": birth_date,
    }
    with rt.carnet_repository() as repo:
        repo.update("Patient", account.person_id, patient)
    return Holder(account, account.person_id, birth_date, sex)


def signed_in_holder(
    client: TestClient, rt: Runtime, *, birth_date: str = "1984-03-12", sex: str = "female"
) -> Holder:
    """A new holder, with ``client`` signed in as them."""
    holder = make_holder(rt, birth_date=birth_date, sex=sex)
    sign_in(client, rt, holder.account)
    return holder


def form_token(client: TestClient, path: str) -> str:
    """The CSRF token of the form on ``path`` (GET it first, as a browser would)."""
    return csrf(client, path)
