"""Access tokens: short-lived JWTs signed with ES256 (RFC 9068 ``at+jwt``).

Verification runs on every FHIR request, so it is cached: a bounded LRU keyed by the token
string holds the claims of tokens that verified, and a cached entry is never used at or past
the token's ``exp``. Failures are never cached (garbage must not evict good entries).

Refusals carry one generic message whatever failed; the reason goes to the debug log, without
the token.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from carnet.authz.errors import InvalidAccessToken
from carnet.authz.schemas import TokenClaims
from carnet.authz.signing import SIGNING_ALGORITHM, SigningKeys
from carnet.core.clock import Clock

log = logging.getLogger(__name__)

TOKEN_TYPE = "at+jwt"  # noqa: S105  (the RFC 9068 media type)
CLOCK_SKEW_SECONDS = 30
"""Tolerated skew between the machines that issue and verify (``nbf``/``iat`` only: ``exp`` is
a hard deadline, and erring on the short side is the safe direction)."""
CACHE_SIZE = 10_000
MAX_TOKEN_LENGTH = 4096
SYSTEM_ACTOR = "system"
_STRING_CLAIMS = ("sub", "client_id", "client_name", "scope", "actor_kind", "jti")


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    token_id: str
    expires_in: int
    expires_at: datetime


class _TokenRefused(Exception):
    """Internal: a check failed; the caller only ever sees InvalidAccessToken."""


class AccessTokens:
    """Issues and verifies access tokens. Thread-safe; one per process."""

    def __init__(
        self,
        keys: SigningKeys,
        *,
        issuer: str,
        audience: str,
        lifetime_seconds: int,
        clock: Clock,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime_seconds
        self._clock = clock
        self._cache = _ClaimsCache(cache_size)

    def issue(self, *, client_id: str, client_name: str, scopes: str) -> IssuedToken:
        """Sign a token for a system client, valid ``lifetime_seconds`` from now."""
        now = int(self._clock.now().timestamp())
        token_id = secrets.token_urlsafe(16)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": client_id,
            "client_id": client_id,
            "client_name": client_name,
            "scope": scopes,
            "actor_kind": SYSTEM_ACTOR,
            "iat": now,
            "nbf": now,
            "exp": now + self._lifetime,
            "jti": token_id,
        }
        header = {"alg": SIGNING_ALGORITHM, "kid": self._keys.signing_kid, "typ": TOKEN_TYPE}
        token = jwt.encode(header, claims, self._keys.signing_key, algorithms=[SIGNING_ALGORITHM])
        return IssuedToken(
            access_token=token,
            token_id=token_id,
            expires_in=self._lifetime,
            expires_at=datetime.fromtimestamp(now + self._lifetime, UTC),
        )

    def verify(self, token: str) -> TokenClaims:
        """The token's claims; InvalidAccessToken (generic message) if anything is wrong."""
        now = self._clock.now()
        cached = self._cache.get(token, now)
        if cached is not None:
            return cached
        try:
            claims = self._verify(token, now)
        except _TokenRefused as exc:
            log.debug("access token refused (%s)", exc)
            raise InvalidAccessToken from None
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            # The exception's class only: messages of lower layers might quote the input.
            log.debug("access token refused (%s)", type(exc).__name__)
            raise InvalidAccessToken from None
        self._cache.put(token, claims)
        return claims

    def _verify(self, token: str, now: datetime) -> TokenClaims:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise _TokenRefused("malformed")
        decoded = jwt.decode(token, self._key_for, algorithms=[SIGNING_ALGORITHM])
        if decoded.header.get("typ") != TOKEN_TYPE:
            raise _TokenRefused("type")
        claims = decoded.claims
        timestamp = int(now.timestamp())
        registry = jwt.JWTClaimsRegistry(
            now=timestamp,
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            nbf={"essential": True},
            iat={"essential": True},
        )
        registry.validate(claims)
        if claims["exp"] <= now.timestamp():
            raise _TokenRefused("expired")
        if not all(isinstance(claims.get(name), str) for name in _STRING_CLAIMS):
            raise _TokenRefused("claims")
        if claims["sub"] != claims["client_id"] or claims["actor_kind"] != SYSTEM_ACTOR:
            raise _TokenRefused("claims")
        return TokenClaims(
            client_id=claims["client_id"],
            client_name=claims["client_name"],
            actor_kind=claims["actor_kind"],
            scopes=claims["scope"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            token_id=claims["jti"],
        )

    def _key_for(self, obj: Any) -> ECKey:
        # Only the kids of Carnet's own key set: a token cannot bring or point to another key.
        kid = obj.headers().get("kid")
        key = self._keys.verify_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise _TokenRefused("kid")
        return key


class _ClaimsCache:
    """A bounded LRU of verified tokens' claims; entries die at the token's ``exp``."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, TokenClaims] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now: datetime) -> TokenClaims | None:
        with self._lock:
            claims = self._entries.get(token)
            if claims is None:
                return None
            if now >= claims.expires_at:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return claims

    def put(self, token: str, claims: TokenClaims) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._entries[token] = claims
            self._entries.move_to_end(token)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
