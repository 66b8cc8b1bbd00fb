"""Error pages of the portal: the visitor's language, the status, and nothing else.

No stack trace, no exception text, no echo of the path or of any submitted value: the page says
what happened in general terms and how to carry on. The FHIR surface keeps its OperationOutcome.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from carnet.web.i18n import N_
from carnet.web.rendering import Portal

log = logging.getLogger(__name__)

ERRORS = {
    400: (
        N_("Demande incorrecte"),
        N_("Le service n’a pas compris la demande. Vérifiez l’adresse ou reprenez le formulaire."),
    ),
    403: (
        N_("Action refusée"),
        N_(
            "Rien n’a été fait. Si vous envoyiez un formulaire, il a peut-être expiré : revenez "
            "à la page précédente, rechargez-la et recommencez."
        ),
    ),
    404: (
        N_("Page introuvable"),
        N_(
            "Cette adresse ne correspond à aucune page. Si vous l’avez saisie, vérifiez-la ; si "
            "vous avez suivi un lien, il est peut-être périmé."
        ),
    ),
    405: (
        N_("Action impossible sur cette page"),
        N_("Cette page ne permet pas cette action. Revenez à l’accueil pour continuer."),
    ),
    413: (
        N_("Envoi trop volumineux"),
        N_("Ce que vous avez envoyé dépasse la taille acceptée. Rien n’a été enregistré."),
    ),
    500: (
        N_("Erreur du service"),
        N_(
            "Le service a rencontré un problème et n’a pas pu répondre. L’incident est "
            "enregistré ; réessayez dans quelques minutes."
        ),
    ),
}


def error_context(status_code: int) -> dict[str, object]:
    """What an error page shows: a known status (others are shown as 500), title and advice."""
    status = status_code if status_code in ERRORS else 500
    title, advice = ERRORS[status]
    return {"title": title, "status": status, "advice": advice}


def render_error(portal: Portal, request: Request, status_code: int) -> Response:
    context = error_context(status_code)
    status = context["status"]
    assert isinstance(status, int)
    return portal.render(
        request, "errors/error.html", context, status_code=status, known_path=False
    )


def install_error_pages(app: FastAPI, portal: Portal) -> None:
    """Route every error the portal's app raises to the error page."""

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        response = render_error(portal, request, status)
        if isinstance(exc, HTTPException) and status == 405 and exc.headers:
            allow = exc.headers.get("Allow")
            if allow:
                response.headers["allow"] = allow
        return response

    async def bad_request(request: Request, _exc: Exception) -> Response:
        return render_error(portal, request, 400)

    async def crash(request: Request, exc: Exception) -> Response:
        # Logged by type only here: the message may quote values (the server logs the trace).
        log.error("portal error: %s", type(exc).__name__)
        return render_error(portal, request, 500)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(Exception, crash)


async def refusal(portal: Portal, scope: Scope, status_code: int) -> Response:
    """The CSRF middleware's refusal: the error page, for a request that reached no handler."""
    return render_error(portal, Request(scope), status_code)
