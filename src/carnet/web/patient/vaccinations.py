"""The patient's vaccinations: the carnet and where they stand with the French schedule
(``/vaccinations``), recording one (``/vaccinations/ajouter``), and one vaccination, to read,
correct or delete (``/vaccinations/{id}``).

Thin handlers: read the form (``vaccinations_forms``), call one ``vaccination.service``
function through ``SpacePages`` (the acting person's Repository, one transaction), render or
redirect. Bad input is a form message and a 400, a professional's validated entry a 403, an
unknown id a 404; nothing is stored on any of them. The portal never offers a professional's
validation.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.core.errors import ClientError
from carnet.vaccination import service as vaccination_service
from carnet.vaccination.errors import (
    InvalidVaccination,
    VaccinationLocked,
    VaccinationNotFound,
)
from carnet.vaccination.referential import referential
from carnet.web.error_pages import render_error
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient import vaccinations_forms as forms
from carnet.web.patient.space import Acting, SpacePages
from carnet.web.rendering import Portal

_PARIS: Final = ZoneInfo("Europe/Paris")
_TEMPLATES: Final = "patient/vaccinations/"


class VaccinationPages(SpacePages):
    """The handlers (one instance per portal)."""

    def today(self) -> date:
        """Today in France: a vaccination given this evening is not "in the future"."""
        return self.record.clock.now().astimezone(_PARIS).date()

    def _render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        return self.portal.render(request, _TEMPLATES + name, context, status_code=status)

    async def carnet(self, request: Request) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        today = self.today()

        def load(repo: Any, _db: Any) -> dict[str, Any]:
            pid = acting.patient_id
            return forms.list_context(
                vaccinations=vaccination_service.list_vaccinations(repo, patient_id=pid),
                schedule=vaccination_service.schedule_for(repo, patient_id=pid, today=today),
                notice=request.query_params.get("fait", ""),
                for_someone_else=acting.for_someone_else,
            )

        return self._render(request, "list.html", await self.run(acting, load))

    def _add_context(self, form: Form) -> dict[str, Any]:
        return forms.form_context(
            form=form,
            vaccines=vaccination_service.vaccines(),
            today=self.today(),
            title=N_("Ajouter une vaccination"),
            action=forms.ADD,
        )

    async def add_page(self, request: Request) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        return self._render(request, "add.html", self._add_context(Form()))

    async def add(self, request: Request) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            form, entry = forms.read_entry(data)
        if entry is None:
            return self._render(request, "add.html", self._add_context(form), 400)
        today = self.today()
        try:
            made = await self.run(
                acting,
                lambda repo, _db: vaccination_service.record_vaccination(
                    repo, patient_id=acting.patient_id, entry=entry, today=today
                ),
            )
        except InvalidVaccination as exc:
            forms.add_refusal(form, exc)
            return self._render(request, "add.html", self._add_context(form), 400)
        return RedirectResponse(f"{forms.LIST}/{made.id}?fait=ajoutee", status_code=303)

    async def _detail(
        self,
        request: Request,
        acting: Acting,
        vaccination_id: str,
        *,
        form: Form | None = None,
        status: int = 200,
        locked: bool = False,
    ) -> Response:
        def load(repo: Any, _db: Any) -> Any:
            return vaccination_service.get_vaccination(
                repo, patient_id=acting.patient_id, vaccination_id=vaccination_id
            )

        try:
            vaccination = await self.run(acting, load)
        except VaccinationNotFound:
            return render_error(self.portal, request, 404)
        shown = form or Form(values=forms.values_of(vaccination))
        context = forms.detail_context(
            vaccination=vaccination,
            form=shown,
            vaccines=vaccination_service.vaccines(),
            today=self.today(),
            diseases=[referential().disease_label(d) for d in vaccination.diseases],
            notice=request.query_params.get("fait", ""),
            locked=locked,
        )
        return self._render(request, "detail.html", context, status)

    async def detail(self, request: Request, vaccination_id: str) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        return await self._detail(request, acting, vaccination_id)

    async def change(self, request: Request, vaccination_id: str) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            form, entry = forms.read_entry(data)
        if entry is None:
            return await self._detail(request, acting, vaccination_id, form=form, status=400)
        today = self.today()
        try:
            await self.run(
                acting,
                lambda repo, _db: vaccination_service.update_vaccination(
                    repo,
                    patient_id=acting.patient_id,
                    vaccination_id=vaccination_id,
                    entry=entry,
                    today=today,
                ),
            )
        except InvalidVaccination as exc:
            forms.add_refusal(form, exc)
            return await self._detail(request, acting, vaccination_id, form=form, status=400)
        except ClientError as exc:
            return await self._refused(request, acting, vaccination_id, exc)
        return RedirectResponse(f"{forms.LIST}/{vaccination_id}?fait=modifiee", status_code=303)

    async def delete(self, request: Request, vaccination_id: str) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        try:
            await self.run(
                acting,
                lambda repo, _db: vaccination_service.delete_vaccination(
                    repo, patient_id=acting.patient_id, vaccination_id=vaccination_id
                ),
            )
        except ClientError as exc:
            return await self._refused(request, acting, vaccination_id, exc)
        return RedirectResponse(f"{forms.LIST}?fait=supprimee", status_code=303)

    async def _refused(
        self, request: Request, acting: Acting, vaccination_id: str, error: ClientError
    ) -> Response:
        if isinstance(error, VaccinationLocked):
            return await self._detail(request, acting, vaccination_id, status=403, locked=True)
        if isinstance(error, VaccinationNotFound):
            return render_error(self.portal, request, 404)
        raise error


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = VaccinationPages(portal)
    add = router.add_api_route
    add(forms.LIST, pages.carnet, methods=["GET"], include_in_schema=False)
    add(forms.ADD, pages.add_page, methods=["GET"], include_in_schema=False)
    add(forms.ADD, pages.add, methods=["POST"], include_in_schema=False)
    path = forms.LIST + "/{vaccination_id}"
    add(path, pages.detail, methods=["GET"], include_in_schema=False)
    add(path, pages.change, methods=["POST"], include_in_schema=False)
    add(path + "/supprimer", pages.delete, methods=["POST"], include_in_schema=False)
    return router
