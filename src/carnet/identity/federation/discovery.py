"""A provider's discovery document and signing keys, fetched over HTTPS and cached.

``{issuer}/.well-known/openid-configuration`` names the endpoints; its ``issuer`` must be the
configured one exactly (OpenID Connect Discovery §4.3), or a look-alike could stand in. The
JWKS is fetched again, at most once a minute, when a token names a key it does not hold: that
is how a provider's key rotation reaches Carnet without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from carnet.identity.federation.errors import ProviderUnavailable

_KEY_REFRESH_SECONDS = 60
_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, issuer: str) -> ProviderMetadata:
        """Read a discovery document; raises ProviderUnavailable when it is not the issuer's
        or lacks an endpoint the code flow needs."""
        if document.get("issuer") != issuer:
            raise ProviderUnavailable("discovery (issuer)")
        required = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not all(isinstance(document.get(name), str) for name in required):
            raise ProviderUnavailable("discovery (endpoints)")
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise ProviderUnavailable("discovery (PKCE S256)")

        def optional(name: str) -> str | None:
            value = document.get(name)
            return value if isinstance(value, str) else None

        return cls(
            issuer=issuer,
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            userinfo_endpoint=optional("userinfo_endpoint"),
            end_session_endpoint=optional("end_session_endpoint"),
        )


def get_json(client: httpx2.Client, url: str, step: str) -> Any:
    """GET a JSON document; raises ProviderUnavailable (naming the step) on any failure."""
    try:
        response = client.get(url, headers={"accept": "application/json"})
    except httpx2.HTTPError:
        raise ProviderUnavailable(step) from None
    if response.status_code != 200 or len(response.content) > _MAX_BODY_BYTES:
        raise ProviderUnavailable(step)
    try:
        return response.json()
    except ValueError:
        raise ProviderUnavailable(step) from None


class ProviderDirectory:
    """Discovery documents and key sets of the configured issuers, cached per process."""

    def __init__(self, client: httpx2.Client, *, cache_seconds: int) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._metadata: dict[str, tuple[float, ProviderMetadata]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    def metadata(self, issuer: str) -> ProviderMetadata:
        """The issuer's endpoints (fetched when absent or older than the cache period)."""
        with self._lock:
            cached = self._metadata.get(issuer)
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = get_json(self._client, url, "discovery")
        if not isinstance(document, dict):
            raise ProviderUnavailable("discovery")
        metadata = ProviderMetadata.from_document(document, issuer=issuer)
        with self._lock:
            self._metadata[issuer] = (time.monotonic(), metadata)
        return metadata

    def keys(self, metadata: ProviderMetadata, *, kid: str | None = None) -> KeySet:
        """The issuer's public keys; fetched again when ``kid`` is not among them (rotation),
        at most once a minute."""
        with self._lock:
            cached = self._keys.get(metadata.issuer)
        now = time.monotonic()
        if cached is not None:
            fetched_at, keys = cached
            fresh = now - fetched_at < self._cache_seconds
            known = kid is None or any(key.kid == kid for key in keys)
            if fresh and (known or now - fetched_at < _KEY_REFRESH_SECONDS):
                return keys
        document = get_json(self._client, metadata.jwks_uri, "jwks")
        try:
            keys = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError):
            raise ProviderUnavailable("jwks") from None
        with self._lock:
            self._keys[metadata.issuer] = (now, keys)
        return keys
