"""The token endpoint: Authlib's framework-agnostic ``AuthorizationServer`` behind our adapter.

Authlib ships server integrations for Flask and Django only (DESIGN.md §1b). This module is the
small adapter for Carnet: it turns a ``TokenRequest`` (content type, body, Authorization header,
read by the Starlette route) into an Authlib ``OAuth2Request`` whose ``payload`` is the parsed
form, and Authlib's ``(status, body, headers)`` answers into a ``TokenResponse``. It knows no
web framework, so the whole endpoint is testable without HTTP.

One ``TokenServer`` is built per request (a few dictionaries): it carries that request's database
connection to Authlib's callbacks (``query_client``, the jti ledger, ``save_token``) without
globals or context variables. It offers one grant, ``client_credentials``, and two client
authentication methods: ``private_key_jwt``, and ``client_secret_basic`` where allowed.
Every issued token and every refusal is audited on the system chain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from sqlalchemy import Connection

from carnet.audit.service import AuditRecord, AuditTrail, EventTag, Outcome
from carnet.authz import clients
from carnet.authz.client_auth import (
    AssertionPolicy,
    ClientRefused,
    PrivateKeyJwt,
    authenticate_client_secret_basic,
)
from carnet.authz.clients import CLIENT_SECRET_BASIC, PRIVATE_KEY_JWT, StoredClient
from carnet.authz.schemas import TokenRequest, TokenResponse
from carnet.authz.tokens import AccessTokens, IssuedToken
from carnet.core.actor import Actor, ActorKind

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 20
_SINGLE_VALUED = ("grant_type", "scope", "client_id", "client_assertion", "client_assertion_type")
_NO_STORE = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
_DEFAULT_DESCRIPTIONS = {
    "unsupported_grant_type": "Only grant_type=client_credentials is supported.",
    "invalid_scope": "The requested scope is not within the client's registered scopes.",
}
_CALLER_MISTAKES = frozenset({"invalid_request", "unsupported_grant_type"})


@dataclass(frozen=True)
class TokenContext:
    """What every token request needs from the process (built once by ``Authz``)."""

    tokens: AccessTokens
    assertions: AssertionPolicy
    audit: AuditTrail
    client_secrets_allowed: bool


class _FormPayload(OAuth2Payload):  # type: ignore[misc]  # Authlib is untyped
    """The token request's form, as Authlib's payload (first values, and every value)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._datalist = defaultdict(list, fields)
        self._data = {name: values[0] for name, values in fields.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _FormRequest(OAuth2Request):  # type: ignore[misc]  # Authlib is untyped
    """An Authlib request made from the parsed form and the Authorization header."""

    def __init__(
        self, *, uri: str, fields: dict[str, list[str]], authorization: str | None
    ) -> None:
        # OAuth2Request.__init__ is not called: all it adds is a transport check on ``uri``, which
        # here is the configured public URL (TLS ends at the proxy, so the scheme the app sees
        # proves nothing); production refuses a non-https public URL at start-up instead.
        self.method = "POST"
        self.uri = uri
        self.headers = {"Authorization": authorization} if authorization else {}
        self._body = None
        self.payload = _FormPayload(fields)
        self.client: StoredClient | None = None
        self.auth_method: str | None = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope: str | None = None

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data

    @property
    def uses_basic(self) -> bool:
        value = self.headers.get("Authorization", "")
        return value.split(" ", 1)[0].lower() == "basic"


class _ClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]  # Authlib is untyped
    """``client_credentials`` for system clients, with SMART scope narrowing."""

    def validate_token_request(self) -> None:
        request: _FormRequest = self.request
        for name in _SINGLE_VALUED:
            if len(request.payload.datalist.get(name, [])) > 1:
                raise InvalidRequestError(description=f"The {name} parameter is repeated.")
        if request.uses_basic and "client_assertion" in request.payload.data:
            raise InvalidRequestError(description="Use one client authentication method, not two.")
        client: StoredClient = self.server.authenticate_client(request, self.server.auth_methods)
        request.client = client
        claimed = request.payload.data.get("client_id")
        if claimed is not None and claimed != client.client_id:
            raise InvalidRequestError(
                description="client_id does not match the authenticated client."
            )
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(description="The client may not use client_credentials.")
        granted = clients.granted_scopes(request.payload.scope, client.scopes)
        if granted is None:
            raise InvalidScopeError(
                description="The requested scope is not within the client's registered scopes "
                "(system resource scopes only)."
            )
        request.scope = granted

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        # Replaces Authlib's version, which grants the scope as requested (not as narrowed
        # here) and writes the issued token to its debug log.
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class TokenServer(AuthorizationServer):  # type: ignore[misc]  # Authlib is untyped
    """Authlib's authorization server bound to one request's database connection."""

    def __init__(self, ctx: TokenContext, db: Connection) -> None:
        super().__init__()
        self._ctx = ctx
        self._db = db
        self._issued: IssuedToken | None = None
        self.auth_methods = [PRIVATE_KEY_JWT]
        self.register_client_auth_method(PRIVATE_KEY_JWT, PrivateKeyJwt(ctx.assertions, db))
        if ctx.client_secrets_allowed:
            self.auth_methods.append(CLIENT_SECRET_BASIC)
        # Replaces Authlib's own client_secret_basic, whose failures reveal unknown client ids.
        self.register_client_auth_method(CLIENT_SECRET_BASIC, authenticate_client_secret_basic)
        self.register_grant(_ClientCredentialsGrant)
        self.register_token_generator("default", self._generate_token)

    def respond(self, http: TokenRequest) -> TokenResponse:
        """Answer one token request: a token, or an RFC 6749 §5.2 error."""
        try:
            request = _FormRequest(
                uri=self._ctx.assertions.token_endpoint,
                fields=parse_form(http),
                authorization=http.authorization,
            )
        except OAuth2Error as error:
            return self.handle_error_response(None, error)
        return self.create_token_response(request)  # type: ignore[no-any-return]

    # --- Authlib's callbacks --------------------------------------------------------------------

    def query_client(self, client_id: str) -> StoredClient | None:
        return clients.load_client(self._db, client_id)

    def authenticate_client(
        self, request: _FormRequest, methods: list[str], endpoint: str = "token"
    ) -> StoredClient:
        try:
            return super().authenticate_client(request, methods, endpoint)  # type: ignore[no-any-return]
        except ClientRefused:
            raise
        except InvalidClientError as error:
            # Authlib's "no method matched": the request carried no usable credentials.
            expected = " or ".join(methods)
            raise ClientRefused(
                "no_credentials", f"Client authentication is required ({expected})."
            ) from error

    def _generate_token(
        self, *, grant_type: str, client: StoredClient, scope: str | None, **_unused: object
    ) -> dict[str, Any]:
        # Authlib also passes user, expires_in and include_refresh_token: none apply here (no
        # user, a fixed lifetime, and client_credentials never gets a refresh token).
        assert grant_type == clients.CLIENT_CREDENTIALS
        assert scope is not None
        issued = self._ctx.tokens.issue(
            client_id=client.client_id, client_name=client.name, scopes=scope
        )
        self._issued = issued
        return {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": scope,
        }

    def save_token(self, token: dict[str, Any], request: _FormRequest) -> None:
        """Access tokens are self-contained: nothing is stored, but their issue is audited."""
        assert self._issued is not None
        assert request.client is not None
        self._audit(
            EventTag.AUTHZ_TOKEN_ISSUE,
            Outcome.SUCCESS,
            request.client,
            {
                "scopes": token["scope"].split(),
                "expires_in": self._issued.expires_in,
                "token_id": self._issued.token_id,
                "auth_method": request.client.auth_method,
            },
        )

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """No signals: auditing happens in ``save_token`` and ``handle_error_response``."""

    def create_oauth2_request(self, request: _FormRequest) -> _FormRequest:
        return request

    def create_json_request(self, request: object) -> object:
        raise NotImplementedError("the token endpoint takes form requests only")

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> TokenResponse:
        return TokenResponse(status=status, body=body, headers={**dict(headers), **_NO_STORE})

    def handle_error_response(
        self, request: _FormRequest | None, error: OAuth2Error
    ) -> TokenResponse:
        """Audit the refusal, then answer with RFC 6749 §5.2 JSON (never cached)."""
        code: str = error.error
        reason: str = getattr(error, "reason", code)
        client = request.client if request is not None else None
        outcome = Outcome.INVALID if code in _CALLER_MISTAKES else Outcome.REFUSED
        self._audit(EventTag.AUTHZ_TOKEN_REFUSE, outcome, client, {"error": code, "reason": reason})
        body = {"error": code}
        description = error.description or _DEFAULT_DESCRIPTIONS.get(code)
        if description:
            body["error_description"] = description
        headers = dict(_NO_STORE)
        status = 400
        if code == "invalid_client" and request is not None and request.uses_basic:
            # RFC 6749 §5.2: the client tried the Authorization header, so 401 with a challenge.
            status = 401
            headers["WWW-Authenticate"] = 'Basic realm="carnet", error="invalid_client"'
        return TokenResponse(status=status, body=body, headers=headers)

    def _audit(
        self, tag: EventTag, outcome: Outcome, client: StoredClient | None, detail: dict[str, Any]
    ) -> None:
        actor = Actor(
            kind=ActorKind.SYSTEM,
            id=client.client_id if client else "-",
            label=client.name if client else "",
        )
        self._ctx.audit.record(
            self._db,
            AuditRecord(
                tag=tag,
                outcome=outcome,
                actor=actor,
                patient_id=None,
                entity=f"client/{client.client_id}" if client else "",
                detail=detail,
            ),
        )


def parse_form(http: TokenRequest) -> dict[str, list[str]]:
    """The form fields of a token request; InvalidRequestError if the body is not a sane form."""
    if http.body_too_large:
        raise InvalidRequestError(description="The request body is too large.")
    if http.content_type.split(";", 1)[0].strip().lower() != FORM_MEDIA_TYPE:
        raise InvalidRequestError(description=f"The request body must be {FORM_MEDIA_TYPE}.")
    try:
        pairs = parse_qsl(
            http.body.decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError as error:  # not ASCII, bad percent-encoding, or too many fields
        raise InvalidRequestError(description="The request body is not a valid form.") from error
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields
