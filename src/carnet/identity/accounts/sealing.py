"""The keys of accounts: sealing contacts and TOTP secrets, and hashing tokens and codes.

Every key is derived from the storage keyring, so a deployment provisions nothing new.
Random tokens of 256 bits (sessions, devices) are stored as plain SHA-256: nothing can be
guessed from them. Short secrets (six-digit codes, recovery codes, logins) are stored as keyed
HMACs, since a plain hash of a small space is reversed by trying every value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


def token_hash(token: str) -> str:
    """The stored form of a random token (sessions, trusted devices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh random token of 256 bits, URL- and cookie-safe."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


class Sealer:
    """Seals small values (contacts, TOTP secrets) and MACs short secrets (codes).

    The sealing key is derived from the keyring's index key, which is never rotated (blind
    indexes depend on it): what it seals can be replaced by the person (a new TOTP enrolment,
    a new contact), so a compromised key is recovered from by re-enrolling, not by rotation.
    """

    def __init__(self, *, seal_key: bytes, mac_key: bytes) -> None:
        self._aead = AESGCM(seal_key)
        self._mac_key = mac_key

    def seal(self, value: str, *, context: str) -> bytes:
        """AES-256-GCM; ``context`` (the account id and field) is bound as associated data."""
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, value.encode(), context.encode())

    def open(self, sealed: bytes, *, context: str) -> str:
        return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode()).decode()

    def mac(self, purpose: str, value: str) -> str:
        """A keyed hash of a short secret for one purpose (codes, logins)."""
        message = f"{purpose}|{value}".encode()
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()
