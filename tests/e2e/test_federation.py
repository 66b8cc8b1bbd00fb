"""FranceConnect and Pro Santé Connect in a real browser, against a real OpenID Provider
(``oidc-provider`` on loopback, our test script): the buttons, the provider's sign-in form,
the return signed in, and the FranceConnect logout through the provider. Every page on both
sides is checked by axe-core and photographed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.e2e.conftest import LiveServer, _free_port
from tests.federation import people
from tests.federation.conftest import federation_settings, provider_config
from tests.federation.oidc import start_provider

from carnet.identity.federation.config import FederationSettings
from carnet.runtime import build_runtime
from carnet.settings import Settings

FAMILY, GIVEN = "Lemaître", ("Élise", "Ondine")


@pytest.fixture(scope="module")
def federated_server(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    # Carnet's public URL must be known before it starts: the provider registers its returns.
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("oidc-e2e") / "provider.log"
    with start_provider(provider_config(base, FAMILY, GIVEN), log) as provider:
        configured = settings.model_copy(
            update={
                "public_base_url": base,
                "federation": FederationSettings.model_validate(federation_settings(provider)),
            }
        )
        runtime = build_runtime(configured, configure_logs=False)
        people.store_people(runtime, FAMILY, GIVEN)
        server = LiveServer(runtime, port=port).start()
        yield server
        server.stop()
        runtime.close()


def test_franceconnect_sign_in_and_logout(visit: Any, federated_server: LiveServer) -> None:
    person = visit(federated_server)
    page = person.page
    person.goto("/")
    person.navigate(
        lambda: page.get_by_role("link", name="S’identifier avec FranceConnect").click()
    )
    assert page.get_by_role("heading", name="Connexion (fc)").is_visible()
    page.get_by_label("Compte de test").select_option("patient")
    person.navigate(lambda: page.get_by_role("button", name="Se connecter").click())
    assert page.url == federated_server.base + "/"
    logout = page.get_by_role(
        "link", name="Se déconnecter (et quitter le service d’identification)"
    )
    assert logout.is_visible()
    person.navigate(logout.click)
    assert page.get_by_role("heading", name="Déconnexion du fournisseur").is_visible()
    person.navigate(lambda: page.get_by_role("button", name="Me déconnecter").click())
    # Back home (the provider adds the logout request's state to the address).
    assert page.url.split("?")[0] == federated_server.base + "/"
    assert page.get_by_role("link", name="S’identifier avec FranceConnect").is_visible()


def test_pro_sante_connect_sign_in(visit: Any, federated_server: LiveServer) -> None:
    person = visit(federated_server)
    page = person.page
    person.goto("/pro")
    person.navigate(
        lambda: page.get_by_role("link", name="Se connecter avec Pro Santé Connect").click()
    )
    page.get_by_label("Compte de test").select_option("doctor")
    person.navigate(lambda: page.get_by_role("button", name="Se connecter").click())
    assert page.url == federated_server.base + "/pro"


def test_a_refused_sign_in_shows_why(visit: Any, federated_server: LiveServer) -> None:
    person = visit(federated_server)
    page = person.page
    person.goto("/")
    person.navigate(
        lambda: page.get_by_role("link", name="S’identifier avec FranceConnect").click()
    )
    page.get_by_label("Compte de test").select_option("stranger")
    person.navigate(lambda: page.get_by_role("button", name="Se connecter").click())
    assert page.get_by_role("heading", name="Connexion impossible").is_visible()
    assert page.get_by_text("Rien n’a été créé").is_visible()
