"""The authorization server over HTTP on the real application, and with committed transactions."""

from __future__ import annotations

import base64
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from starlette.testclient import TestClient

from carnet.audit.schemas import SYSTEM_CHAIN
from carnet.authz.schemas import RegisteredClient, TokenRequest
from carnet.core.actor import CARNET
from carnet.runtime import Runtime

TOKEN_URL = "/oauth2/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def keys() -> dict[str, ECKey | RSAKey]:
    return {
        "ES384": ECKey.generate_key("P-384", parameters={"kid": "http-ec"}, private=True),
        "RS384": RSAKey.generate_key(2048, parameters={"kid": "http-rsa"}, private=True),
    }


@pytest.fixture
def system_client(rt: Runtime, keys: dict[str, ECKey | RSAKey]) -> RegisteredClient:
    with rt.transaction() as db:
        return rt.authz.register_system_client(
            db,
            name="Client HTTP",
            scopes="system/*.rs",
            jwks={"keys": [key.as_dict(private=False) for key in keys.values()]},
            actor=CARNET,
        )


def assertion(key: ECKey | RSAKey, client_id: str, alg: str) -> str:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": "http://testserver/oauth2/token",
        "exp": int(time.time()) + 60,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def token_form(signed: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        **extra,
    }


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_token_over_http(
    client: TestClient,
    rt: Runtime,
    system_client: RegisteredClient,
    keys: dict[str, ECKey | RSAKey],
    alg: str,
) -> None:
    signed = assertion(keys[alg], system_client.client_id, alg)
    response = client.post(TOKEN_URL, data=token_form(signed, scope="system/Patient.rs"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["scope"] == "system/Patient.rs"
    assert body["expires_in"] == rt.settings.authz.access_token_seconds
    claims = rt.authz.verify_access_token(body["access_token"])
    assert claims.client_id == system_client.client_id

    replay = client.post(TOKEN_URL, data=token_form(signed))
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_client"
    assert replay.headers["cache-control"] == "no-store"

    with rt.transaction(readonly=True) as db:
        events = rt.audit.chain_events(db, chain_id=SYSTEM_CHAIN, limit=2)
    assert [(e.tag, e.actor_id) for e in events] == [
        ("authz:token:refuse", system_client.client_id),
        ("authz:token:issue", system_client.client_id),
    ]


def test_the_token_opens_the_fhir_api(
    client: TestClient, system_client: RegisteredClient, keys: dict[str, ECKey | RSAKey]
) -> None:
    assert client.get("/fhir/Patient/unknown-id").status_code == 401
    signed = assertion(keys["ES384"], system_client.client_id, "ES384")
    token = client.post(TOKEN_URL, data=token_form(signed)).json()["access_token"]
    response = client.get("/fhir/Patient/unknown-id", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code not in (401, 403)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = client.get("/fhir/Patient/unknown-id", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_refusal_over_http_is_json_and_not_cached(client: TestClient) -> None:
    response = client.post(TOKEN_URL, data={"grant_type": "password", "username": "x"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "Only grant_type=client_credentials is supported.",
    }


def test_json_bodies_are_refused(client: TestClient) -> None:
    response = client.post(TOKEN_URL, json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    response = client.post(
        TOKEN_URL,
        content=b"grant_type=client_credentials&pad=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_basic_authentication_over_http(client: TestClient, rt: Runtime) -> None:
    with rt.transaction() as db:
        dev = rt.authz.register_system_client(
            db, name="Dev HTTP", scopes="system/*.rs", jwks=None, actor=CARNET
        )
    assert dev.client_secret is not None
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        auth=(dev.client_id, dev.client_secret),
    )
    assert response.status_code == 200, response.text
    wrong = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"x" * 32 + b":nope").decode()},
    )
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic ")
    assert wrong.json()["error"] == "invalid_client"


def test_token_endpoint_takes_post_only(client: TestClient) -> None:
    assert client.get(TOKEN_URL).status_code == 405


def test_jwks(client: TestClient, rt: Runtime) -> None:
    response = client.get("/oauth2/jwks")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    keys = response.json()["keys"]
    assert keys == rt.authz.public_jwks()["keys"]
    assert all("d" not in key for key in keys)
    assert all(key["alg"] == "ES256" and key["kid"] for key in keys)


@pytest.mark.parametrize(
    "path", ["/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"]
)
def test_discovery(client: TestClient, rt: Runtime, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert doc == rt.authz.smart_configuration()
    assert doc["token_endpoint"] == "http://testserver/oauth2/token"
    assert client.get(doc["jwks_uri"].removeprefix("http://testserver")).status_code == 200


def test_concurrent_uses_of_one_assertion_issue_one_token(
    rt: Runtime, system_client: RegisteredClient, keys: dict[str, ECKey | RSAKey]
) -> None:
    signed = assertion(keys["ES384"], system_client.client_id, "ES384")
    request = TokenRequest(
        "application/x-www-form-urlencoded", urlencode(token_form(signed)).encode()
    )

    def attempt(_: int) -> int:
        with rt.transaction() as db:
            return rt.authz.issue_token(db, request).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [200] + [400] * 7
