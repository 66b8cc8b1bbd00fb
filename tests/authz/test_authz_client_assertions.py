"""Client assertions (private_key_jwt) that the token endpoint must refuse, and why.

Before the signature is verified the caller gets one generic message; after it, the problem is
named. The audit trail keeps the precise reason either way.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from sqlalchemy import Connection
from tests.authz.builders import (
    GENERIC,
    Key,
    assert_refused,
    exchange,
    form,
    last_event,
    sign,
)

from carnet.authz.schemas import RegisteredClient
from carnet.core.actor import CARNET
from carnet.runtime import Runtime

# --- refusals of the assertion ----------------------------------------------------------------------


def test_replayed_assertion_is_refused(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    assertion = sign(keys["ES384"], registered.client_id)
    assert exchange(rt, db, form(assertion)).status == 200
    answer = exchange(rt, db, form(assertion))
    assert_refused(
        rt, db, answer, error="invalid_client", reason="replayed_jti", description="used already"
    )


def test_the_same_jti_from_two_clients_is_not_a_replay(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    other = rt.authz.register_system_client(
        db,
        name="Other",
        scopes="system/*.rs",
        jwks={"keys": [keys["ES384"].as_dict(private=False)]},
        actor=CARNET,
    )
    jti = str(uuid.uuid4())
    assert exchange(rt, db, form(sign(keys["ES384"], registered.client_id, jti=jti))).status == 200
    assert exchange(rt, db, form(sign(keys["ES384"], other.client_id, jti=jti))).status == 200


def test_the_issuer_is_an_accepted_audience_too(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    # SMART Backend Services names the token endpoint; the updated JWT client-authentication
    # rules name the authorization server's issuer. Either is ours, nothing else is.
    issuer = rt.settings.public_base_url.rstrip("/")
    assertion = sign(keys["ES384"], registered.client_id, aud=issuer)
    assert exchange(rt, db, form(assertion)).status == 200


@pytest.mark.parametrize(
    "case",
    [
        ({"exp_in": -120}, "assertion_expired", "expired"),
        ({"exp_in": 600}, "assertion_lifetime", "at most 300 seconds"),
        ({"aud": "http://testserver/fhir"}, "wrong_audience", "aud"),
        ({"aud": "https://evil.example/oauth2/token"}, "wrong_audience", "aud"),
        ({"iss": "someone-else-entirely-000"}, "wrong_issuer", "iss and sub"),
        ({"jti": None}, "missing_claim", "jti"),
        ({"jti": ""}, "invalid_claim", "jti"),
        ({"jti": "x" * 300}, "invalid_claim", "jti"),
        ({"exp": None}, "missing_claim", "exp"),
        ({"exp": "tomorrow"}, "invalid_claim", "exp"),
        ({"nbf": int(time.time()) + 3600}, "invalid_claim", "nbf"),
    ],
)
def test_claims_problems_are_named_once_the_signature_holds(
    rt: Runtime,
    db: Connection,
    registered: RegisteredClient,
    keys: dict[str, Key],
    case: tuple[dict[str, Any], str, str],
) -> None:
    overrides, reason, description = case
    answer = exchange(rt, db, form(sign(keys["ES384"], registered.client_id, **overrides)))
    assert_refused(rt, db, answer, error="invalid_client", reason=reason, description=description)


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join([b64(orjson.dumps(header)), b64(orjson.dumps(claims)), b64(signature)])


def _claims(client_id: str) -> dict[str, Any]:
    return {
        "iss": client_id,
        "sub": client_id,
        "aud": "http://testserver/oauth2/token",
        "exp": int(time.time()) + 120,
        "jti": str(uuid.uuid4()),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown_kid",
        "no_kid",
        "alg_none",
        "hs256",
        "other_key_same_kid",
        "kid_of_another_type",
        "es512",
        "unknown_client",
        "garbage",
        "tampered_payload",
    ],
)
def test_unproven_callers_get_a_generic_refusal(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key], case: str
) -> None:
    cid = registered.client_id
    ec = keys["ES384"]
    reasons: dict[str, tuple[str, Callable[[], str]]] = {
        "unknown_kid": (
            "unknown_key",
            lambda: jwt.encode(
                {"alg": "ES384", "kid": "nope"}, _claims(cid), ec, algorithms=["ES384"]
            ),
        ),
        "no_kid": (
            "missing_kid",
            lambda: jwt.encode({"alg": "ES384"}, _claims(cid), ec, algorithms=["ES384"]),
        ),
        "alg_none": (
            "algorithm_not_allowed",
            lambda: _unsigned({"alg": "none", "kid": "ec384"}, _claims(cid)),
        ),
        "hs256": (
            "algorithm_not_allowed",
            lambda: jwt.encode(
                {"alg": "HS256", "kid": "ec384"},
                _claims(cid),
                OctKey.import_key(orjson.dumps(ec.as_dict(private=False))),
                algorithms=["HS256"],
            ),
        ),
        "other_key_same_kid": ("bad_signature", lambda: sign(keys["impostor"], cid)),
        # The RSA key's kid with an EC algorithm: never verified with a mismatched key type.
        "kid_of_another_type": (
            "unknown_key",
            lambda: jwt.encode(
                {"alg": "ES384", "kid": "rsa"}, _claims(cid), ec, algorithms=["ES384"]
            ),
        ),
        "es512": (
            "algorithm_not_allowed",
            lambda: jwt.encode(
                {"alg": "ES512", "kid": "ec384"},
                _claims(cid),
                ECKey.generate_key("P-521", private=True),
                algorithms=["ES512"],
            ),
        ),
        "unknown_client": ("unknown_client", lambda: sign(ec, "A" * 32)),
        "garbage": ("malformed_assertion", lambda: "not.a.jwt"),
        "tampered_payload": ("bad_signature", lambda: _tamper(sign(ec, cid))),
    }
    reason, make = reasons[case]
    answer = exchange(rt, db, form(make()))
    assert_refused(rt, db, answer, error="invalid_client", reason=reason)
    assert answer.body["error_description"] == GENERIC


def _tamper(assertion: str) -> str:
    header, payload, signature = assertion.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] += 1
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_unknown_client_refusal_is_attributed_to_nobody(
    rt: Runtime, db: Connection, keys: dict[str, Key]
) -> None:
    answer = exchange(rt, db, form(sign(keys["ES384"], "B" * 32)))
    assert answer.body["error"] == "invalid_client"
    event = last_event(rt, db)
    assert (event.actor_id, event.entity) == ("-", "")


def test_disabled_client_is_refused(
    rt: Runtime, db: Connection, registered: RegisteredClient, keys: dict[str, Key]
) -> None:
    assert rt.authz.disable_client(db, client_id=registered.client_id, actor=CARNET)
    answer = exchange(rt, db, form(sign(keys["ES384"], registered.client_id)))
    assert_refused(
        rt, db, answer, error="invalid_client", reason="client_disabled", description="disabled"
    )
