"""Registered clients: the ``authz_client`` table, secrets, and the scopes a client may hold.

Client ids are 192 random bits, URL-safe: unguessable, and safe in Basic credentials without
escaping. Client secrets (development only) are 256 random bits; only their SHA-256 is stored,
which is enough for a random secret of that size (no dictionary to try, nothing to stretch), and
checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Connection, insert, select, update

from carnet.access import service as access_service
from carnet.authz import models
from carnet.authz.errors import InvalidClientRegistration
from carnet.authz.schemas import ClientInfo

PRIVATE_KEY_JWT = "private_key_jwt"
CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105  (a method name)
CLIENT_CREDENTIALS = "client_credentials"
SYSTEM_KIND = "system"

MAX_NAME_LENGTH = 200
MAX_SCOPES = 50
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SECRET_PREFIX = "sha256:"  # noqa: S105  (a hash label)


@dataclass(frozen=True)
class StoredClient:
    """A client as the token endpoint sees it; also the client model Authlib's grants expect."""

    client_id: str
    name: str
    scopes: str
    auth_method: str
    jwks: str | None
    secret_hash: str | None
    disabled: bool

    def get_client_id(self) -> str:
        return self.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """A client authenticates with the one method it registered, at the token endpoint."""
        return endpoint == "token" and method == self.auth_method

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == CLIENT_CREDENTIALS

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time comparison of the presented secret's hash with the stored one."""
        if self.secret_hash is None or self.auth_method != CLIENT_SECRET_BASIC:
            return False
        return hmac.compare_digest(hash_secret(client_secret), self.secret_hash)


def new_client_id() -> str:
    return secrets.token_urlsafe(24)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
    return _SECRET_PREFIX + digest


def looks_like_client_id(value: object) -> bool:
    """Whether ``value`` has the shape of a client id (anything else is not looked up)."""
    return isinstance(value, str) and _CLIENT_ID.match(value) is not None


def validate_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or _CONTROL.search(cleaned):
        raise InvalidClientRegistration(
            f"The client name must be 1 to {MAX_NAME_LENGTH} printable characters."
        )
    return cleaned


def validate_scopes(scopes: str) -> str:
    """The registered scopes, de-duplicated; each must be a SMART ``system/`` resource scope."""
    items = list(dict.fromkeys(scopes.split()))
    if not items:
        raise InvalidClientRegistration("At least one scope is required (e.g. system/*.rs).")
    if len(items) > MAX_SCOPES:
        raise InvalidClientRegistration(f"At most {MAX_SCOPES} scopes may be registered.")
    for item in items:
        parsed = access_service.parse_scope(item)
        if parsed is None or parsed.context != SYSTEM_KIND:
            raise InvalidClientRegistration(
                f"'{item[:80]}' is not a SMART system resource scope: system clients get scopes "
                "such as system/Patient.rs, system/*.cruds or (SMART v1) system/*.read."
            )
    return " ".join(items)


def granted_scopes(requested: str | None, registered: str) -> str | None:
    """The scopes to grant for a token request, or None if it asks for more than registered.

    No requested scope means every registered one. Otherwise each requested scope must be a
    ``system/`` resource scope whose every permission letter is held, for its resource type
    (or for ``*``), by one of the registered scopes: ``system/Observation.rs`` fits within
    ``system/*.rs``; ``system/*.rs`` does not fit within ``system/Observation.rs``.
    """
    if requested is None or not requested.split():
        return registered
    held = [s for s in map(access_service.parse_scope, registered.split()) if s is not None]
    granted = list(dict.fromkeys(requested.split()))
    for item in granted:
        wanted = access_service.parse_scope(item)
        if wanted is None or wanted.context != SYSTEM_KIND:
            return None
        for letter in wanted.permissions:
            if not any(
                scope.resource_type in ("*", wanted.resource_type) and letter in scope.permissions
                for scope in held
            ):
                return None
    return " ".join(granted)


# --- the table ----------------------------------------------------------------------------------


def insert_client(
    db: Connection,
    *,
    client_id: str,
    name: str,
    scopes: str,
    auth_method: str,
    jwks: dict[str, list[dict[str, str]]] | None,
    secret_hash: str | None,
    created_at: datetime,
) -> None:
    db.execute(
        insert(models.client).values(
            id=client_id,
            name=name,
            kind=SYSTEM_KIND,
            scopes=scopes,
            auth_method=auth_method,
            jwks=None if jwks is None else orjson.dumps(jwks).decode(),
            secret_hash=secret_hash,
            created_at=created_at,
            disabled_at=None,
        )
    )


def load_client(db: Connection, client_id: str) -> StoredClient | None:
    if not looks_like_client_id(client_id):
        return None
    row = db.execute(select(models.client).where(models.client.c.id == client_id)).first()
    if row is None:
        return None
    return StoredClient(
        client_id=row.id,
        name=row.name,
        scopes=row.scopes,
        auth_method=row.auth_method,
        jwks=row.jwks,
        secret_hash=row.secret_hash,
        disabled=row.disabled_at is not None,
    )


def list_clients(db: Connection) -> list[ClientInfo]:
    rows = db.execute(
        select(models.client).order_by(models.client.c.created_at, models.client.c.id)
    ).all()
    return [
        ClientInfo(
            client_id=row.id,
            name=row.name,
            scopes=row.scopes,
            auth_method=row.auth_method,
            created_at=row.created_at,
            disabled=row.disabled_at is not None,
        )
        for row in rows
    ]


def disable_client(db: Connection, *, client_id: str, now: datetime) -> bool:
    """Mark an active client disabled; False if there is no such active client."""
    result = db.execute(
        update(models.client)
        .where(models.client.c.id == client_id, models.client.c.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    return bool(result.rowcount)
