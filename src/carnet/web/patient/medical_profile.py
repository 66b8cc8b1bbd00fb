"""The patient's medical profile: ``/profil-medical`` (every section at a glance) and
``/profil-medical/{section}`` (its items, the add form, edit, delete, "je ne suis pas
concerné(e)").

Everything goes through ``SpacePages``: the person acting reads and writes through the record's
Repository, in one transaction, with ``carnet.profile.service``. A refused entry re-shows the
form with its message and a 4xx; nothing is stored. Successful posts redirect (PRG).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.profile import service as profile_service
from carnet.profile.errors import InvalidProfileEntry, ItemsPresent, ProfileItemNotFound
from carnet.profile.schemas import NOT_CONCERNABLE, Section
from carnet.record.service import Repository
from carnet.web.error_pages import render_error
from carnet.web.forms import Form
from carnet.web.patient import medical_profile_forms as forms
from carnet.web.patient import medical_profile_views as views
from carnet.web.patient.space import Acting, SpacePages
from carnet.web.rendering import Portal

INDEX: Final = "/profil-medical"
_PARIS: Final = ZoneInfo("Europe/Paris")


class ProfilePages:
    """The handlers (one instance per portal): parse, one service call, render."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.space = SpacePages(portal)

    def _today(self) -> date:
        now: datetime = self.space.record.clock.now()
        return now.astimezone(_PARIS).date()

    async def index(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        states = await self.space.run(
            acting, lambda repo, _db: profile_service.overview(repo, patient_id=acting.patient_id)
        )
        context = views.overview_context(states)
        return self.portal.render(request, "patient/profile/index.html", context)

    def _section(self, request: Request) -> Section | None:
        return forms.SLUGS.get(request.path_params["slug"])

    async def section_page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        section = self._section(request)
        if section is None:
            return render_error(self.portal, request, 404)
        notice = next((forms.NOTICES[k] for k in forms.NOTICES if k in request.query_params), "")
        return await self._render_section(request, acting, section, None, notice=notice)

    async def _render_section(
        self,
        request: Request,
        acting: Acting,
        section: Section,
        form: Form | None,
        *,
        notice: str = "",
        problem: str = "",
        status: int = 200,
    ) -> Response:
        pid = acting.patient_id

        def load(repo: Repository, _db: Any) -> dict[str, Any]:
            return views.load_section(repo, patient_id=pid, section=section)

        loaded = await self.space.run(acting, load)
        context = views.section_context(
            section, form=form, notice=notice, problem=problem, **loaded
        )
        return self.portal.render(
            request, "patient/profile/section.html", context, status_code=status
        )

    async def add(self, request: Request) -> Response:
        """Add an item (the lifestyle form saves its six answers at once)."""
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        section = self._section(request)
        if section is None:
            return render_error(self.portal, request, 404)
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, forms.field_names(section))
        values, pid, today = dict(form.values), acting.patient_id, self._today()

        def write(repo: Repository, _db: Any) -> None:
            if section is Section.LIFESTYLES:
                profile_service.save_lifestyles(repo, patient_id=pid, values=values, today=today)
            else:
                profile_service.create_item(
                    repo, patient_id=pid, section=section, values=values, today=today
                )

        try:
            await self.space.run(acting, write)
        except InvalidProfileEntry as exc:
            forms.add_refusal(form, section, exc)
            return await self._render_section(request, acting, section, form, status=400)
        return _back(section, "ajoute")

    async def edit_page(self, request: Request) -> Response:
        return await self._edit(request, submitted=False)

    async def edit(self, request: Request) -> Response:
        return await self._edit(request, submitted=True)

    async def _edit(self, request: Request, *, submitted: bool) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        section = self._section(request)
        item_id = request.path_params["item_id"]
        if section is None or section in (Section.LIFESTYLES, Section.BLOOD_GROUP):
            return render_error(self.portal, request, 404)
        form = None
        if submitted:
            async with request.form(max_files=0) as data:
                form = Form.from_submission(data, forms.field_names(section))
        pid, today = acting.patient_id, self._today()

        def work(repo: Repository, _db: Any) -> dict[str, Any] | None:
            if form is not None:
                profile_service.update_item(
                    repo,
                    patient_id=pid,
                    section=section,
                    item_id=item_id,
                    values=form.values,
                    today=today,
                )
                return None
            return views.load_edit(repo, patient_id=pid, section=section, item_id=item_id)

        try:
            loaded = await self.space.run(acting, work)
        except ProfileItemNotFound:
            return render_error(self.portal, request, 404)
        except InvalidProfileEntry as exc:
            assert form is not None
            forms.add_refusal(form, section, exc)
            loaded = await self.space.run(
                acting,
                lambda repo, _db: views.load_edit(
                    repo, patient_id=pid, section=section, item_id=item_id
                ),
            )
            context = views.edit_context(section, form=form, **loaded)
            return self.portal.render(
                request, "patient/profile/edit.html", context, status_code=400
            )
        if loaded is None:
            return _back(section, "modifie")
        context = views.edit_context(section, form=None, **loaded)
        return self.portal.render(request, "patient/profile/edit.html", context)

    async def delete(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        section = self._section(request)
        if section is None:
            return render_error(self.portal, request, 404)
        item_id, pid = request.path_params["item_id"], acting.patient_id
        try:
            await self.space.run(
                acting,
                lambda repo, _db: profile_service.delete_item(
                    repo, patient_id=pid, section=section, item_id=item_id
                ),
            )
        except ProfileItemNotFound:
            return render_error(self.portal, request, 404)
        return _back(section, "supprime")

    async def not_concerned(self, request: Request) -> Response:
        """Declare "je ne suis pas concerné(e)", or withdraw the declaration."""
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        section = self._section(request)
        if section is None or section not in NOT_CONCERNABLE:
            return render_error(self.portal, request, 404)
        async with request.form(max_files=0) as data:
            withdraw = data.get("action") == "retirer"
        pid, today = acting.patient_id, self._today()

        def work(repo: Repository, _db: Any) -> None:
            if withdraw:
                profile_service.withdraw_not_concerned(repo, patient_id=pid, section=section)
            else:
                profile_service.declare_not_concerned(
                    repo, patient_id=pid, section=section, today=today
                )

        try:
            await self.space.run(acting, work)
        except ItemsPresent:
            return await self._render_section(
                request, acting, section, None, problem=forms.ITEMS_PRESENT, status=409
            )
        return _back(section, "retire" if withdraw else "non-concerne")


def _back(section: Section, notice: str) -> Response:
    return RedirectResponse(f"{INDEX}/{forms.SLUG_OF[section]}?{notice}", status_code=303)


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = ProfilePages(portal)
    section = INDEX + "/{slug}"
    item = section + "/{item_id}"
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (INDEX, pages.index, "GET"),
        (section, pages.section_page, "GET"),
        (section, pages.add, "POST"),
        (section + "/non-concerne", pages.not_concerned, "POST"),
        (item + "/modifier", pages.edit_page, "GET"),
        (item + "/modifier", pages.edit, "POST"),
        (item + "/supprimer", pages.delete, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
