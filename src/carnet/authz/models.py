"""Tables of the authorization server (private)."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

from carnet.core.db import UTCDateTime, metadata

client = Table(
    "authz_client",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # system (backend services) for now
    Column("scopes", Text, nullable=False),  # space-separated, as granted at registration
    Column("auth_method", String(32), nullable=False),  # private_key_jwt | client_secret_basic
    Column("jwks", Text, nullable=True),  # the client's public keys (JSON), for private_key_jwt
    Column("secret_hash", String(128), nullable=True),  # for client_secret_basic (dev only)
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
)

used_assertion = Table(
    "authz_used_assertion",
    metadata,
    # A client's signed assertion may be used once: its jti is kept until it expires.
    Column("client_id", String(64), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
)
Index("ix_authz_used_assertion_expires_at", used_assertion.c.expires_at)
