"""Client authentication at the token endpoint: ``private_key_jwt`` and ``client_secret_basic``.

``private_key_jwt`` follows SMART Backend Services (RFC 7523 client assertions), built on
Authlib's ``JWTBearerClientAssertion``. The checks run in this order, for these reasons:

1. The assertion's header names an allowed algorithm (RS384, ES384, RS256, ES256: never
   ``none`` nor HMAC) and a ``kid``; its unverified ``sub`` has the shape of a client id.
2. The client named by ``sub`` is loaded, and the key named by ``kid`` is taken from the JWKS it
   registered; the key's type and curve must fit the algorithm.
3. The signature is verified.
   Until here every failure gets the same message: the caller has proven nothing, so it learns
   nothing (not whether the client exists, nor which keys it registered). The audit trail keeps
   the precise reason.
4. Now the caller holds one of the client's keys, and precise messages help integrators: a
   disabled client, ``iss``/``sub``/``aud``/``exp`` problems, and an assertion living longer
   than allowed are each named.
5. The ``jti`` is recorded until the assertion can no longer be accepted; a second use of it is
   refused (replay), including between processes (the database's primary key decides).
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import Key
from sqlalchemy import Connection, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from carnet.authz import keysets, models
from carnet.authz.clients import PRIVATE_KEY_JWT, StoredClient, looks_like_client_id
from carnet.authz.tokens import CLOCK_SKEW_SECONDS
from carnet.core.clock import Clock

GENERIC_FAILURE = "Client authentication failed."
MAX_ASSERTION_LENGTH = 8192
MAX_JTI_LENGTH = 255
PURGE_INTERVAL_SECONDS = 60.0


class ClientRefused(InvalidClientError):  # type: ignore[misc]  # Authlib is untyped
    """``invalid_client``, with the precise reason kept for the audit trail."""

    def __init__(self, reason: str, description: str = GENERIC_FAILURE) -> None:
        super().__init__(description=description)
        self.reason = reason


class AssertionLedger:
    """The used assertion ids (``authz_used_assertion``). One per process."""

    def __init__(self) -> None:
        self._next_purge = 0.0

    def record(
        self, db: Connection, *, client_id: str, jti: str, expires_at: datetime, now: datetime
    ) -> bool:
        """Record a first use of ``jti``; False if it is in use already (a replay).

        A row whose assertion has expired may be taken over: a client may reuse an id once the
        assertion that carried it can no longer be accepted. Concurrent uses of one id insert
        the same primary key, so exactly one of them wins.
        """
        self._purge_now_and_then(db, now)
        table = models.used_assertion
        insert = postgresql_insert if db.dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(table)
            .values(client_id=client_id, jti=jti, expires_at=expires_at)
            .on_conflict_do_update(
                index_elements=[table.c.client_id, table.c.jti],
                set_={"expires_at": expires_at},
                where=table.c.expires_at <= now,
            )
            # RETURNING, not rowcount: psycopg reports -1 rows for this statement.
            .returning(table.c.jti)
        )
        return db.execute(stmt).first() is not None

    def _purge_now_and_then(self, db: Connection, now: datetime) -> None:
        # At most once a minute per process: a cheap indexed delete, kept off most requests.
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
        db.execute(delete(models.used_assertion).where(models.used_assertion.c.expires_at <= now))


@dataclass(frozen=True)
class AssertionPolicy:
    token_endpoint: str
    issuer: str
    """Also accepted as the assertion's ``aud``: SMART Backend Services names the token
    endpoint, the updated JWT client-authentication rules name the issuer (a value that cannot
    be confused with another server's endpoint); a client may send either."""
    max_lifetime_seconds: int
    clock: Clock
    ledger: AssertionLedger


class _KeyResolver:
    """Given to joserfc as the key: picks the client's registered key from the header."""

    def __init__(self, client: StoredClient) -> None:
        self.client = client

    def __call__(self, obj: Any) -> Key:
        headers = obj.headers()
        if self.client.jwks is None:
            raise ClientRefused("no_registered_keys")
        key = keysets.assertion_key(self.client.jwks, kid=headers["kid"], alg=headers["alg"])
        if key is None:
            raise ClientRefused("unknown_key")
        return key


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]  # Authlib is untyped
    """``private_key_jwt`` per SMART Backend Services; one instance per token request."""

    CLIENT_AUTH_METHOD = PRIVATE_KEY_JWT

    def __init__(self, policy: AssertionPolicy, db: Connection) -> None:
        super().__init__(validate_jti=True, leeway=CLOCK_SKEW_SECONDS)
        self._policy = policy
        self._db = db

    def __call__(self, query_client: Any, request: Any) -> StoredClient | None:
        try:
            return super().__call__(query_client, request)  # type: ignore[no-any-return]
        except ClientRefused:
            raise
        except InvalidClientError as error:
            # What Authlib itself still refuses here: no client has the assertion's sub as id.
            raise ClientRefused("unknown_client") from error

    def get_audiences(self) -> list[str]:
        return [self._policy.token_endpoint, self._policy.issuer]

    def extract_assertion(self, assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if len(assertion) > MAX_ASSERTION_LENGTH:
            raise ClientRefused("malformed_assertion")
        try:
            headers, claims = super().extract_assertion(assertion)
        except InvalidClientError as error:
            raise ClientRefused("malformed_assertion") from error
        if headers.get("alg") not in keysets.ASSERTION_ALGORITHMS:
            raise ClientRefused("algorithm_not_allowed")
        if not isinstance(headers.get("kid"), str):
            raise ClientRefused("missing_kid")
        if not looks_like_client_id(claims.get("sub")):
            raise ClientRefused("unknown_client")
        return headers, claims

    def resolve_client_public_key(self, client: StoredClient) -> _KeyResolver:
        return _KeyResolver(client)

    def process_assertion_claims(self, assertion: str, resolve_key: _KeyResolver) -> Any:
        """Verify the signature, then (the caller now proven) the client's state and claims."""
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=keysets.ASSERTION_ALGORITHMS)
        except JoseError as error:
            raise ClientRefused("bad_signature") from error
        client = resolve_key.client
        if client.disabled:
            raise ClientRefused("client_disabled", "The client is disabled.")
        self._check_claims(token.claims, client.client_id)
        self._use_jti(token.claims, client.client_id)
        return token.claims

    def authenticate_client(self, client: StoredClient) -> StoredClient:
        if client.check_endpoint_auth_method(self.CLIENT_AUTH_METHOD, "token"):
            return client
        raise ClientRefused("wrong_auth_method")

    def _check_claims(self, claims: dict[str, Any], client_id: str) -> None:
        now = self._policy.clock.now().timestamp()
        registry = jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=self.leeway,
            iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as error:
            raise ClientRefused("assertion_expired", "The client assertion has expired.") from error
        except MissingClaimError as error:
            raise ClientRefused(
                "missing_claim", "The client assertion needs iss, sub, aud, exp and jti claims."
            ) from error
        except JoseError as error:
            raise _claim_refusal(getattr(error, "claim", ""), self.get_audiences()[0]) from error
        maximum = self._policy.max_lifetime_seconds
        if claims["exp"] > now + maximum + self.leeway:
            raise ClientRefused(
                "assertion_lifetime",
                f"The client assertion must expire at most {maximum} seconds after it is made.",
            )
        if len(claims["jti"]) > MAX_JTI_LENGTH:
            raise ClientRefused("invalid_claim", f"The jti claim is limited to {MAX_JTI_LENGTH}.")

    def _use_jti(self, claims: dict[str, Any], client_id: str) -> None:
        now = self._policy.clock.now()
        # Kept for as long as the assertion could still be accepted (exp plus the skew allowed).
        expires_at = datetime.fromtimestamp(claims["exp"], UTC) + timedelta(seconds=self.leeway)
        if not self._policy.ledger.record(
            self._db, client_id=client_id, jti=claims["jti"], expires_at=expires_at, now=now
        ):
            raise ClientRefused(
                "replayed_jti",
                "This client assertion was used already: sign a new one, with a new jti, "
                "for every token request.",
            )


def _claim_refusal(claim: str, token_endpoint: str) -> ClientRefused:
    if claim in ("iss", "sub"):
        return ClientRefused(
            "wrong_issuer", "The client assertion's iss and sub must both be the client id."
        )
    if claim == "aud":
        return ClientRefused(
            "wrong_audience",
            f"The client assertion's aud must be the token endpoint {token_endpoint} "
            "or the server's issuer.",
        )
    return ClientRefused(
        "invalid_claim", f"The client assertion's {claim or 'claims'} claim is invalid."
    )


def authenticate_client_secret_basic(query_client: Any, request: Any) -> StoredClient | None:
    """``client_secret_basic`` (development and test only: the server never offers it in prod)."""
    header = request.headers.get("Authorization")
    if not header or header.split(" ", 1)[0].lower() != "basic":
        return None
    credentials = _basic_credentials(header)
    if credentials is None:
        raise ClientRefused("malformed_credentials")
    client_id, secret = credentials
    client: StoredClient | None = query_client(client_id)
    if client is None:
        raise ClientRefused("unknown_client")
    request.client = client  # the refusal below is then attributed to the client in the audit
    if not client.check_client_secret(secret):
        raise ClientRefused("bad_secret")
    if client.disabled:
        raise ClientRefused("client_disabled", "The client is disabled.")
    return client


def _basic_credentials(header: str) -> tuple[str, str] | None:
    # RFC 6749 §2.3.1: id and secret are form-encoded, then joined by a colon and base64-encoded.
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1].strip(), validate=True).decode()
    except (IndexError, binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id or not secret:
        return None
    return unquote_plus(client_id), unquote_plus(secret)
