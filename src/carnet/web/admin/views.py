"""Landing page of the operators' area."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.web.i18n import N_
from carnet.web.rendering import Portal


def landing_context() -> dict[str, Any]:
    """Sign-in is needed and not there yet: say so, and what operators use meanwhile."""
    return {"title": N_("Administration"), "signed_in": False}


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()

    @router.get("/admin", include_in_schema=False)
    async def landing(request: Request) -> Response:
        return portal.render(request, "admin/home.html", landing_context(), area="admin")

    return router
