"""Access tokens: verification, expiry (a frozen clock), forgeries, and the verify cache."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import Connection

from carnet.authz.config import AuthzSettings
from carnet.authz.schemas import TokenRequest
from carnet.authz.service import Authz
from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.core.errors import Unauthenticated
from carnet.runtime import Runtime

ISSUER = "https://carnet.example.fr"
FHIR = "https://carnet.example.fr/fhir"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "token-signing.json"


@pytest.fixture
def authz(rt: Runtime, clock: FrozenClock, key_file: Path) -> Authz:
    return make_authz(rt, clock, key_file)


def make_authz(rt: Runtime, clock: FrozenClock, key_file: Path, *, fhir: str = FHIR) -> Authz:
    return Authz.from_settings(
        AuthzSettings(access_token_seconds=300),
        issuer=ISSUER,
        fhir_base_url=fhir,
        signing_key_file=key_file,
        create_keys=True,
        client_secrets_allowed=True,
        production=False,
        clock=clock,
        audit=rt.audit,
    )


def issue(authz: Authz, db: Connection, scopes: str = "system/*.rs") -> tuple[str, str]:
    """A token obtained through the token endpoint (client_secret_basic, dev)."""
    client = authz.register_system_client(db, name="Client", scopes=scopes, jwks=None, actor=CARNET)
    credentials = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode())
    answer = authz.issue_token(
        db,
        TokenRequest(
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials",
            f"Basic {credentials.decode()}",
        ),
    )
    assert answer.status == 200, answer.body
    return client.client_id, answer.body["access_token"]


def signing_key(key_file: Path) -> ECKey:
    doc = orjson.loads(key_file.read_bytes())
    return ECKey.import_key(doc["keys"][0])


def forge(
    key_file: Path, *, key: ECKey | None = None, header: dict[str, Any] | None = None, **claims: Any
) -> str:
    """A token signed with Carnet's own key (or ``key``), with chosen claims and header."""
    real = signing_key(key_file)
    now = int(START.timestamp())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": FHIR,
        "sub": "c" * 32,
        "client_id": "c" * 32,
        "client_name": "Forger",
        "scope": "system/*.cruds",
        "actor_kind": "system",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j",
    }
    values.update(claims)
    values = {k: v for k, v in values.items() if v is not None}
    head = {
        "alg": "ES256",
        "kid": real.kid or orjson.loads(key_file.read_bytes())["keys"][0]["kid"],
        "typ": "at+jwt",
        **(header or {}),
    }
    return jwt.encode(head, values, key or real, algorithms=[head["alg"]])


def test_a_valid_token(authz: Authz, db: Connection) -> None:
    client_id, token = issue(authz, db, "system/Observation.rs system/Patient.r")
    claims = authz.verify_access_token(token)
    assert claims.client_id == client_id
    assert claims.client_name == "Client"
    assert claims.actor_kind == "system"
    assert claims.scopes == "system/Observation.rs system/Patient.r"
    assert claims.expires_at == START + timedelta(seconds=300)
    header = jwt.decode(token, signing_key_public(authz)).header
    assert header["alg"] == "ES256"
    assert header["typ"] == "at+jwt"


def signing_key_public(authz: Authz) -> ECKey:
    return ECKey.import_key(authz.public_jwks()["keys"][0])


def test_token_claims(authz: Authz, db: Connection) -> None:
    client_id, token = issue(authz, db)
    claims = jwt.decode(token, signing_key_public(authz)).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == FHIR
    assert claims["sub"] == client_id
    assert claims["client_id"] == client_id
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] == claims["iat"] == int(START.timestamp())
    assert claims["jti"]


def test_expired_token_is_refused_even_when_cached(
    authz: Authz, db: Connection, clock: FrozenClock
) -> None:
    _, token = issue(authz, db)
    authz.verify_access_token(token)  # now cached
    clock.advance(timedelta(seconds=299))
    authz.verify_access_token(token)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated):
        authz.verify_access_token(token)


def test_expired_token_is_refused_uncached(
    rt: Runtime, authz: Authz, db: Connection, clock: FrozenClock, key_file: Path
) -> None:
    _, token = issue(authz, db)
    clock.advance(timedelta(seconds=301))
    fresh = make_authz(rt, clock, key_file)  # another process: nothing cached
    with pytest.raises(Unauthenticated):
        fresh.verify_access_token(token)


def test_the_cache_returns_the_verified_claims(authz: Authz, db: Connection) -> None:
    _, token = issue(authz, db)
    assert authz.verify_access_token(token) is authz.verify_access_token(token)


def test_another_audience_is_refused(
    rt: Runtime, authz: Authz, db: Connection, clock: FrozenClock, key_file: Path
) -> None:
    _, token = issue(authz, db)
    elsewhere = make_authz(rt, clock, key_file, fhir="https://other.example.fr/fhir")
    with pytest.raises(Unauthenticated):
        elsewhere.verify_access_token(token)


def _bad_tokens() -> dict[str, Callable[[Path], str]]:
    other = ECKey.generate_key("P-256", private=True)
    now = int(START.timestamp())
    return {
        "another key, same kid": lambda f: forge(f, key=other),
        "unknown kid": lambda f: forge(f, key=other, header={"kid": "other"}),
        "no kid": lambda f: _drop_kid(forge(f)),
        "other audience": lambda f: forge(f, aud="https://elsewhere.example/fhir"),
        "audience list without us": lambda f: forge(f, aud=["https://x.example/fhir"]),
        "other issuer": lambda f: forge(f, iss="https://evil.example"),
        "expired": lambda f: forge(f, exp=now - 1),
        "expires now": lambda f: forge(f, exp=now),
        "not yet valid": lambda f: forge(f, nbf=now + 3600),
        "issued in the future": lambda f: forge(f, iat=now + 3600),
        "no exp": lambda f: forge(f, exp=None),
        "no nbf": lambda f: forge(f, nbf=None),
        "no client_id": lambda f: forge(f, client_id=None),
        "no scope": lambda f: forge(f, scope=None),
        "no jti": lambda f: forge(f, jti=None),
        "sub differs": lambda f: forge(f, sub="d" * 32),
        "not a system token": lambda f: forge(f, actor_kind="patient"),
        "scope not a string": lambda f: forge(f, scope=["system/*.cruds"]),
        "id token type": lambda f: forge(f, header={"typ": "JWT"}),
        "alg none": lambda f: _alg_none(forge(f)),
        "alg HS256": lambda f: _hs256(forge(f), f),
        "tampered payload": lambda f: _tamper(forge(f)),
        "empty": lambda f: "",
        "garbage": lambda f: "not-a-token",
        "three dots": lambda f: "a.b.c",
        "too long": lambda f: forge(f, client_name="x" * 5000),
    }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return (
        orjson.loads(base64.urlsafe_b64decode(header + "==")),
        orjson.loads(base64.urlsafe_b64decode(payload + "==")),
        signature,
    )


def _drop_kid(token: str) -> str:
    header, payload, signature = _parts(token)
    del header["kid"]
    return f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(payload))}.{signature}"


def _alg_none(token: str) -> str:
    header, payload, _ = _parts(token)
    header["alg"] = "none"
    return f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(payload))}."


def _hs256(token: str, key_file: Path) -> str:
    # The classic confusion: an HMAC "signed" with the public key as the secret.
    from joserfc.jwk import OctKey

    header, payload, _ = _parts(token)
    secret = OctKey.import_key(orjson.dumps(orjson.loads(key_file.read_bytes())["keys"][0]))
    return jwt.encode({**header, "alg": "HS256"}, payload, secret, algorithms=["HS256"])


def _tamper(token: str) -> str:
    header, payload, signature = _parts(token)
    payload["scope"] = "system/*.cruds system/Patient.cruds"
    return f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(payload))}.{signature}"


BAD_TOKENS = _bad_tokens()


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_refused_with_one_generic_message(
    authz: Authz, key_file: Path, case: str
) -> None:
    token = BAD_TOKENS[case](key_file)
    with pytest.raises(Unauthenticated) as refused:
        authz.verify_access_token(token)
    assert str(refused.value) == "The access token is invalid or has expired."


def test_a_forged_token_with_good_claims_verifies_only_with_our_key(
    authz: Authz, key_file: Path
) -> None:
    # The forge helper is sound: with Carnet's real key, the same claims verify.
    assert authz.verify_access_token(forge(key_file)).client_name == "Forger"


def test_refusals_do_not_log_the_token(
    authz: Authz, key_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = forge(key_file, aud="https://elsewhere.example/fhir")
    with caplog.at_level("DEBUG", logger="carnet.authz"), pytest.raises(Unauthenticated):
        authz.verify_access_token(token)
    assert caplog.records
    assert all(token not in record.getMessage() for record in caplog.records)
    assert all(token.split(".")[1] not in record.getMessage() for record in caplog.records)


def test_an_assertion_id_may_be_reused_once_its_assertion_expired(
    authz: Authz, db: Connection, clock: FrozenClock
) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "k"}, private=True)
    client = authz.register_system_client(
        db,
        name="Reuser",
        scopes="system/*.rs",
        jwks={"keys": [key.as_dict(private=False)]},
        actor=CARNET,
    )
    jti = str(uuid.uuid4())

    def attempt() -> int:
        now = int(clock.now().timestamp())
        claims = {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": authz.token_endpoint,
            "exp": now + 60,
            "jti": jti,
        }
        assertion = jwt.encode({"alg": "ES256", "kid": "k"}, claims, key, algorithms=["ES256"])
        body = urlencode(
            {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            }
        ).encode()
        answer = authz.issue_token(db, TokenRequest("application/x-www-form-urlencoded", body))
        return answer.status

    assert attempt() == 200
    clock.advance(timedelta(seconds=60))
    assert attempt() == 400  # still within exp + the allowed clock skew
    clock.advance(timedelta(seconds=31))
    assert attempt() == 200


def test_verify_throughput_is_reasonable(authz: Authz, db: Connection) -> None:
    # Not a benchmark (see the report's figures): guards against losing the cache.
    _, token = issue(authz, db)
    authz.verify_access_token(token)
    started = time.perf_counter()
    for _ in range(2000):
        authz.verify_access_token(token)
    assert time.perf_counter() - started < 1.0
