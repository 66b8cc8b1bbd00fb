"""Federated sign-in end to end at the HTTP level: Carnet (TestClient) and a real OpenID
Provider (``oidc-provider`` on loopback), for the happy paths and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.federation.conftest import BASE, MovableClock
from tests.federation.oidc import Provider, ProviderBrowser

from carnet.runtime import Runtime

FC_START, FC_RETURN = "/connexion/franceconnect", "/connexion/franceconnect/retour"
PSC_START, PSC_RETURN = "/pro/connexion/psc", "/pro/connexion/psc/retour"


@pytest.fixture
def browser(provider: Provider) -> Iterator[ProviderBrowser]:
    person = ProviderBrowser(provider)
    yield person
    person.close()


def start(carnet: TestClient, path: str) -> str:
    response = carnet.get(path, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def come_back(carnet: TestClient, return_url: str) -> object:
    assert return_url.startswith(BASE), return_url
    return carnet.get(return_url[len(BASE) :], follow_redirects=False)


def sign_in(carnet: TestClient, browser: ProviderBrowser, path: str, account: str):  # type: ignore[no-untyped-def]
    return come_back(carnet, browser.sign_in(start(carnet, path), account))


def counts(rt: Runtime) -> tuple[int, int]:
    """Accounts and sessions: a refused sign-in must create neither."""
    with rt.transaction(readonly=True) as db:
        accounts = db.execute(text("SELECT count(*) FROM identity_account")).scalar_one()
        sessions = db.execute(text("SELECT count(*) FROM identity_session")).scalar_one()
    return accounts, sessions


def last_federation_event(rt: Runtime, chain: str = "_system") -> tuple[str, str, str]:
    """The last sign-in event of a chain (refusals go to the system chain: who tried is not
    known). By sequence, not time: a test moves Carnet's clock."""
    with rt.transaction(readonly=True) as db:
        row = db.execute(
            text(
                "SELECT outcome, chain_id, detail FROM audit_event "
                "WHERE tag = 'identity:federation:sign-in' AND chain_id = :chain "
                "ORDER BY seq DESC"
            ),
            {"chain": chain},
        ).first()
    assert row is not None
    return row.outcome, row.chain_id, row.detail


# --- happy paths --------------------------------------------------------------------------------


def test_franceconnect_signs_the_patient_in(carnet, browser, fed_rt, known):
    authorization = start(carnet, FC_START)
    query = parse_qs(urlsplit(authorization).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["acr_values"] == ["eidas2"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    pending = carnet.cookies.get("carnet_fc_pending")
    assert pending and query["state"][0] not in pending  # sealed, not readable

    response = come_back(carnet, browser.sign_in(authorization, "patient"))

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "carnet_session=" in response.headers.get("set-cookie", "")
    outcome, chain, detail = last_federation_event(fed_rt, known["patient"])
    assert (outcome, chain) == ("success", known["patient"])
    assert '"acr":"eidas2"' in detail.replace(" ", "")


def test_a_higher_level_than_required_is_accepted(carnet, browser, known):
    response = sign_in(carnet, browser, FC_START, "patient-eidas3")
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_pro_sante_connect_signs_the_doctor_in(carnet, browser, fed_rt):
    response = sign_in(carnet, browser, PSC_START, "doctor")
    assert response.status_code == 303
    assert response.headers["location"] == "/pro"
    outcome, chain, detail = last_federation_event(fed_rt)
    assert outcome == "success" and chain == "_system"
    assert "prosanteconnect" in detail


def test_franceconnect_logout_goes_through_the_provider(carnet, browser, provider):
    signed = sign_in(carnet, browser, FC_START, "patient")
    assert signed.status_code == 303
    response = carnet.get("/connexion/deconnexion", follow_redirects=False)
    assert response.status_code == 303
    logout = response.headers["location"]
    assert logout.startswith(provider.issuer("fc") + "/session/end?")
    query = parse_qs(urlsplit(logout).query)
    assert query["post_logout_redirect_uri"] == [BASE + "/"]
    assert query["id_token_hint"][0].count(".") == 2
    assert browser.http.get(logout).status_code == 200  # the provider's confirmation page


def test_federated_logout_revokes_the_session_on_the_server(carnet, fed_rt, browser, known):
    assert sign_in(carnet, browser, FC_START, "patient").status_code == 303
    old_cookie = carnet.cookies.get("carnet_session")
    assert old_cookie
    assert carnet.get("/compte/securite", follow_redirects=False).status_code == 200
    response = carnet.get("/connexion/deconnexion", follow_redirects=False)
    assert response.status_code == 303
    assert "carnet_session" not in carnet.cookies
    # The cookie the browser was told to forget, replayed: the server no longer knows it.
    carnet.cookies.set("carnet_session", old_cookie)
    replayed = carnet.get("/compte/securite", follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/connexion?next=/compte/securite&expire=1"
    with fed_rt.transaction(readonly=True) as db:
        tags = [e.tag for e in fed_rt.audit.chain_events(db, chain_id=known["patient"], limit=5)]
    assert tags.index("identity:federation:sign-out") < tags.index("identity:session:revoke")


# --- refusals: a clear page, a 4xx, nothing created ---------------------------------------------


def refused(response, status: int, reason_words: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert "Connexion impossible" in response.text
    assert reason_words in response.text


def test_state_mismatch_is_refused(carnet, browser, fed_rt, known):
    before = counts(fed_rt)
    return_url = browser.sign_in(start(carnet, FC_START), "patient")
    parts = urlsplit(return_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "x" * 43
    forged = urlunsplit(parts._replace(query=urlencode(query)))
    refused(come_back(carnet, forged), 400, "n’a pas été commencée depuis ce navigateur")
    assert counts(fed_rt) == before
    assert last_federation_event(fed_rt)[0] == "refused"


def test_a_return_without_the_browser_cookie_is_refused(carnet, browser, fed_rt, known):
    return_url = browser.sign_in(start(carnet, FC_START), "patient")
    carnet.cookies.clear()  # another browser: login CSRF
    refused(come_back(carnet, return_url), 400, "n’a pas été commencée depuis ce navigateur")


def test_nonce_mismatch_is_refused(carnet, browser, fed_rt, known):
    # Same state and PKCE challenge as the browser's sign-in, another nonce: only the nonce
    # check can catch the substituted code.
    authorization = start(carnet, FC_START)
    parts = urlsplit(authorization)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["nonce"] = "n" * 43
    before = counts(fed_rt)
    return_url = browser.sign_in(urlunsplit(parts._replace(query=urlencode(query))), "patient")
    refused(come_back(carnet, return_url), 400, "n’a pas pu être vérifiée")
    assert counts(fed_rt) == before
    assert '"reason":"nonce-mismatch"' in last_federation_event(fed_rt)[2].replace(" ", "")


def test_a_tampered_id_token_is_refused(carnet, browser, fed_rt, known):
    before = counts(fed_rt)
    refused(sign_in(carnet, browser, FC_START, "patient-tampered"), 400, "n’a pas pu être vérifiée")
    assert counts(fed_rt) == before
    assert "token-invalid" in last_federation_event(fed_rt)[2]


def test_an_expired_id_token_is_refused(carnet, browser, fed_rt, clock: MovableClock, known):
    return_url = browser.sign_in(start(carnet, FC_START), "patient")
    # The provider's id_tokens live 2 minutes, and Carnet tolerates 1 minute of skew: 4 minutes
    # later the token is stale, while the pending sign-in (10 minutes) is still good.
    clock.offset = timedelta(minutes=4)
    response = come_back(carnet, return_url)
    assert response.status_code == 400
    assert last_federation_event(fed_rt)[2].count("token-expired") == 1


def test_an_acr_below_the_required_level_is_refused(carnet, browser, fed_rt, known):
    before = counts(fed_rt)
    refused(sign_in(carnet, browser, FC_START, "patient-eidas1"), 403, "niveau de garantie")
    assert counts(fed_rt) == before
    assert "acr-too-low" in last_federation_event(fed_rt)[2]


def test_an_unknown_person_is_refused_without_saying_who_exists(carnet, browser, fed_rt, known):
    before = counts(fed_rt)
    for account in ("stranger", "patient-other-birthplace"):
        refused(sign_in(carnet, browser, FC_START, account), 403, "Rien n’a été créé")
    assert counts(fed_rt) == before
    assert "unknown-person" in last_federation_event(fed_rt)[2]


def test_an_ins_with_a_wrong_key_is_refused(carnet, browser, fed_rt, known):
    before = counts(fed_rt)
    refused(sign_in(carnet, browser, FC_START, "patient-bad-ins"), 403, "clé de contrôle")
    assert counts(fed_rt) == before
    assert "ins-invalid" in last_federation_event(fed_rt)[2]


def test_an_rpps_failing_luhn_is_refused(carnet, browser, fed_rt):
    before = counts(fed_rt)
    refused(sign_in(carnet, browser, PSC_START, "doctor-bad-luhn"), 403, "RPPS")
    assert counts(fed_rt) == before
    assert "rpps-invalid" in last_federation_event(fed_rt)[2]


def test_a_professional_missing_from_the_directory_is_refused(carnet, browser, fed_rt):
    before = counts(fed_rt)
    refused(sign_in(carnet, browser, PSC_START, "doctor-unknown"), 403, "Rien n’a été créé")
    assert counts(fed_rt) == before


def test_a_provider_error_is_refused(carnet, fed_rt):
    start(carnet, FC_START)
    pending_state = "irrelevant"
    response = carnet.get(f"{FC_RETURN}?error=access_denied&state={pending_state}")
    assert response.status_code == 400


def test_the_sign_in_pages_offer_the_configured_providers(carnet):  # type: ignore[no-untyped-def]
    patient_page = carnet.get("/connexion")
    assert 'href="/connexion/franceconnect"' in patient_page.text
    assert "/pro/connexion/psc" not in patient_page.text
    pro_page = carnet.get("/pro")
    assert 'href="/pro/connexion/psc"' in pro_page.text
