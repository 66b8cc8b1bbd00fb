"""AES-256-GCM envelopes.

A sealed value is ``format byte | 12-byte nonce | ciphertext and tag``. The format byte says how
the plaintext was encoded before encryption (raw, or deflated: FHIR JSON shrinks to about a third,
and ciphertext cannot be compressed afterwards by the database). It is part of the associated
data, with the caller's context (a resource's type, id and version; a blob's id), so a sealed
value moved to another row, or relabelled, fails to open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from carnet.storage.errors import KeyringError

FORMAT_RAW = 1
FORMAT_DEFLATE = 2
NONCE_BYTES = 12
_COMPRESS_ABOVE = 128  # bytes: below this, deflate headers cost more than they save


class SealError(ValueError):
    """A sealed value failed authentication: wrong key, wrong context, or tampering."""


def seal(aead: AESGCM, plaintext: bytes, context: bytes, *, compress: bool = True) -> bytes:
    """Encrypt ``plaintext`` bound to ``context`` (compressing it first when worthwhile).

    ``compress=False`` skips the attempt, for content known not to shrink (already encrypted).
    """
    fmt = FORMAT_RAW
    payload = plaintext
    if compress and len(plaintext) > _COMPRESS_ABOVE:
        deflated = zlib.compress(plaintext, 6)
        if len(deflated) < len(plaintext):
            fmt, payload = FORMAT_DEFLATE, deflated
    header = bytes((fmt,))
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + aead.encrypt(nonce, payload, header + context)


def open_sealed(aead: AESGCM, sealed: bytes, context: bytes) -> bytes:
    """Decrypt and decode a value made by ``seal`` with the same key and context."""
    if len(sealed) < 1 + NONCE_BYTES + 16:
        raise SealError("sealed value too short")
    header, nonce, body = sealed[:1], sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        payload = aead.decrypt(nonce, body, header + context)
    except InvalidTag as exc:
        raise SealError("sealed value failed authentication") from exc
    if header[0] == FORMAT_DEFLATE:
        return zlib.decompress(payload)
    if header[0] == FORMAT_RAW:
        return payload
    raise SealError("unknown sealed format")


def wrap_key(kek: bytes, data_key: bytes, context: bytes) -> bytes:
    """Wrap a data key under a KEK; ``context`` binds it to its owner and KEK id."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, b"carnet/data-key|" + context)


def unwrap_key(kek: bytes, wrapped: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(kek).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"carnet/data-key|" + context
        )
    except InvalidTag as exc:
        raise KeyringError("a data key failed to unwrap: wrong keyring for this database") from exc


def keyed_hash(key: bytes, domain: str, value: str) -> str:
    """A blind-index token: HMAC-SHA256 over a domain-separated value, 128 bits, hex."""
    mac = hmac.new(key, domain.encode() + b"\x00" + value.encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
