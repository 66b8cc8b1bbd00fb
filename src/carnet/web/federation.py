"""Federated sign-in routes: FranceConnect for patients, Pro Santé Connect for professionals.

``GET /connexion/franceconnect`` and ``GET /pro/connexion/psc`` start a sign-in (a link, not a
form: the portal's CSP allows forms to post to itself only, redirects included) and send the
browser to the provider with a sealed pending cookie scoped to the return path. The returns
(``…/retour``) check it, verify what the provider says, find the person, open their session and
go to their area; any refusal is audited and shown as a page with its reason in plain words
and a 4xx status, with nothing created. ``GET /connexion/deconnexion`` revokes Carnet's
session on the server and ends the provider's session too (RP-initiated logout with
``id_token_hint``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.enrollment.activation import Activations
from carnet.identity.accounts.errors import SignInRefused
from carnet.identity.federation.errors import FederationRefused, ProviderUnavailable, Reason
from carnet.identity.federation.service import Federation, ProviderName, SignedIn
from carnet.web.accounts.cookies import (
    clear_session_cookie,
    device_token,
    set_session_cookie,
)
from carnet.web.accounts.guards import current_session, pending_session
from carnet.web.enrollment.activation import TERMS_PATH, set_ticket_cookie
from carnet.web.error_pages import render_error
from carnet.web.federation_deps import SIGNED_IN_COOKIE, FederationDeps
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    start: str
    home: str
    area: Literal["patient", "pro"]
    cookie: str
    method: str
    """The session's sign-in method, as accounts name it."""

    @property
    def callback(self) -> str:
        return self.start + "/retour"


ROUTES: dict[ProviderName, Route] = {
    "franceconnect": Route(
        "/connexion/franceconnect", "/", "patient", "carnet_fc_pending", "franceconnect"
    ),
    "prosanteconnect": Route(
        "/pro/connexion/psc", "/pro", "pro", "carnet_psc_pending", "pro-sante-connect"
    ),
}

_PROTOCOL = N_(
    "La réponse du service d’identification n’a pas pu être vérifiée. Par sécurité, la "
    "connexion est refusée. Recommencez depuis la page de connexion."
)
MESSAGES: dict[Reason | str, str] = {
    Reason.STATE: N_(
        "Cette connexion a expiré ou n’a pas été commencée depuis ce navigateur. Recommencez "
        "depuis la page de connexion."
    ),
    Reason.PROVIDER_ERROR: N_(
        "La connexion a été annulée ou refusée par le service d’identification. Vous pouvez "
        "recommencer."
    ),
    Reason.INVALID: _PROTOCOL,
    Reason.EXPIRED: _PROTOCOL,
    Reason.NONCE: _PROTOCOL,
    Reason.ACR: N_(
        "Le moyen d’identification utilisé n’offre pas le niveau de garantie exigé pour cet "
        "espace. Reconnectez-vous avec un moyen d’identification de niveau plus élevé."
    ),
    Reason.INS: N_(
        "L’identifiant national de santé transmis n’est pas valide (sa clé de contrôle est "
        "fausse). La connexion est refusée et rien n’a été créé."
    ),
    Reason.RPPS: N_(
        "Le numéro RPPS transmis n’est pas valide (sa clé de contrôle est fausse). La "
        "connexion est refusée et rien n’a été créé."
    ),
    Reason.UNKNOWN_PERSON: N_(
        "Votre identité n’a pu être rapprochée d’aucun espace. Rien n’a été créé. Vérifiez "
        "auprès de votre organisme que vos informations d’état civil sont à jour, ou "
        "connectez-vous avec vos identifiants."
    ),
    Reason.CLIENT: N_(
        "Le service d’identification a refusé l’accès de Carnet lui-même : c’est un problème "
        "de configuration de notre côté, pas de votre fait. Rien n’a été créé. Connectez-vous "
        "avec vos identifiants, ou réessayez plus tard."
    ),
    "unavailable": N_(
        "Le service d’identification ne répond pas pour le moment. Rien n’a été fait : "
        "réessayez dans quelques minutes."
    ),
}
_STATUS = {
    Reason.ACR: 403,
    Reason.INS: 403,
    Reason.RPPS: 403,
    Reason.UNKNOWN_PERSON: 403,
    # Carnet's own credentials refused upstream: the person's request was fine, a gateway
    # failed, as when the provider is unreachable.
    Reason.CLIENT: 502,
}


def refused_context(reason: Reason | str, route: Route) -> dict[str, object]:
    """The refusal page: what happened, in plain words, and where to start again."""
    return {
        "title": N_("Connexion impossible"),
        "message": MESSAGES.get(reason, _PROTOCOL),
        "reason": str(reason),
        "retry": route.start,
    }


class FederationViews:
    """The handlers, sharing the portal and the federation (synchronous: FastAPI runs them in
    its threadpool, since they wait on the provider and the database)."""

    def __init__(self, portal: Portal, deps: FederationDeps) -> None:
        self.portal = portal
        self.deps = deps
        enrollment = portal.deps.enrollment
        # A patient whose space awaits activation activates it (terms, first choices) first.
        self.activations = enrollment.activation if enrollment is not None else None
        self.federation = deps.federation
        self.base = deps.public_base_url.rstrip("/")

    def start(self, request: Request, name: ProviderName) -> Response:
        route = ROUTES[name]
        if not self.federation.enabled(name):
            return render_error(self.portal, request, 404)
        try:
            started = self.federation.begin(name, redirect_uri=self.base + route.callback)
        except ProviderUnavailable:
            return self.refuse(request, name, "unavailable")
        response = RedirectResponse(started.url, status_code=303)
        response.set_cookie(
            route.cookie,
            started.cookie,
            max_age=self.federation.settings.pending_seconds,
            path=route.start,
            httponly=True,
            secure=self.deps.secure,
            samesite="lax",
        )
        return response

    def callback(self, request: Request, name: ProviderName) -> Response:
        route = ROUTES[name]
        if not self.federation.enabled(name):
            return render_error(self.portal, request, 404)
        try:
            signed_in, response = _complete(
                request, name, route, self.federation, self.deps, activations=self.activations
            )
        except FederationRefused as exc:
            return self.refuse(request, name, exc.reason)
        except SignInRefused:
            # The person is known but their account may not sign in (disabled).
            return self.refuse(request, name, Reason.UNKNOWN_PERSON)
        except ProviderUnavailable as exc:
            log.warning("identity provider unavailable (%s): %s", name, exc.step)
            return self.refuse(request, name, "unavailable")
        self._forget_pending(response, route)
        response.set_cookie(
            SIGNED_IN_COOKIE,
            self.federation.seal_signed_in(signed_in),
            path="/",
            httponly=True,
            secure=self.deps.secure,
            samesite="strict",
        )
        return response

    def sign_out(self, request: Request) -> Response:
        """End Carnet's session on the server (not only its cookie), then the provider's."""
        session = current_session(request) or pending_session(request)
        if session is not None:
            # In a transaction of its own: the provider's logout below reaches the network,
            # and its failure must not roll the revocation back.
            with self.deps.transaction() as db:
                self.deps.accounts.sign_out(db, session=session)
        signed_in = self.federation.open_signed_in(request.cookies.get(SIGNED_IN_COOKIE))
        target: str | None = None
        if signed_in is not None and self.federation.enabled(signed_in.provider):
            home = self.base + ROUTES[signed_in.provider].home
            try:
                with self.deps.transaction() as db:
                    target = self.federation.logout_url(
                        signed_in, post_logout_redirect_uri=home, db=db
                    )
            except ProviderUnavailable:
                target = None
        response = RedirectResponse(target or "/", status_code=303)
        response.delete_cookie(SIGNED_IN_COOKIE, path="/", secure=self.deps.secure, httponly=True)
        clear_session_cookie(response, self.deps)
        return response

    def refuse(self, request: Request, name: ProviderName, reason: Reason | str) -> Response:
        """Audit the refusal, then say what happened (nothing was created)."""
        if reason == Reason.CLIENT:
            # Every sign-in with this provider fails until the operators act (register the key,
            # fix the secret): say so in the logs, not only in the audit trail.
            log.error("identity provider refused Carnet's client authentication (%s)", name)
        with self.deps.transaction() as db:
            self.federation.audit_refusal(db, name, str(reason))
        route = ROUTES[name]
        status = 502 if reason == "unavailable" else _STATUS.get(Reason(reason), 400)
        response = self.portal.render(
            request,
            "federation/refused.html",
            refused_context(reason, route),
            area=route.area,
            status_code=status,
            known_path=False,
        )
        self._forget_pending(response, route)
        return response

    def _forget_pending(self, response: Response, route: Route) -> None:
        response.delete_cookie(
            route.cookie, path=route.start, secure=self.deps.secure, httponly=True
        )


def build_router(portal: Portal, deps: FederationDeps) -> APIRouter:
    router = APIRouter()
    views = FederationViews(portal, deps)

    @router.get("/connexion/franceconnect", include_in_schema=False)
    def franceconnect_start(request: Request) -> Response:
        return views.start(request, "franceconnect")

    @router.get("/connexion/franceconnect/retour", include_in_schema=False)
    def franceconnect_callback(request: Request) -> Response:
        return views.callback(request, "franceconnect")

    @router.get("/pro/connexion/psc", include_in_schema=False)
    def psc_start(request: Request) -> Response:
        return views.start(request, "prosanteconnect")

    @router.get("/pro/connexion/psc/retour", include_in_schema=False)
    def psc_callback(request: Request) -> Response:
        return views.callback(request, "prosanteconnect")

    @router.get("/connexion/deconnexion", include_in_schema=False)
    def sign_out(request: Request) -> Response:
        return views.sign_out(request)

    return router


def _complete(
    request: Request,
    name: ProviderName,
    route: Route,
    federation: Federation,
    deps: FederationDeps,
    *,
    activations: Activations | None = None,
) -> tuple[SignedIn, Response]:
    """Verify the return (network, outside any transaction), then find the person and open
    their session in one transaction: a refusal leaves nothing behind. A patient whose space
    awaits activation goes to its last steps instead (``/activation/conditions``)."""
    assertion = federation.authenticate(
        name,
        cookie=request.cookies.get(route.cookie),
        params=dict(request.query_params),
        redirect_uri=deps.public_base_url.rstrip("/") + route.callback,
    )
    with deps.transaction() as db:
        signed_in = federation.identify(db, assertion, deps.people)
        patient = signed_in.person_kind == "patient"
        if (
            patient
            and activations
            and activations.awaiting_activation(db, beneficiary_id=signed_in.person_id)
        ):
            token = activations.start_federated(db, beneficiary_id=signed_in.person_id)
            response = RedirectResponse(TERMS_PATH, status_code=303)
            set_ticket_cookie(response, token, deps, minutes=activations.ticket_minutes)
            return signed_in, response
        account_id = deps.accounts.account_for_person(
            db, person_kind=signed_in.person_kind, person_id=signed_in.person_id, create=True
        )
        assert account_id is not None
        issued = deps.accounts.open_session(
            db,
            account_id=account_id,
            method=route.method,
            acr=signed_in.acr,
            client_address=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            now=deps.clock.now(),
            device_token=device_token(request, deps),
        )
    response = RedirectResponse(route.home, status_code=303)
    set_session_cookie(response, issued, deps)
    return signed_in, response
