"""Public face of federated sign-in: start a sign-in, authenticate its return, identify the
person, audit the outcome, and build the provider's logout address.

The steps are split so that no database transaction is open while a provider is called:
``authenticate`` does the network work (token exchange, keys, userinfo) and returns verified
claims; ``identify`` then finds the person inside the caller's transaction. Both raise
``FederationRefused`` (with a reason code) or ``ProviderUnavailable``; the caller audits a
refusal with ``audit_refusal``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx2
from authlib.common.security import generate_token
from joserfc.jwk import JWKRegistry
from sqlalchemy import Connection

from carnet.audit.schemas import AuditRecord
from carnet.audit.service import AuditTrail
from carnet.audit.tags import EventTag, Outcome
from carnet.core.actor import ANONYMOUS, Actor, ActorKind
from carnet.core.clock import Clock
from carnet.identity.federation import flow, levels, people
from carnet.identity.federation.config import FederationSettings, ProviderSettings
from carnet.identity.federation.discovery import ProviderDirectory
from carnet.identity.federation.errors import FederationRefused, ProviderUnavailable, Reason
from carnet.identity.federation.pending import PendingSealer
from carnet.identity.federation.ports import KnownPeople
from carnet.identity.fhir_directory import practitioner_id

__all__ = [
    "PROVIDERS",
    "Assertion",
    "Federation",
    "FederationRefused",
    "FederationSettings",
    "ProviderName",
    "ProviderUnavailable",
    "Reason",
    "SignedIn",
    "Started",
]

ProviderName = Literal["franceconnect", "prosanteconnect"]
PersonKind = Literal["patient", "professional"]
_SIGN_IN = EventTag.IDENTITY_FEDERATION_SIGN_IN
PROVIDERS: dict[ProviderName, PersonKind] = {
    "franceconnect": "patient",
    "prosanteconnect": "professional",
}


@dataclass(frozen=True, slots=True)
class Started:
    url: str
    """The provider's authorization endpoint with the request: send the browser there."""
    cookie: str
    """The sealed pending sign-in, for the browser's short-lived cookie."""


@dataclass(frozen=True, slots=True)
class Assertion:
    """What a provider asserted, verified: its claims (id_token then userinfo) and the level."""

    provider: ProviderName
    claims: dict[str, Any]
    acr: str
    id_token: str

    def __repr__(self) -> str:
        return f"Assertion(provider={self.provider}, acr={self.acr}, claims=<hidden>)"


@dataclass(frozen=True, slots=True)
class SignedIn:
    provider: ProviderName
    person_kind: PersonKind
    person_id: str
    """The Patient's or the Practitioner's id."""
    acr: str
    id_token: str
    """Kept for the provider's logout (``id_token_hint``)."""


class Federation:
    """The relying party for every configured provider. One per process."""

    def __init__(
        self,
        settings: FederationSettings,
        *,
        key: bytes,
        audit: AuditTrail,
        clock: Clock,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._audit = audit
        self._clock = clock
        self._sealer = PendingSealer(key)
        self._http = httpx2.Client(
            timeout=settings.http_timeout_seconds, follow_redirects=False, transport=transport
        )
        self._directory = ProviderDirectory(
            self._http, cache_seconds=settings.metadata_cache_seconds
        )

    def provider(self, name: ProviderName) -> ProviderSettings:
        """The settings of a provider; ``Reason.DISABLED`` when it is not configured."""
        settings = getattr(self.settings, name)
        assert isinstance(settings, ProviderSettings)
        if not settings.enabled:
            raise FederationRefused(Reason.DISABLED)
        return settings

    def enabled(self, name: ProviderName) -> bool:
        return bool(getattr(self.settings, name).enabled)

    def begin(self, name: ProviderName, *, redirect_uri: str) -> Started:
        """A new sign-in: where to send the browser, and the cookie that remembers it."""
        settings = self.provider(name)
        metadata = self._directory.metadata(settings.issuer)
        pending = flow.start(name, now=self._clock.now())
        url = flow.authorization_url(metadata, settings, pending, redirect_uri=redirect_uri)
        return Started(url=url, cookie=self._sealer.seal(pending))

    def authenticate(
        self,
        name: ProviderName,
        *,
        cookie: str | None,
        params: dict[str, str],
        redirect_uri: str,
    ) -> Assertion:
        """Check the return against the browser's pending sign-in, exchange the code and verify
        what the provider says. Network only: no database."""
        settings = self.provider(name)
        pending = self._sealer.open(cookie, provider=name)
        now = self._clock.now()
        state = params.get("state", "")
        if (
            pending is None
            or pending.expired(now, max_seconds=self.settings.pending_seconds)
            or not state
            or state != pending.state
        ):
            raise FederationRefused(Reason.STATE)
        if "error" in params or not params.get("code"):
            raise FederationRefused(Reason.PROVIDER_ERROR)
        metadata = self._directory.metadata(settings.issuer)
        # RFC 9207: when the provider names itself on the return, it must be this one.
        if "iss" in params and params["iss"] != settings.issuer:
            raise FederationRefused(Reason.STATE)
        tokens = flow.exchange_code(
            self._http,
            metadata,
            settings,
            code=params["code"],
            code_verifier=pending.code_verifier,
            redirect_uri=redirect_uri,
            client_assertion=self._assertion(settings),
        )
        id_token = tokens["id_token"]
        expect = flow.Expectations(
            issuer=settings.issuer,
            client_id=settings.client_id,
            nonce=pending.nonce,
            algorithms=settings.algorithms,
            now=now,
            skew_seconds=self.settings.clock_skew_seconds,
        )
        claims = flow.verify_id_token(id_token, self._directory, metadata, expect)
        acr = claims.get("acr")
        if not levels.satisfies(acr, settings.required_acr):
            raise FederationRefused(Reason.ACR)
        access_token = tokens.get("access_token")
        if isinstance(access_token, str) and metadata.userinfo_endpoint is not None:
            userinfo = flow.fetch_userinfo(
                self._http,
                self._directory,
                metadata,
                access_token=access_token,
                subject=claims["sub"],
                client_id=settings.client_id,
                algorithms=settings.algorithms,
            )
            # The id_token's own claims (iss, aud, nonce, acr) are never overridden.
            claims = {**userinfo, **claims}
        assert isinstance(acr, str)
        return Assertion(provider=name, claims=claims, acr=acr, id_token=id_token)

    def identify(self, db: Connection, assertion: Assertion, known: KnownPeople) -> SignedIn:
        """The known person the assertion designates, audited in their chain; raises
        ``FederationRefused`` (``unknown-person``, ``ins-invalid``, ``rpps-invalid``)."""
        name = assertion.provider
        kind = PROVIDERS[name]
        if kind == "patient":
            claims = people.patient_claims(
                assertion.claims, ins_claim=self.provider(name).ins_claim
            )
            candidates = known.patients(db, people.candidate_searches(claims))
            person_id = people.match_patient(claims, candidates)
            actor, chain = Actor(ActorKind.PATIENT, person_id), person_id
        else:
            professional = people.professional_of(assertion.claims)
            person_id = practitioner_id(professional)
            if not people.practitioner_matches(known.practitioner(db, person_id), professional):
                raise FederationRefused(Reason.UNKNOWN_PERSON)
            actor, chain = Actor(ActorKind.PROFESSIONAL, person_id), None
        detail = {"provider": name, "acr": assertion.acr}
        self._record(
            db, tag=_SIGN_IN, outcome=Outcome.SUCCESS, actor=actor, chain=chain, detail=detail
        )
        return SignedIn(name, kind, person_id, assertion.acr, assertion.id_token)

    def audit_refusal(self, db: Connection, name: ProviderName, reason: str) -> None:
        """Remember a refused sign-in in the system chain (who tried is unknown)."""
        detail = {"provider": name, "reason": reason}
        self._record(
            db, tag=_SIGN_IN, outcome=Outcome.REFUSED, actor=ANONYMOUS, chain=None, detail=detail
        )

    def logout_url(
        self, signed_in: SignedIn, *, post_logout_redirect_uri: str, db: Connection
    ) -> str | None:
        """The provider's end-session address (``id_token_hint``, ``post_logout_redirect_uri``,
        ``state``), or None when it has none; the sign-out is audited."""
        settings = self.provider(signed_in.provider)
        patient = signed_in.person_kind == "patient"
        actor = Actor(ActorKind.PATIENT if patient else ActorKind.PROFESSIONAL, signed_in.person_id)
        self._record(
            db,
            tag=EventTag.IDENTITY_FEDERATION_SIGN_OUT,
            outcome=Outcome.SUCCESS,
            actor=actor,
            chain=signed_in.person_id if patient else None,
            detail={"provider": signed_in.provider},
        )
        metadata = self._directory.metadata(settings.issuer)
        if metadata.end_session_endpoint is None:
            return None
        query = urlencode(
            {
                "id_token_hint": signed_in.id_token,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "state": generate_token(32),
            }
        )
        return f"{metadata.end_session_endpoint}?{query}"

    def seal_signed_in(self, signed_in: SignedIn) -> str:
        """A sealed reminder of a federated sign-in, for the provider's logout later."""
        payload: list[str | int] = [
            signed_in.provider, signed_in.person_kind, signed_in.person_id, signed_in.acr,
            signed_in.id_token,
        ]  # fmt: skip
        return self._sealer.seal_value(payload, purpose="signed-in")

    def open_signed_in(self, value: str | None) -> SignedIn | None:
        """What ``seal_signed_in`` sealed, or None."""
        opened = self._sealer.open_value(value, purpose="signed-in")
        if not isinstance(opened, list) or len(opened) != 5:
            return None
        provider, kind, person_id, acr, id_token = opened
        if provider not in PROVIDERS or PROVIDERS[provider] != kind:
            return None
        if not all(isinstance(v, str) for v in (person_id, acr, id_token)):
            return None
        return SignedIn(provider, kind, person_id, acr, id_token)

    def close(self) -> None:
        self._http.close()

    def _assertion(self, settings: ProviderSettings) -> str | None:
        """The ``private_key_jwt`` client assertion for this provider's token endpoint, or None
        for the other client authentications. The key file is read at each sign-in, so a key
        replaced on disk is used without a restart."""
        if settings.client_auth != "private_key_jwt" or settings.private_key_file is None:
            return None
        try:
            key = JWKRegistry.import_key(json.loads(settings.private_key_file.read_text()))
        except (OSError, ValueError):
            raise ProviderUnavailable("client key") from None
        # The audience is the configured issuer (which discovery had to state exactly), never
        # an endpoint read from the discovery document: see flow.client_assertion.
        return flow.client_assertion(
            key, client_id=settings.client_id, audience=settings.issuer, now=self._clock.now()
        )

    def _record(
        self,
        db: Connection,
        *,
        tag: EventTag,
        outcome: Outcome,
        actor: Actor,
        chain: str | None,
        detail: dict[str, str],
    ) -> None:
        self._audit.record(
            db,
            AuditRecord(tag=tag, outcome=outcome, actor=actor, patient_id=chain, detail=detail),
        )
