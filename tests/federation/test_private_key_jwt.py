"""Federated sign-in with ``private_key_jwt``: Carnet authenticates at the provider's token
endpoint with a client assertion signed by its own key, and holds no shared secret.

The key pair is made here; the provider (``provider/provider.mjs``) is given the public half
only, and takes an assertion only when its audience is the issuer alone (RFC 10070), so a
completed sign-in also shows what Carnet puts in ``aud``. A key the provider does not know is
refused at the token endpoint: the person sees a clear page, nothing is created, and the
refusal is audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey
from starlette.testclient import TestClient
from tests.federation import people
from tests.federation.conftest import BASE, federation_settings, provider_config
from tests.federation.oidc import Provider, ProviderBrowser, client, start_provider
from tests.federation.test_federation_flow import (
    FC_RETURN,
    FC_START,
    come_back,
    counts,
    last_federation_event,
    start,
)

from carnet.app import create_app
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings

# Not the patient of the other federation tests: the suite shares one database, and two
# patients with the same traits would make the match ambiguous.
FAMILY, GIVEN = "Lanoë-Vasseur", ("Odile", "Berthe")


def new_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)


def write_private_key(key: ECKey, path: Path) -> Path:
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def carnet_key() -> ECKey:
    return new_key("carnet-fc-2026")


@pytest.fixture(scope="module")
def key_provider(tmp_path_factory: pytest.TempPathFactory, carnet_key: ECKey) -> Iterator[Provider]:
    """The provider, where Carnet's FranceConnect client is registered for ``private_key_jwt``
    with the public half of ``carnet_key``."""
    config = provider_config(BASE, FAMILY, GIVEN)
    franceconnect = config["providers"][0]
    assert franceconnect["kind"] == "franceconnect"
    public = carnet_key.as_dict(private=False)
    assert "d" not in public
    franceconnect["client"] = client(
        "fc", BASE, callback=FC_RETURN, home="/", alg="ES256", public_key=public
    )
    log = tmp_path_factory.mktemp("oidc-pkj") / "provider.log"
    with start_provider(config, log) as running:
        yield running


@contextmanager
def carnet_signing_with(
    settings: Settings, provider: Provider, key_file: Path
) -> Iterator[tuple[Runtime, TestClient]]:
    """Carnet, its FranceConnect client authenticating with the private key in ``key_file``."""
    federation: dict[str, Any] = federation_settings(provider)
    franceconnect = federation["franceconnect"]
    del franceconnect["client_secret"]
    franceconnect.update(client_auth="private_key_jwt", private_key_file=key_file)
    configured = settings.model_copy(
        update={"federation": type(settings.federation).model_validate(federation)}
    )
    runtime = build_runtime(configured, configure_logs=False)
    try:
        with TestClient(create_app(runtime), base_url=BASE) as test_client:
            yield runtime, test_client
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def signing(
    settings: Settings,
    key_provider: Provider,
    carnet_key: ECKey,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Runtime, TestClient, str]]:
    """Carnet with the registered key, and the id of the patient it knows."""
    key_file = write_private_key(carnet_key, tmp_path_factory.mktemp("keys") / "fc.jwk.json")
    with carnet_signing_with(settings, key_provider, key_file) as (runtime, test_client):
        patient_id = people.store_people(runtime, FAMILY, GIVEN)
        yield runtime, test_client, patient_id


@pytest.fixture
def browser(key_provider: Provider) -> Iterator[ProviderBrowser]:
    person = ProviderBrowser(key_provider)
    yield person
    person.close()


def test_a_client_assertion_signed_with_the_registered_key_signs_the_patient_in(
    signing: tuple[Runtime, TestClient, str], browser: ProviderBrowser
) -> None:
    runtime, carnet, patient_id = signing
    carnet.cookies.clear()

    response = come_back(carnet, browser.sign_in(start(carnet, FC_START), "patient"))

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    assert "carnet_session=" in response.headers.get("set-cookie", "")
    outcome, chain, detail = last_federation_event(runtime, patient_id)
    assert (outcome, chain) == ("success", patient_id)
    assert "franceconnect" in detail


def test_a_key_the_provider_does_not_know_is_refused_and_nothing_is_created(
    signing: tuple[Runtime, TestClient, str],
    settings: Settings,
    key_provider: Provider,
    browser: ProviderBrowser,
    tmp_path: Path,
) -> None:
    # Same client id and kid as the registered key, another key pair: a rotation the provider
    # was never told about, or a stolen kid.
    unknown = write_private_key(new_key("carnet-fc-2026"), tmp_path / "unknown.jwk.json")
    runtime = signing[0]
    before = counts(runtime)
    with carnet_signing_with(settings, key_provider, unknown) as (_, carnet):
        response = come_back(carnet, browser.sign_in(start(carnet, FC_START), "patient"))

    assert response.status_code == 502, response.text
    page = response.text
    assert "Connexion impossible" in page
    assert "a refusé l’accès de Carnet" in page
    assert "Rien n’a été créé" in page
    assert counts(runtime) == before
    outcome, chain, detail = last_federation_event(runtime)
    assert (outcome, chain) == ("refused", "_system")
    assert '"reason":"client-rejected"' in detail.replace(" ", "")
