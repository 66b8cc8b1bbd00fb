"""Assembles the portal onto the app: pages, static files, error pages and CSRF protection.

The app factory calls ``install_portal`` with what the web area needs (``PortalDeps``); nothing
here reads settings or the runtime.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import Response
from starlette.types import Scope

from carnet.web import error_pages, pages
from carnet.web.admin import views as admin_views
from carnet.web.assets import asset_routes
from carnet.web.csrf import CsrfMiddleware, CsrfTokens
from carnet.web.patient import views as patient_views
from carnet.web.pro import views as pro_views
from carnet.web.rendering import Portal, PortalDeps


def install_portal(app: FastAPI, deps: PortalDeps) -> Portal:
    """Add the portal's routes, error pages and CSRF middleware to ``app``."""
    portal = Portal(deps)
    for router in (
        patient_views.build_router(portal),
        pages.build_router(portal),
        pro_views.build_router(portal),
        admin_views.build_router(portal),
    ):
        app.include_router(router)
    app.router.routes.extend(asset_routes(portal.assets))
    error_pages.install_error_pages(app, portal)

    async def refuse(scope: Scope, status_code: int) -> Response:
        return await error_pages.refusal(portal, scope, status_code)

    app.add_middleware(
        CsrfMiddleware,
        tokens=CsrfTokens(deps.csrf_key),
        refuse=refuse,
        secure_cookie=deps.production,
        exempt_prefixes=deps.csrf_exempt,
    )
    return portal
