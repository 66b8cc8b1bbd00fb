"""Landing page of the professionals' area."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.web.accounts.guards import current_session
from carnet.web.i18n import N_
from carnet.web.rendering import Portal


def landing_context(*, fhir_base_url: str, signed_in: bool = False) -> dict[str, Any]:
    """Signed in: the professional's home; otherwise, how to sign in, and where software
    connects."""
    return {
        "title": N_("Espace professionnel"),
        "signed_in": signed_in,
        "fhir_metadata": f"{fhir_base_url}/metadata",
    }


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    fhir_base_url = portal.deps.fhir_base_url

    @router.get("/pro", include_in_schema=False)
    async def landing(request: Request) -> Response:
        session = current_session(request)
        signed_in = session is not None and session.kind == "professional"
        context = landing_context(fhir_base_url=fhir_base_url, signed_in=signed_in)
        return portal.render(request, "pro/home.html", context, area="pro")

    return router
