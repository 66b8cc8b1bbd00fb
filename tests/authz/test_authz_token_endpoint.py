"""The token endpoint (client_credentials, SMART Backend Services), through the service.

Assertions are signed here with keys generated for the test; every case goes through the real
Authlib server, the real database (jti ledger) and the real audit trail.
"""

from __future__ import annotations

import base64

import orjson
import pytest
from sqlalchemy import Connection
from tests.authz.builders import (
    FORM,
    GENERIC,
    Key,
    assert_refused,
    exchange,
    form,
    last_event,
    sign,
)

from carnet.authz.schemas import RegisteredClient, TokenRequest
from carnet.core.actor import CARNET
from carnet.runtime import Runtime

# --- issuing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS384", "ES384", "ES256", "RS256"])
def test_token_for_a_signed_assertion(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key], alg: str
) -> None:
    key = keys["RS384"] if alg.startswith("RS") else keys[alg]
    answer = exchange(rt, db, form(sign(key, registered.client_id, alg=alg)))
    assert answer.status == 200, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Type"] == "application/json"
    body = answer.body
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "system/*.rs system/Patient.cruds"
    claims = rt.authz.verify_access_token(body["access_token"])
    assert claims.client_id == registered.client_id
    assert claims.client_name == "Logiciel Test"
    assert claims.actor_kind == "system"
    assert claims.scopes == body["scope"]

    event = last_event(rt, db)
    assert event.tag == "authz:token:issue"
    assert event.outcome == "success"
    assert (event.actor_kind, event.actor_id, event.actor_label) == (
        "system",
        registered.client_id,
        "Logiciel Test",
    )
    assert event.entity == f"client/{registered.client_id}"
    assert event.detail["scopes"] == ["system/*.rs", "system/Patient.cruds"]
    assert event.detail["token_id"] == claims.token_id
    assert body["access_token"] not in orjson.dumps(event.detail).decode()


@pytest.mark.parametrize(
    "case",
    [
        ("system/Observation.rs", "system/Observation.rs"),
        ("system/Observation.r system/Patient.s", "system/Observation.r system/Patient.s"),
        ("system/*.read", "system/*.read"),
        ("system/Patient.cruds", "system/Patient.cruds"),
        ("system/Patient.cud system/*.rs", "system/Patient.cud system/*.rs"),
        ("system/*.rs system/*.rs", "system/*.rs"),
        ("", "system/*.rs system/Patient.cruds"),
    ],
)
def test_scope_narrowing(
    rt: Runtime,
    db: Connection,
    registered: RegisteredClient,
    keys: dict[str, Key],
    case: tuple[str, str],
) -> None:
    requested, granted = case
    answer = exchange(rt, db, form(sign(keys["ES384"], registered.client_id), scope=requested))
    assert answer.status == 200, answer.body
    assert answer.body["scope"] == granted
    assert rt.authz.verify_access_token(answer.body["access_token"]).scopes == granted


@pytest.mark.parametrize(
    "requested",
    [
        "system/*.cruds",
        "system/*.c",
        "system/Observation.u",
        "system/*.write",
        "patient/*.rs",
        "user/Patient.rs",
        "openid",
        "system/*.rs openid",
        "system/Observation.rs?code=1234",
        "system/Observation.sr",
    ],
)
def test_wider_or_foreign_scopes_are_refused(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key], requested: str
) -> None:
    answer = exchange(rt, db, form(sign(keys["ES384"], registered.client_id), scope=requested))
    assert_refused(rt, db, answer, error="invalid_scope", reason="invalid_scope")
    assert last_event(rt, db).actor_id == registered.client_id


def test_a_narrow_registration_does_not_grant_a_wildcard(
    rt: Runtime, db: Connection, keys: dict[str, Key]
) -> None:
    narrow = rt.authz.register_system_client(
        db,
        name="Narrow",
        scopes="system/Observation.rs",
        jwks={"keys": [keys["ES384"].as_dict(private=False)]},
        actor=CARNET,
    )
    answer = exchange(rt, db, form(sign(keys["ES384"], narrow.client_id), scope="system/*.rs"))
    assert answer.body["error"] == "invalid_scope"


# --- client_secret_basic (development) ---------------------------------------------------------------


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_client_secret_basic_in_dev(rt: Runtime, db: Connection) -> None:
    dev = rt.authz.register_system_client(
        db, name="Dev", scopes="system/*.rs", jwks=None, actor=CARNET
    )
    assert dev.client_secret is not None
    answer = exchange(rt, db, form(), authorization=basic(dev.client_id, dev.client_secret))
    assert answer.status == 200, answer.body
    assert answer.body["scope"] == "system/*.rs"
    assert last_event(rt, db).detail["auth_method"] == "client_secret_basic"

    wrong = exchange(rt, db, form(), authorization=basic(dev.client_id, "wrong-secret"))
    assert_refused(rt, db, wrong, error="invalid_client", reason="bad_secret", status=401)
    assert wrong.headers["WWW-Authenticate"].startswith("Basic ")
    assert wrong.body["error_description"] == GENERIC
    assert last_event(rt, db).actor_id == dev.client_id

    unknown = exchange(rt, db, form(), authorization=basic("C" * 32, dev.client_secret))
    assert_refused(rt, db, unknown, error="invalid_client", reason="unknown_client", status=401)

    assert rt.authz.disable_client(db, client_id=dev.client_id, actor=CARNET)
    disabled = exchange(rt, db, form(), authorization=basic(dev.client_id, dev.client_secret))
    assert_refused(rt, db, disabled, error="invalid_client", reason="client_disabled", status=401)


def test_a_key_client_cannot_use_a_secret_nor_a_secret_client_a_key(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    answer = exchange(rt, db, form(), authorization=basic(registered.client_id, "anything"))
    assert_refused(rt, db, answer, error="invalid_client", reason="bad_secret", status=401)
    dev = rt.authz.register_system_client(
        db, name="Dev", scopes="system/*.rs", jwks=None, actor=CARNET
    )
    answer = exchange(rt, db, form(sign(keys["ES384"], dev.client_id)))
    assert_refused(rt, db, answer, error="invalid_client", reason="no_registered_keys")


# --- malformed requests ------------------------------------------------------------------------------


def test_no_credentials(rt: Runtime, db: Connection) -> None:
    answer = exchange(rt, db, form())
    assert_refused(rt, db, answer, error="invalid_client", reason="no_credentials")
    assert "private_key_jwt" in answer.body["error_description"]


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "implicit", ""])
def test_only_client_credentials(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key], grant_type: str
) -> None:
    body = form(sign(keys["ES384"], registered.client_id), grant_type=grant_type)
    answer = exchange(rt, db, body)
    assert_refused(rt, db, answer, error="unsupported_grant_type", reason="unsupported_grant_type")
    assert last_event(rt, db).outcome == "invalid"


def test_two_authentication_methods_at_once(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    answer = exchange(
        rt,
        db,
        form(sign(keys["ES384"], registered.client_id)),
        authorization=basic(registered.client_id, "x"),
    )
    assert_refused(rt, db, answer, error="invalid_request", reason="invalid_request")


def test_repeated_parameters(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    body = form(sign(keys["ES384"], registered.client_id)) + b"&scope=system/*.rs&scope=system/*.rs"
    answer = exchange(rt, db, body)
    assert_refused(rt, db, answer, error="invalid_request", reason="invalid_request")


def test_client_id_must_match_the_assertion(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    body = form(sign(keys["ES384"], registered.client_id), client_id="D" * 32)
    answer = exchange(rt, db, body)
    assert_refused(rt, db, answer, error="invalid_request", reason="invalid_request")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"grant_type": "client_credentials"}'),
        ("multipart/form-data; boundary=x", b"--x--"),
        ("", b"grant_type=client_credentials"),
        (FORM, b"grant_type=client_credentials&scope=%FF"),
        (FORM, "grant_type=client_credentials&scope=é".encode()),
        (FORM, b"&".join(b"f%d=1" % i for i in range(30))),
    ],
)
def test_malformed_bodies(rt: Runtime, db: Connection, content_type: str, body: bytes) -> None:
    answer = exchange(rt, db, body, content_type=content_type)
    assert_refused(rt, db, answer, error="invalid_request", reason="invalid_request")
    assert last_event(rt, db).actor_id == "-"


def test_oversized_body(rt: Runtime, db: Connection) -> None:
    answer = rt.authz.issue_token(db, TokenRequest(FORM, b"", None, body_too_large=True))
    assert_refused(rt, db, answer, error="invalid_request", reason="invalid_request")


def test_form_with_charset_is_accepted(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    body = form(sign(keys["ES384"], registered.client_id))
    answer = exchange(rt, db, body, content_type=f"{FORM}; charset=UTF-8")
    assert answer.status == 200, answer.body
