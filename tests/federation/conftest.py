"""Fixtures of the federated sign-in tests: the provider process, and Carnet configured for it.

Carnet runs in-process (Starlette's TestClient, ``http://testserver``) on the suite's database,
with a clock the tests can move forward (an expired id_token); the provider is a real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.federation import people
from tests.federation.oidc import CLIENT_SECRET, Provider, client, start_provider

from carnet.app import create_app
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings

BASE = "http://testserver"
FAMILY, GIVEN = "Quérel", ("Marie-Noëlle", "Jeanne")


class MovableClock:
    """The real time, plus an offset a test may set."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def provider_config(base: str, family: str, given: tuple[str, ...]) -> dict[str, Any]:
    return {
        "providers": [
            {
                "name": "fc",
                "kind": "franceconnect",
                "client": client(
                    "fc", base, callback="/connexion/franceconnect/retour", home="/", alg="ES256"
                ),
                "accounts": people.franceconnect_accounts(family, given),
            },
            {
                "name": "psc",
                "kind": "prosanteconnect",
                "client": client(
                    "psc", base, callback="/pro/connexion/psc/retour", home="/pro", alg="RS256"
                ),
                "accounts": people.psc_accounts(),
            },
        ]
    }


def federation_settings(provider: Provider) -> dict[str, Any]:
    return {
        "franceconnect": {
            "issuer": provider.issuer("fc"),
            "client_id": "carnet-fc",
            "client_secret": CLIENT_SECRET,
            "scopes": "openid given_name family_name birthdate gender birthplace birthcountry "
            "carnet_test_ins",
            # FranceConnect+ (substantial), as a health space asks.
            "required_acr": "eidas2",
            "ins_claim": "carnet_test_ins",
        },
        "prosanteconnect": {
            "issuer": provider.issuer("psc"),
            "client_id": "carnet-psc",
            "client_secret": CLIENT_SECRET,
            "scopes": "openid scope_all",
            "required_acr": "eidas1",
            "signing_algorithms": "RS256",
        },
    }


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with start_provider(provider_config(BASE, FAMILY, GIVEN), log) as running:
        yield running


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="module")
def fed_rt(settings: Settings, provider: Provider, clock: MovableClock) -> Iterator[Runtime]:
    configured = settings.model_copy(
        update={
            "federation": type(settings.federation).model_validate(federation_settings(provider))
        }
    )
    runtime = build_runtime(configured, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def known(fed_rt: Runtime) -> dict[str, str]:
    """The patient (and the doctor) Carnet knows."""
    return {"patient": people.store_people(fed_rt, FAMILY, GIVEN)}


@pytest.fixture(scope="module")
def fed_app(fed_rt: Runtime, known: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(fed_rt), base_url=BASE) as test_client:
        yield test_client


@pytest.fixture
def carnet(fed_app: TestClient, clock: MovableClock) -> Iterator[TestClient]:
    fed_app.cookies.clear()
    yield fed_app
    clock.offset = timedelta()
