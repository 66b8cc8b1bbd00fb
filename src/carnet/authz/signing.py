"""The key file that signs access tokens.

Format (JSON, mode 0600)::

    {"generated": true, "keys": [{"kty": "EC", "crv": "P-256", "x": …, "y": …, "d": …,
                                  "kid": "<RFC 7638 thumbprint>", "alg": "ES256", "use": "sig"}]}

The first key signs; every key verifies, so a rotation puts a new key first and removes the old
one once the tokens it signed have expired (minutes). ``generated`` marks a key made by Carnet on
a developer's machine: production refuses it, and refuses to start without a key file at all,
rather than silently minting a key that the other processes would not know.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from carnet.authz.errors import SigningKeyError

SIGNING_ALGORITHM = "ES256"
SIGNING_CURVE = "P-256"


@dataclass(frozen=True)
class SigningKeys:
    signing_key: ECKey
    signing_kid: str
    verify_keys: dict[str, ECKey]
    """Public keys by kid: the only keys an access token may name."""
    public_jwks: dict[str, list[dict[str, str]]]
    generated: bool


def load_signing_keys(path: Path, *, create: bool, production: bool) -> SigningKeys:
    """Load the key file, generating a development one first when ``create`` allows it."""
    if not path.exists():
        if production:
            raise SigningKeyError(
                f"refusing to start in prod: there is no token signing key file at {path}; "
                "provision one (an ES256 private JWK set, mode 0600)"
            )
        if not create:
            raise SigningKeyError(f"there is no token signing key file at {path}")
        _generate(path)
    keys = _read(path)
    if production and keys.generated:
        raise SigningKeyError(
            "refusing to start in prod: the token signing key was generated for development; "
            "provision a production key"
        )
    return keys


def _read(path: Path) -> SigningKeys:
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the token signing key file {path}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"{path} is readable by others; run chmod 600 on it")
    try:
        return parse_signing_keys(raw)
    except SigningKeyError as exc:
        raise SigningKeyError(f"{path}: {exc}") from None


def parse_signing_keys(raw: bytes) -> SigningKeys:
    """Parse a private JWK set of P-256 keys, each with a distinct ``kid``."""
    try:
        doc = orjson.loads(raw)
        members: list[Any] = doc["keys"]
        if not isinstance(members, list) or not members:
            raise SigningKeyError("the key set holds no key")
        keys = [_private_key(member) for member in members]
    except (KeyError, TypeError, ValueError, JoseError, orjson.JSONDecodeError) as exc:
        raise SigningKeyError("not a valid token signing key set (ES256 private JWKs)") from exc
    kids = [kid for kid, _ in keys]
    if len(set(kids)) != len(kids):
        raise SigningKeyError("two signing keys share a kid")
    verify_keys = {kid: ECKey.import_key(key.as_dict(private=False)) for kid, key in keys}
    public = [_public_jwk(kid, key) for kid, key in keys]
    return SigningKeys(
        signing_key=keys[0][1],
        signing_kid=keys[0][0],
        verify_keys=verify_keys,
        public_jwks={"keys": public},
        generated=bool(doc.get("generated")),
    )


def _private_key(member: dict[str, Any]) -> tuple[str, ECKey]:
    kid = member["kid"]
    if not isinstance(kid, str) or not kid:
        raise SigningKeyError("every signing key needs a kid")
    if member.get("kty") != "EC" or member.get("crv") != SIGNING_CURVE or "d" not in member:
        raise SigningKeyError("signing keys must be P-256 private keys (ES256)")
    if member.get("alg", SIGNING_ALGORITHM) != SIGNING_ALGORITHM:
        raise SigningKeyError("signing keys must be for ES256")
    key = ECKey.import_key(member)
    if not key.is_private:
        raise SigningKeyError("signing keys must be private keys")
    return kid, key


def _public_jwk(kid: str, key: ECKey) -> dict[str, str]:
    members = key.as_dict(private=False)
    return {
        "kty": "EC",
        "crv": str(members["crv"]),
        "x": str(members["x"]),
        "y": str(members["y"]),
        "kid": kid,
        "alg": SIGNING_ALGORITHM,
        "use": "sig",
    }


def new_signing_key() -> dict[str, str]:
    """A fresh P-256 private JWK whose kid is its RFC 7638 thumbprint."""
    key = ECKey.generate_key(SIGNING_CURVE, private=True)
    members = key.as_dict(private=True)
    return {
        **_public_jwk(key.thumbprint(), key),
        "d": str(members["d"]),
    }


def _generate(path: Path) -> None:
    content = orjson.dumps(
        {"generated": True, "keys": [new_signing_key()]}, option=orjson.OPT_INDENT_2
    )
    create_secret_file(path, content)


def create_secret_file(path: Path, content: bytes) -> bool:
    """Create ``path`` with ``content``, mode 0600, unless it exists; True if this call made it.

    The content is written and synced under a temporary name, then hard-linked into place:
    linking fails if the file appeared meanwhile, so two processes starting together never
    overwrite each other's key (each would otherwise sign with a key the other does not know).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _sync_directory(path.parent)
    return True


def _sync_directory(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
