"""A started sign-in, sealed into the browser that started it.

The state, nonce and PKCE verifier of a sign-in in progress travel in a short-lived, HttpOnly
cookie, encrypted and authenticated (AES-256-GCM under a key derived for this purpose alone,
the provider's name as associated data): the browser cannot read or forge them, a cookie of
one provider is useless at the other's return, and nothing is stored server-side for a person
who never comes back. The return must present the same state as the cookie: a code delivered
to another browser (login CSRF, a leaked redirect) finds no matching cookie there.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"carnet-federation-v1|"
_NONCE_BYTES = 12
_MAX_COOKIE = 3800  # browsers keep cookies up to about 4 KB


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    provider: str
    state: str
    nonce: str
    code_verifier: str
    started_at: int
    """Seconds since the epoch."""

    def expired(self, now: datetime, *, max_seconds: int) -> bool:
        age = now.timestamp() - self.started_at
        return age > max_seconds or age < -60


class PendingSealer:
    """Seals and opens pending sign-ins with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the pending sign-in key has 256 bits")
        self._aead = AESGCM(key)

    def seal(self, pending: PendingSignIn) -> str:
        """The cookie value of a pending sign-in."""
        payload: list[str | int] = [
            pending.state, pending.nonce, pending.code_verifier, pending.started_at,
        ]  # fmt: skip
        return self.seal_value(payload, purpose=pending.provider)

    def open(self, value: str | None, *, provider: str) -> PendingSignIn | None:
        """The pending sign-in of ``provider`` a cookie holds, or None (absent, forged, another
        provider's, or malformed)."""
        opened = self.open_value(value, purpose=provider)
        if not isinstance(opened, list) or len(opened) != 4:
            return None
        state, nonce, verifier, started_at = opened
        if not all(isinstance(v, str) for v in (state, nonce, verifier)) or not isinstance(
            started_at, int
        ):
            return None
        return PendingSignIn(provider, state, nonce, verifier, started_at)

    def seal_value(self, payload: list[str | int], *, purpose: str) -> str:
        """URL-safe base64 of a random nonce and the AES-GCM ciphertext of ``payload`` (JSON),
        bound to ``purpose``."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, orjson.dumps(payload), _VERSION + purpose.encode())
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def open_value(self, value: str | None, *, purpose: str) -> object:
        """What ``seal_value`` sealed for ``purpose``, or None (absent, forged or malformed)."""
        if not value or len(value) > _MAX_COOKIE:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            payload = self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _VERSION + purpose.encode()
            )
            return orjson.loads(payload)
        except (InvalidTag, ValueError, binascii.Error):
            return None
