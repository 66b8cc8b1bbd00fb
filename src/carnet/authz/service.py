"""Public face of the authorization server: clients, tokens and discovery.

``Authz`` is built once per process by the runtime. Registration, listing and disabling take
the caller's connection and never commit (DESIGN.md §8.1); so does ``issue_token``, which the
token route runs inside ``database.transaction()``. ``verify_access_token`` touches no database:
access tokens are self-contained signed JWTs, verified against Carnet's own key set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from carnet.audit.service import AuditRecord, AuditTrail, EventTag, Outcome
from carnet.authz import clients
from carnet.authz.client_auth import AssertionLedger, AssertionPolicy
from carnet.authz.clients import CLIENT_SECRET_BASIC, PRIVATE_KEY_JWT
from carnet.authz.config import AuthzSettings
from carnet.authz.errors import InvalidClientRegistration
from carnet.authz.keysets import ASSERTION_ALGORITHMS, validate_client_jwks
from carnet.authz.schemas import (
    ClientInfo,
    RegisteredClient,
    TokenClaims,
    TokenRequest,
    TokenResponse,
)
from carnet.authz.server import TokenContext, TokenServer
from carnet.authz.signing import SigningKeys, load_signing_keys
from carnet.authz.tokens import AccessTokens
from carnet.core.actor import Actor
from carnet.core.clock import Clock
from carnet.core.errors import ConfigurationError

__all__ = [
    "Authz",
    "ClientInfo",
    "RegisteredClient",
    "TokenClaims",
    "TokenRequest",
    "TokenResponse",
]

SCOPES_SUPPORTED = (
    "system/*.cruds",
    "system/*.rs",
    "system/*.cud",
    "system/*.read",
    "system/*.write",
)
"""Examples of what system clients may request; per-type scopes (system/Patient.rs) too."""


class Authz:
    """The authorization server for system clients (SMART Backend Services)."""

    def __init__(
        self,
        settings: AuthzSettings,
        *,
        keys: SigningKeys,
        issuer: str,
        fhir_base_url: str,
        client_secrets_allowed: bool,
        clock: Clock,
        audit: AuditTrail,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._secrets_allowed = client_secrets_allowed
        self._clock = clock
        self._audit = audit
        self._keys = keys
        self._tokens = AccessTokens(
            keys,
            issuer=self._issuer,
            audience=fhir_base_url,
            lifetime_seconds=settings.access_token_seconds,
            clock=clock,
        )
        self._token_context = TokenContext(
            tokens=self._tokens,
            assertions=AssertionPolicy(
                token_endpoint=self.token_endpoint,
                issuer=self._issuer,
                max_lifetime_seconds=settings.assertion_max_seconds,
                clock=clock,
                ledger=AssertionLedger(),
            ),
            audit=audit,
            client_secrets_allowed=client_secrets_allowed,
        )

    @classmethod
    def from_settings(
        cls,
        settings: AuthzSettings,
        *,
        issuer: str,
        fhir_base_url: str,
        signing_key_file: Path,
        create_keys: bool,
        client_secrets_allowed: bool,
        production: bool,
        clock: Clock,
        audit: AuditTrail,
    ) -> Authz:
        """Load (or, in development, generate) the signing keys and build the server.

        Raises ConfigurationError when the key file is missing, unsafe, or generated while
        ``production`` is set, and in production for a plain-http issuer or client secrets.
        """
        if production:
            _check_production(issuer=issuer, client_secrets_allowed=client_secrets_allowed)
        keys = load_signing_keys(signing_key_file, create=create_keys, production=production)
        return cls(
            settings,
            keys=keys,
            issuer=issuer,
            fhir_base_url=fhir_base_url,
            client_secrets_allowed=client_secrets_allowed,
            clock=clock,
            audit=audit,
        )

    @property
    def token_endpoint(self) -> str:
        return f"{self._issuer}/oauth2/token"

    @property
    def jwks_uri(self) -> str:
        return f"{self._issuer}/oauth2/jwks"

    # --- clients --------------------------------------------------------------------------------

    def register_system_client(
        self, db: Connection, *, name: str, scopes: str, jwks: dict[str, Any] | None, actor: Actor
    ) -> RegisteredClient:
        """Register a backend-services client; its secret (dev only) is returned once.

        With a JWKS (public RSA ≥ 2048 bits or EC P-256/P-384 keys, each with a kid) the client
        authenticates with ``private_key_jwt``. Without one, only where client secrets are
        allowed, it gets a generated secret for ``client_secret_basic``; only its hash is kept.
        Raises InvalidClientRegistration (an InvalidInput) saying what is wrong.
        """
        name = clients.validate_name(name)
        scopes = clients.validate_scopes(scopes)
        public_jwks = None
        secret = None
        if jwks is not None:
            public_jwks = validate_client_jwks(jwks)
            auth_method = PRIVATE_KEY_JWT
        elif self._secrets_allowed:
            secret = clients.new_client_secret()
            auth_method = CLIENT_SECRET_BASIC
        else:
            raise InvalidClientRegistration(
                "A JWKS is required: this server authenticates system clients with "
                "private_key_jwt only (client secrets are not accepted here)."
            )
        client_id = clients.new_client_id()
        clients.insert_client(
            db,
            client_id=client_id,
            name=name,
            scopes=scopes,
            auth_method=auth_method,
            jwks=public_jwks,
            secret_hash=None if secret is None else clients.hash_secret(secret),
            created_at=self._clock.now(),
        )
        detail: dict[str, str | list[str]] = {
            "name": name,
            "scopes": scopes.split(),
            "auth_method": auth_method,
        }
        if public_jwks is not None:
            detail["key_ids"] = [key["kid"] for key in public_jwks["keys"]]
        self._record(db, EventTag.AUTHZ_CLIENT_REGISTER, actor, client_id, detail)
        return RegisteredClient(
            client_id=client_id,
            name=name,
            scopes=scopes,
            auth_method=auth_method,
            client_secret=secret,
        )

    def list_clients(self, db: Connection) -> list[ClientInfo]:
        """Every registered client, oldest first (no key material, no secret hash)."""
        return clients.list_clients(db)

    def disable_client(self, db: Connection, *, client_id: str, actor: Actor) -> bool:
        """Refuse the client any new token; False if no active client has this id.

        Tokens already issued stay valid until they expire (``access_token_seconds``).
        """
        done = clients.disable_client(db, client_id=client_id, now=self._clock.now())
        if done:
            self._record(db, EventTag.AUTHZ_CLIENT_DISABLE, actor, client_id, {})
        return done

    def _record(
        self,
        db: Connection,
        tag: EventTag,
        actor: Actor,
        client_id: str,
        detail: dict[str, str | list[str]],
    ) -> None:
        self._audit.record(
            db,
            AuditRecord(
                tag=tag,
                outcome=Outcome.SUCCESS,
                actor=actor,
                patient_id=None,
                entity=f"client/{client_id}",
                detail=detail,
            ),
        )

    # --- tokens ---------------------------------------------------------------------------------

    def issue_token(self, db: Connection, request: TokenRequest) -> TokenResponse:
        """Answer a token endpoint request (client_credentials); audits issue and refusal.

        The caller commits even when the answer is an error: the refusal's audit event and the
        used assertion id must survive.
        """
        return TokenServer(self._token_context, db).respond(request)

    def verify_access_token(self, token: str) -> TokenClaims:
        """The claims of a valid access token; Unauthenticated (generic message) otherwise.

        Checks the ES256 signature against Carnet's own keys only, then iss, aud, exp, nbf and
        the required claims. Cached per token until its expiry; no database access.
        """
        return self._tokens.verify(token)

    # --- discovery ------------------------------------------------------------------------------

    def smart_configuration(self) -> dict[str, Any]:
        """The SMART discovery document (``.well-known/smart-configuration``)."""
        methods = [PRIVATE_KEY_JWT]
        capabilities = ["client-confidential-asymmetric"]
        if self._secrets_allowed:
            methods.append(CLIENT_SECRET_BASIC)
            capabilities.append("client-confidential-symmetric")
        return {
            "issuer": self._issuer,
            "jwks_uri": self.jwks_uri,
            "token_endpoint": self.token_endpoint,
            "token_endpoint_auth_methods_supported": methods,
            "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
            "grant_types_supported": [clients.CLIENT_CREDENTIALS],
            "scopes_supported": list(SCOPES_SUPPORTED),
            "response_types_supported": [],
            "capabilities": capabilities,
        }

    def public_jwks(self) -> dict[str, Any]:
        """The public half of the token signing keys (what ``/oauth2/jwks`` serves)."""
        return {"keys": [dict(key) for key in self._keys.public_jwks["keys"]]}


def _check_production(*, issuer: str, client_secrets_allowed: bool) -> None:
    # The settings refuse both already; repeated here because the token endpoint relies on them
    # (it skips Authlib's per-request transport check, see server.py).
    if not issuer.startswith("https://"):
        raise ConfigurationError("refusing to start in prod: the token issuer must be https://")
    if client_secrets_allowed:
        raise ConfigurationError(
            "refusing to start in prod: client secrets are not accepted (use private_key_jwt)"
        )
