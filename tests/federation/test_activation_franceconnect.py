"""FranceConnect as the other way to activate a space: a person the insurer registered, informed
but whose space is not open yet, signs in with FranceConnect (INS traits and INS matricule), is
sent to the terms and first choices, and ends with an active space and an account bound to that
sign-in (no password). A real OpenID Provider on loopback; Carnet in-process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file
from tests.federation.conftest import BASE, federation_settings
from tests.federation.oidc import Provider, ProviderBrowser, client, start_provider

from carnet.app import create_app
from carnet.core.actor import CARNET
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.runtime import Runtime, build_runtime

ROWS = [
    row
    for row in synthetic_registry(30, seed=17)
    if not row["nir_ouvrant_droit"] and row["departement"] in {"31", "44", "80"}
]
PERSON = next(row for row in ROWS if row["email"])
Status = enrollment_service.BeneficiaryStatus


def claims_of(row: dict[str, str]) -> dict[str, Any]:
    """FranceConnect's identity pivot of a registry line, with its INS (test claim)."""
    given = row["prenoms"].split()
    return {
        "given_name": " ".join(given),
        "given_name_array": given,
        "family_name": row["nom_naissance"].upper(),
        "birthdate": row["date_naissance"],
        "gender": "male" if row["sexe"] == "M" else "female",
        "birthplace": row["lieu_naissance"],
        "birthcountry": "99100",
        "carnet_test_ins": row["nir"],
    }


@pytest.fixture(scope="module")
def fc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    config = {
        "providers": [
            {
                "name": "fc",
                "kind": "franceconnect",
                "client": client(
                    "fc", BASE, callback="/connexion/franceconnect/retour", home="/", alg="ES256"
                ),
                "accounts": {"registered": {"acr": "eidas2", "claims": claims_of(PERSON)}},
            },
            {
                "name": "psc",
                "kind": "prosanteconnect",
                "client": client(
                    "psc", BASE, callback="/pro/connexion/psc/retour", home="/pro", alg="RS256"
                ),
                "accounts": {},
            },
        ]
    }
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with start_provider(config, log) as running:
        yield running


@pytest.fixture
def fc_rt(fresh_database_url: str, tmp_path: Path, fc_provider: Provider) -> Iterator[Runtime]:
    settings = make_settings(
        fresh_database_url, tmp_path / "var", federation=federation_settings(fc_provider)
    )
    runtime = build_runtime(settings, configure_logs=False)
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", ROWS),
        storage=runtime.storage,
        audit=runtime.audit,
        transaction=runtime.transaction,
    )
    with runtime.transaction() as db:
        runtime.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=date(2026, 11, 26)
        )
    runtime.worker(name="test").run_until_idle()
    yield runtime
    runtime.close()


@pytest.fixture
def carnet(fc_rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(fc_rt), base_url=BASE) as test_client:
        yield test_client


def sign_in_with_franceconnect(carnet: TestClient, provider: Provider):  # type: ignore[no-untyped-def]
    started = carnet.get("/connexion/franceconnect", follow_redirects=False)
    assert started.status_code == 303
    browser = ProviderBrowser(provider)
    try:
        back = browser.sign_in(started.headers["location"], "registered")
    finally:
        browser.close()
    return carnet.get(back[len(BASE) :], follow_redirects=False)


def beneficiary(rt: Runtime) -> enrollment_service.Beneficiary:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=PERSON["nir"])
    assert found is not None
    return found


def test_franceconnect_activates_a_space_not_yet_open(
    carnet: TestClient, fc_rt: Runtime, fc_provider: Provider
) -> None:
    assert beneficiary(fc_rt).status is Status.NOTIFIED
    back = sign_in_with_franceconnect(carnet, fc_provider)
    assert (back.status_code, back.headers["location"]) == (303, "/activation/conditions")
    person_id = beneficiary(fc_rt).id
    with fc_rt.transaction(readonly=True) as db:
        assert (
            fc_rt.accounts.account_for_person(
                db, person_kind="patient", person_id=person_id, create=False
            )
            is None
        )  # nothing before the last step
    terms = carnet.get("/activation/conditions")
    assert terms.status_code == 200 and "FranceConnect" in terms.text
    token = terms.text.split('name="csrf_token" value="')[1].split('"')[0]
    accepted = carnet.post(
        "/activation/conditions",
        data={"csrf_token": token, "accept": "oui"},
        follow_redirects=False,
    )
    assert accepted.headers["location"] == "/activation/choix"
    done = carnet.post(
        "/activation/choix",
        data={
            "csrf_token": token,
            "confidentiality": "visible",
            "samu": "oui",
            "break_glass": "oui",
            "masked_emergency": "non",
        },
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/?bienvenue=1")
    assert beneficiary(fc_rt).status is Status.ACTIVE
    with fc_rt.transaction(readonly=True) as db:
        account = fc_rt.accounts.account_for_person(
            db, person_kind="patient", person_id=person_id, create=False
        )
        space = db.execute(select(models.space).where(models.space.c.patient_id == person_id)).one()
    assert account is not None and space.account_id == account
    assert space.opened_by == "activation" and space.terms_version
    # The next FranceConnect sign-in simply signs the person in.
    carnet.cookies.clear()
    again = sign_in_with_franceconnect(carnet, fc_provider)
    assert (again.status_code, again.headers["location"]) == (303, "/")
