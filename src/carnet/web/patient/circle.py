"""The person's circle and wishes (« Entourage et volontés »): ``/volontes`` (contacts, the
trusted person, organ donation, advance directives at a glance) and ``/volontes/don-organes``
(what presumed consent means, where a refusal is registered, and the person's statement that
they were informed). Contacts are in ``circle_contacts``, advance directives in
``circle_directives``.

Everything goes through ``SpacePages``: the person acting reads and writes through the record's
Repository, in one transaction (``carnet.wishes.service``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.record.service import Repository
from carnet.web.i18n import N_
from carnet.web.patient import circle_contacts, circle_directives
from carnet.web.patient import circle_text as text
from carnet.web.patient.circle_pages import DONATION, INDEX, CirclePages, done, notice
from carnet.web.rendering import Portal
from carnet.wishes import service as wishes

REGISTER_URL: Final = "https://www.registrenationaldesrefus.fr"


class OverviewPages(CirclePages):
    """``/volontes`` and ``/volontes/don-organes``."""

    async def index(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        today = self.today()
        overview = await self.space.run(
            acting,
            lambda repo, _db: wishes.overview(repo, patient_id=acting.patient_id, today=today),
        )
        context = {
            "title": N_("Entourage et volontés"),
            "overview": overview,
            "notice": notice(request),
            "roles": text.ROLES,
            "relations": text.RELATIONS,
        }
        return self.render(request, "overview", context)

    async def donation(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        statement = await self.space.run(
            acting, lambda repo, _db: wishes.donation_statement(repo, patient_id=acting.patient_id)
        )
        context = {
            "title": N_("Don d’organes"),
            "statement": statement,
            "notice": notice(request),
            "register_url": REGISTER_URL,
        }
        return self.render(request, "donation", context)

    async def state_donation(self, request: Request) -> Response:
        """Record the statement (box ticked) or take it back (box left empty)."""
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0, max_fields=10) as data:
            informed = data.get("informe") == "oui"
        today = self.today()

        def work(repo: Repository, _db: Any) -> None:
            if informed:
                wishes.state_informed(repo, patient_id=acting.patient_id, today=today)
            else:
                wishes.withdraw_statement(repo, patient_id=acting.patient_id)

        await self.space.run(acting, work)
        return done(DONATION, "don-organes" if informed else "don-organes-retire")


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = OverviewPages(portal)
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (INDEX, pages.index, "GET"),
        (DONATION, pages.donation, "GET"),
        (DONATION, pages.state_donation, "POST"),
        *circle_contacts.routes(portal),
        *circle_directives.routes(portal),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
