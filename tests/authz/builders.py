"""Builders shared by the authorization server's tests: signed assertions, token requests,
checks of refusals, and an Authz configured as in production."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import Connection

from carnet.audit.schemas import SYSTEM_CHAIN, AuditEntry
from carnet.authz.config import AuthzSettings
from carnet.authz.schemas import TokenRequest, TokenResponse
from carnet.authz.service import Authz
from carnet.authz.signing import new_signing_key
from carnet.core.clock import SystemClock
from carnet.runtime import Runtime

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"
GENERIC = "Client authentication failed."

Key = RSAKey | ECKey


def sign(
    key: Key,
    client_id: str,
    *,
    alg: str = "ES384",
    aud: str = "http://testserver/oauth2/token",
    exp_in: int = 120,
    **overrides: Any,
) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": now + exp_in,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def form(assertion: str | None = None, **fields: str) -> bytes:
    values = {"grant_type": "client_credentials", **fields}
    if assertion is not None:
        values["client_assertion_type"] = ASSERTION_TYPE
        values["client_assertion"] = assertion
    return urlencode(values).encode()


def exchange(
    rt: Runtime,
    db: Connection,
    body: bytes,
    *,
    content_type: str = FORM,
    authorization: str | None = None,
) -> TokenResponse:
    return rt.authz.issue_token(db, TokenRequest(content_type, body, authorization))


def last_event(rt: Runtime, db: Connection) -> AuditEntry:
    return rt.audit.chain_events(db, chain_id=SYSTEM_CHAIN, limit=1)[0]


def assert_refused(
    rt: Runtime,
    db: Connection,
    answer: TokenResponse,
    *,
    error: str,
    reason: str,
    description: str | None = None,
    status: int = 400,
) -> None:
    assert answer.status == status, answer.body
    assert answer.body["error"] == error
    if description is not None:
        assert description in answer.body["error_description"]
    assert answer.headers["Cache-Control"] == "no-store"
    event = last_event(rt, db)
    assert event.tag == "authz:token:refuse"
    assert event.detail == {"error": error, "reason": reason}


def public_jwks(*keys: RSAKey | ECKey) -> dict[str, object]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def production_authz(tmp_path: Path, rt: Runtime, *, generated: bool = False) -> Authz:
    """An Authz configured as in production, with a provisioned (not generated) key file."""
    key_file = tmp_path / "token-signing.json"
    key_file.write_bytes(orjson.dumps({"generated": generated, "keys": [new_signing_key()]}))
    key_file.chmod(0o600)
    return Authz.from_settings(
        AuthzSettings(),
        issuer="https://carnet.example.fr",
        fhir_base_url="https://carnet.example.fr/fhir",
        signing_key_file=key_file,
        create_keys=False,
        client_secrets_allowed=False,
        production=True,
        clock=SystemClock(),
        audit=rt.audit,
    )
