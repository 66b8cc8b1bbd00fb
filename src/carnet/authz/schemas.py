"""Values crossing the authorization server's boundary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RegisteredClient:
    """A client just registered. ``client_secret`` is shown once and never stored in clear."""

    client_id: str
    name: str
    scopes: str
    auth_method: str
    """``private_key_jwt``, or ``client_secret_basic`` where client secrets are allowed."""
    client_secret: str | None


@dataclass(frozen=True)
class ClientInfo:
    """A registered client as listed to operators (no key material, no secret)."""

    client_id: str
    name: str
    scopes: str
    auth_method: str
    created_at: datetime
    disabled: bool


@dataclass(frozen=True)
class TokenClaims:
    """What a verified access token says about its bearer."""

    client_id: str
    client_name: str
    actor_kind: str
    """``system`` for SMART Backend Services clients."""
    scopes: str
    expires_at: datetime
    token_id: str


@dataclass(frozen=True)
class TokenRequest:
    """A token endpoint request as received over HTTP, before any parsing of its form."""

    content_type: str
    body: bytes
    authorization: str | None = None
    """The ``Authorization`` header, when the client sent one (client_secret_basic)."""
    body_too_large: bool = False
    """The body exceeded the endpoint's limit and was not read to the end."""


@dataclass(frozen=True)
class TokenResponse:
    """The token endpoint's answer: a JSON object, its status and headers (RFC 6749 §5)."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
