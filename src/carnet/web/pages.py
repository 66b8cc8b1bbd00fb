"""Pages of the whole site: accessibility statement, legal notice, personal data, site map."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.web import shell
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

ACCESSIBILITY_STATEMENT_DATE = date(2026, 11, 25)
"""When the statement was last reviewed (shown in the visitor's language)."""


def accessibility_context() -> dict[str, Any]:
    """The RGAA statement: no audit yet, so the honest status is « non conforme »."""
    return {
        "title": N_("Déclaration d’accessibilité"),
        "status": N_("non conforme"),
        "audited": False,
        "statement_date": ACCESSIBILITY_STATEMENT_DATE,
    }


def legal_notice_context() -> dict[str, Any]:
    return {"title": N_("Mentions légales")}


def personal_data_context() -> dict[str, Any]:
    return {"title": N_("Données personnelles")}


def sitemap_context() -> dict[str, Any]:
    """Every page of the portal, grouped by area."""
    return {
        "title": N_("Plan du site"),
        "sections": [
            {
                "title": N_("Espace patient"),
                "links": list(shell.NAVIGATION["patient"]),
            },
            {"title": N_("Espace professionnel"), "links": list(shell.NAVIGATION["pro"])},
            {"title": N_("Administration"), "links": list(shell.NAVIGATION["admin"])},
            {"title": N_("Informations"), "links": list(shell.FOOTER_LINKS)},
        ],
    }


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    pages = {
        "/accessibilite": ("pages/accessibility.html", accessibility_context),
        "/mentions-legales": ("pages/legal_notice.html", legal_notice_context),
        "/donnees-personnelles": ("pages/personal_data.html", personal_data_context),
        "/plan-du-site": ("pages/sitemap.html", sitemap_context),
    }
    for path, (template, context) in pages.items():
        router.add_api_route(
            path, _page(portal, template, context), methods=["GET"], include_in_schema=False
        )
    return router


def _page(portal: Portal, template: str, context: Any) -> Any:
    async def page(request: Request) -> Response:
        return portal.render(request, template, context())

    return page
