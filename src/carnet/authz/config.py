"""Settings section of the authorization server."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class AuthzSettings(BaseModel):
    signing_key_file: Path | None = None
    """The private JWK set that signs access tokens. Default: <data_dir>/keys/token-signing.json,
    generated in dev and test; required, and never a generated one, in prod."""
    access_token_seconds: int = Field(default=300, ge=30, le=3600)
    """Lifetime of access tokens (SMART Backend Services: at most five minutes recommended)."""
    assertion_max_seconds: int = Field(default=300, ge=30, le=600)
    """Longest lifetime accepted for a client's signed assertion (private_key_jwt)."""
    allow_client_secrets: bool | None = None
    """Accept client_secret_basic. Default: on in dev and test, off (and refused) in prod."""
