"""Settings of federated sign-in (``CARNET_FEDERATION__*``), one section per provider."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr

ClientAuth = Literal["client_secret_post", "client_secret_basic", "private_key_jwt"]


class ProviderSettings(BaseModel):
    """One OpenID Provider. Empty ``issuer`` or ``client_id``: the provider is off."""

    issuer: str = ""
    """The issuer URL exactly as the provider's discovery document states it."""
    client_id: str = ""
    client_secret: SecretStr | None = None
    """For ``client_secret_post`` / ``client_secret_basic``."""
    private_key_file: Path | None = None
    """A private JWK (JSON) signing the client assertion, for ``private_key_jwt``."""
    client_auth: ClientAuth = "client_secret_post"
    scopes: str = "openid"
    """Space-separated scopes asked for."""
    required_acr: str = "eidas1"
    """The eIDAS level asked for (``acr_values``) and the least one accepted back."""
    ins_claim: str = ""
    """The claim carrying an INS matricule, when the provider hands one over (FranceConnect
    does not: empty). It is then checked (key, traits) and must be the matched patient's."""
    signing_algorithms: str = "ES256 RS256"
    """Signature algorithms accepted on id_tokens and signed userinfo responses."""

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)

    @property
    def scope_list(self) -> tuple[str, ...]:
        return tuple(self.scopes.split())

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(self.signing_algorithms.split())


def _franceconnect() -> ProviderSettings:
    # The identity pivot, asked for claim by claim (FranceConnect v2's scopes).
    return ProviderSettings(
        scopes="openid given_name family_name birthdate gender birthplace birthcountry",
        required_acr="eidas1",
    )


def _prosanteconnect() -> ProviderSettings:
    return ProviderSettings(scopes="openid scope_all", required_acr="eidas1")


class FederationSettings(BaseModel):
    franceconnect: ProviderSettings = Field(default_factory=_franceconnect)
    prosanteconnect: ProviderSettings = Field(default_factory=_prosanteconnect)
    http_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """Timeout of each call to a provider (discovery, keys, token, userinfo)."""
    metadata_cache_seconds: int = Field(default=3600, ge=0)
    """How long a provider's discovery document and keys are reused."""
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    """Tolerance on the id_token's ``exp`` and ``iat``."""
    pending_seconds: int = Field(default=600, ge=60, le=3600)
    """How long a started sign-in may take before its return is refused."""

    def production_problems(self) -> list[str]:
        """Why these settings are unsafe in production (empty: fine)."""
        problems = []
        for name, provider in (
            ("FRANCECONNECT", self.franceconnect),
            ("PROSANTECONNECT", self.prosanteconnect),
        ):
            if not provider.enabled:
                continue
            if urlsplit(provider.issuer).scheme != "https":
                problems.append(f"CARNET_FEDERATION__{name}__ISSUER must be an https:// URL")
            if provider.client_auth == "private_key_jwt":
                if provider.private_key_file is None:
                    problems.append(f"CARNET_FEDERATION__{name}__PRIVATE_KEY_FILE is not set")
            elif provider.client_secret is None or not provider.client_secret.get_secret_value():
                problems.append(f"CARNET_FEDERATION__{name}__CLIENT_SECRET is not set")
        return problems
