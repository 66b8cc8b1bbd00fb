"""Landing page of the professionals' area."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.web.i18n import N_
from carnet.web.rendering import Portal


def landing_context(*, fhir_base_url: str) -> dict[str, Any]:
    """Sign-in is needed and not there yet: say so, and where software connects meanwhile."""
    return {
        "title": N_("Espace professionnel"),
        "signed_in": False,
        "fhir_metadata": f"{fhir_base_url}/metadata",
    }


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    fhir_base_url = portal.deps.fhir_base_url

    @router.get("/pro", include_in_schema=False)
    async def landing(request: Request) -> Response:
        context = landing_context(fhir_base_url=fhir_base_url)
        return portal.render(request, "pro/home.html", context, area="pro")

    return router
