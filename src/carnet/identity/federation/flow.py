"""The relying party's side of the authorization code flow, as small functions.

``authorization_url`` builds the request (PKCE S256, state, nonce, ``acr_values``);
``exchange_code`` trades the code for tokens; ``verify_id_token`` checks the id_token;
``fetch_userinfo`` reads the identity claims (plain JSON or a signed JWT, as FranceConnect and
Pro Santé Connect send them). Each raises ``FederationRefused`` or ``ProviderUnavailable``.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx2
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from carnet.identity.federation.config import ProviderSettings
from carnet.identity.federation.discovery import ProviderDirectory, ProviderMetadata
from carnet.identity.federation.errors import FederationRefused, ProviderUnavailable, Reason
from carnet.identity.federation.pending import PendingSignIn

# 43 characters of 62 symbols (about 256 bits): above FranceConnect+'s 32-character minimum
# for state and nonce, and inside RFC 7636's 43–128 for the verifier.
_RANDOM_LENGTH = 43


def start(provider: str, *, now: datetime) -> PendingSignIn:
    """A new sign-in: fresh state, nonce and PKCE verifier."""
    return PendingSignIn(
        provider=provider,
        state=generate_token(_RANDOM_LENGTH),
        nonce=generate_token(_RANDOM_LENGTH),
        code_verifier=generate_token(_RANDOM_LENGTH),
        started_at=int(now.timestamp()),
    )


def authorization_url(
    metadata: ProviderMetadata,
    settings: ProviderSettings,
    pending: PendingSignIn,
    *,
    redirect_uri: str,
) -> str:
    """Where to send the browser: the provider's authorization endpoint with the request."""
    query = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": redirect_uri,
        "scope": settings.scopes,
        "state": pending.state,
        "nonce": pending.nonce,
        "acr_values": settings.required_acr,
        "code_challenge": create_s256_code_challenge(pending.code_verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in metadata.authorization_endpoint else "?"
    return metadata.authorization_endpoint + separator + urlencode(query)


def exchange_code(
    client: httpx2.Client,
    metadata: ProviderMetadata,
    settings: ProviderSettings,
    *,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    client_assertion: str | None = None,
) -> Mapping[str, Any]:
    """The token response for ``code``. A refusal by the provider (``invalid_grant``: a code
    used twice, a verifier that is not the code's) is a refused sign-in, not an outage; a
    refusal of Carnet's own client authentication (``invalid_client``: a key or secret the
    provider does not hold) is ``Reason.CLIENT``, for the operators to fix."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
        "client_id": settings.client_id,
    }
    headers = {"accept": "application/json"}
    secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
    if settings.client_auth == "client_secret_basic":
        headers["authorization"] = _basic(settings.client_id, secret)
    elif settings.client_auth == "client_secret_post":
        form["client_secret"] = secret
    elif client_assertion is not None:
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form["client_assertion"] = client_assertion
    try:
        response = client.post(metadata.token_endpoint, data=form, headers=headers)
    except httpx2.HTTPError:
        raise ProviderUnavailable("token") from None
    # RFC 6749 §5.2 lets invalid_client come as a 400 or a 401 (oidc-provider sends a 401).
    if response.status_code in (400, 401) and _error_code(response) == "invalid_client":
        raise FederationRefused(Reason.CLIENT)
    if response.status_code == 400:
        raise FederationRefused(Reason.INVALID)
    if response.status_code != 200:
        raise ProviderUnavailable("token")
    try:
        body = response.json()
    except ValueError:
        raise ProviderUnavailable("token") from None
    if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        raise ProviderUnavailable("token")
    return body


def _error_code(response: httpx2.Response) -> str | None:
    """The ``error`` of an OAuth error response, or None when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1: both parts form-encoded before the Basic encoding.
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


@dataclass(frozen=True, slots=True)
class Expectations:
    """What an id_token must say to be accepted."""

    issuer: str
    client_id: str
    nonce: str
    algorithms: tuple[str, ...]
    now: datetime
    skew_seconds: int


def verify_id_token(
    token: str, directory: ProviderDirectory, metadata: ProviderMetadata, expect: Expectations
) -> dict[str, Any]:
    """The id_token's claims once its signature (the provider's JWKS, an allowed algorithm),
    ``iss``, ``aud``, ``azp``, ``exp``, ``iat``, ``sub`` and ``nonce`` are checked."""
    claims = _verified_claims(token, directory, metadata, expect.algorithms)
    if claims.get("iss") != expect.issuer:
        raise FederationRefused(Reason.INVALID)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if expect.client_id not in audiences:
        raise FederationRefused(Reason.INVALID)
    # OpenID Connect Core §3.1.3.7: several audiences need an azp, and an azp must be us.
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != expect.client_id:
        raise FederationRefused(Reason.INVALID)
    now = expect.now.timestamp()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise FederationRefused(Reason.INVALID)
    if exp < now - expect.skew_seconds:
        raise FederationRefused(Reason.EXPIRED)
    if iat > now + expect.skew_seconds:
        raise FederationRefused(Reason.INVALID)
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise FederationRefused(Reason.INVALID)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, expect.nonce):
        raise FederationRefused(Reason.NONCE)
    return claims


def _verified_claims(
    token: str,
    directory: ProviderDirectory,
    metadata: ProviderMetadata,
    algorithms: tuple[str, ...],
) -> dict[str, Any]:
    try:
        header = jws.extract_compact(token.encode()).protected if token else {}
    except (JoseError, ValueError):
        raise FederationRefused(Reason.INVALID) from None
    kid = header.get("kid")
    keys: KeySet = directory.keys(metadata, kid=kid if isinstance(kid, str) else None)
    try:
        decoded = jwt.decode(token, keys, algorithms=list(algorithms))
    except (JoseError, ValueError):
        raise FederationRefused(Reason.INVALID) from None
    return dict(decoded.claims)


def fetch_userinfo(
    client: httpx2.Client,
    directory: ProviderDirectory,
    metadata: ProviderMetadata,
    *,
    access_token: str,
    subject: str,
    client_id: str,
    algorithms: tuple[str, ...],
) -> dict[str, Any]:
    """The userinfo claims. A signed response (``application/jwt``) is verified like an
    id_token's signature, and must name our issuer and audience if it carries them; either
    way its ``sub`` must be the id_token's (OpenID Connect Core §5.3.2)."""
    if metadata.userinfo_endpoint is None:
        raise ProviderUnavailable("userinfo")
    try:
        response = client.get(
            metadata.userinfo_endpoint, headers={"authorization": f"Bearer {access_token}"}
        )
    except httpx2.HTTPError:
        raise ProviderUnavailable("userinfo") from None
    if response.status_code != 200:
        raise ProviderUnavailable("userinfo")
    if response.headers.get("content-type", "").startswith("application/jwt"):
        claims = _verified_claims(response.text.strip(), directory, metadata, algorithms)
        audience = claims.get("aud", client_id)
        if claims.get("iss", metadata.issuer) != metadata.issuer or client_id not in (
            audience if isinstance(audience, list) else [audience]
        ):
            raise FederationRefused(Reason.INVALID)
    else:
        try:
            claims = response.json()
        except ValueError:
            raise ProviderUnavailable("userinfo") from None
        if not isinstance(claims, dict):
            raise ProviderUnavailable("userinfo")
    if claims.get("sub") != subject:
        raise FederationRefused(Reason.INVALID)
    return claims


def client_assertion(key: Any, *, client_id: str, audience: str, now: datetime) -> str:
    """A ``private_key_jwt`` client assertion (RFC 7523) for the token endpoint; ``audience``
    is the provider's issuer identifier, sent as a single string.

    OpenID Connect Core §9 suggests the token endpoint's URL, but RFC 10070 (updating RFC 7523
    after the 2025 audience-injection disclosure) makes the issuer the one value a client
    sends and an authorization server must accept, and lets it refuse any other. Providers
    that predate it accept the issuer too (oidc-provider 8 takes the issuer, the token
    endpoint or the endpoint's own URL), so the issuer is what works everywhere."""
    issued = int(now.timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": generate_token(32),
        "iat": issued,
        "exp": issued + 60,
    }
    algorithm = "ES256" if key.key_type == "EC" else "RS256"
    return jwt.encode({"alg": algorithm, "kid": key.kid}, claims, key)
