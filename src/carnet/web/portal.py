"""Assembles the portal onto the app: pages, sign-in, static files, error pages, sessions and
CSRF protection.

The app factory calls ``install_portal`` with what the web area needs (``PortalDeps``); nothing
here reads settings or the runtime.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import Response
from starlette.types import Scope

from carnet.web import error_pages, federation, pages
from carnet.web.accounts import changes as account_changes
from carnet.web.accounts import recovery as account_recovery
from carnet.web.accounts import security as account_security
from carnet.web.accounts import views as account_views
from carnet.web.accounts.middleware import SessionMiddleware
from carnet.web.admin import enrollment as admin_enrollment
from carnet.web.admin import enrollment_people as admin_enrollment_people
from carnet.web.admin import views as admin_views
from carnet.web.assets import asset_routes
from carnet.web.csrf import CsrfMiddleware, CsrfTokens
from carnet.web.enrollment import activation as enrollment_activation
from carnet.web.enrollment import closure as enrollment_closure
from carnet.web.enrollment import families as enrollment_families
from carnet.web.enrollment import opposition as enrollment_opposition
from carnet.web.patient import circle as patient_circle
from carnet.web.patient import documents as patient_documents
from carnet.web.patient import measures as patient_measures
from carnet.web.patient import medical_profile as patient_medical_profile
from carnet.web.patient import my_data as patient_my_data
from carnet.web.patient import notifications as patient_notifications
from carnet.web.patient import search as patient_search
from carnet.web.patient import summary as patient_summary
from carnet.web.patient import vaccinations as patient_vaccinations
from carnet.web.patient import views as patient_views
from carnet.web.pro import views as pro_views
from carnet.web.rendering import Portal, PortalDeps


def install_portal(app: FastAPI, deps: PortalDeps) -> Portal:
    """Add the portal's routes, error pages and CSRF middleware to ``app``."""
    portal = Portal(deps)
    if deps.accounts is not None:
        app.include_router(account_views.build_router(portal, deps.accounts))
        app.include_router(account_security.build_router(portal, deps.accounts))
        app.include_router(account_changes.build_router(portal, deps.accounts))
        app.include_router(account_recovery.build_router(portal, deps.accounts))
    if deps.federation is not None:
        app.include_router(federation.build_router(portal, deps.federation))
    for router in (
        patient_views.build_router(portal),
        # Before the documents' /documents/{id}: /documents/recherche is the search page.
        patient_search.build_router(portal),
        patient_documents.build_router(portal),
        # Before the profile's /profil-medical/{section}: /profil-medical/synthese is the summary.
        patient_summary.build_router(portal),
        patient_medical_profile.build_router(portal),
        patient_measures.build_router(portal),
        patient_vaccinations.build_router(portal),
        patient_circle.build_router(portal),
        patient_notifications.build_router(portal),
        patient_my_data.build_router(portal),
        pages.build_router(portal),
        pro_views.build_router(portal),
        admin_views.build_router(portal),
        enrollment_activation.build_router(portal),
        enrollment_closure.build_router(portal),
        enrollment_families.build_router(portal),
        enrollment_opposition.build_router(portal),
        admin_enrollment.build_router(portal),
        admin_enrollment_people.build_router(portal),
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
        # Room for an upload of the largest size allowed, plus the form's other fields.
        max_body_bytes=deps.documents_max_upload_bytes + 256 * 1024,
    )
    if deps.accounts is not None and deps.transaction is not None:
        # Outside the CSRF middleware: the CSRF tokens bind to the session id it finds.
        app.add_middleware(
            SessionMiddleware,
            accounts=deps.accounts,
            transaction=deps.transaction,
            cookies=deps,
            skip_prefixes=(*deps.csrf_exempt, "/static/", "/healthz", "/readyz"),
        )
    return portal
