"""The patient's measures: ``/mesures`` (a tile per measure, its last value), ``/mesures/{code}``
(chart, table, history page by page, add form, target form) and ``/mesures/croissance``
(a child's growth on the WHO curves).

Everything goes through ``SpacePages``: the person acting (the holder, or a parent in a
child's profile) reads and writes through the record's Repository, in one transaction. A
refused value re-shows the form with its message and a 400; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.core.errors import ClientError
from carnet.measures import service as measures_service
from carnet.measures.errors import InvalidMeasure, MeasureNotFound
from carnet.record.service import Repository
from carnet.web.error_pages import render_error
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient import measures_charts as charts
from carnet.web.patient import measures_forms as forms
from carnet.web.patient import measures_text as text
from carnet.web.patient.space import Acting, SpacePages
from carnet.web.rendering import Portal

INDEX = "/mesures"
GROWTH = "/mesures/croissance"
PAGE_SIZE = 10


class MeasuresPages:
    """The handlers (one instance per portal): parse, one service call, render."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.space = SpacePages(portal)

    def _now(self) -> datetime:
        return self.space.record.clock.now()

    async def index(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting

        def load(repo: Repository, _db: Any) -> tuple[Any, Any]:
            pid = acting.patient_id
            return (
                measures_service.latest_measures(repo, patient_id=pid),
                measures_service.child_of(repo, patient_id=pid),
            )

        latest, child = await self.space.run(acting, load)
        context = {
            "title": N_("Mes mesures"),
            "tiles": forms.tiles(latest),
            "show_growth": self._is_child(child),
            "number": forms.number,
        }
        return self.portal.render(request, "patient/measures/index.html", context)

    def _is_child(self, child: measures_service.Child | None) -> bool:
        if child is None:
            return False
        age = measures_service.age_in_months(child.birth, self._now().date())
        return 0 <= age < measures_service.CHILD_MONTHS

    async def growth_page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        today = self._now().astimezone(forms.PARIS).date()

        def load(repo: Repository, _db: Any) -> tuple[Any, list[Any]]:
            child = measures_service.child_of(repo, patient_id=acting.patient_id)
            if child is None:
                return None, []
            made = [
                measures_service.growth_chart(
                    repo, patient_id=acting.patient_id, indicator=ind, child=child, today=today
                )
                for ind in measures_service.INDICATORS
            ]
            return child, made

        child, made = await self.space.run(acting, load)
        context = {
            "title": N_("Courbes de croissance"),
            "child": child,
            "charts": [
                {
                    "growth": g,
                    "drawn": charts.growth_chart(g),
                    "years": charts.in_years(g),
                    "slug": measures_service.INDICATORS[g.indicator],
                }
                for g in made
            ],
            "svg": charts.svg,
            "names": text.NAMES,
            "units": text.UNITS,
            "measure_units": {slug: m.unit for slug, m in measures_service.BY_SLUG.items()},
            "number": forms.number,
        }
        return self.portal.render(request, "patient/measures/growth.html", context)

    async def measure_page(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        if slug not in measures_service.BY_SLUG:
            return render_error(self.portal, request, 404)
        cursor = request.query_params.get("page") or None
        notice = next((forms.NOTICES[k] for k in forms.NOTICES if k in request.query_params), "")
        form = forms.blank_measure_form(self._now())
        return await self._render_measure(
            request, acting, slug, form, Form(), cursor=cursor, notice=notice
        )

    async def _render_measure(
        self,
        request: Request,
        acting: Acting,
        slug: str,
        form: Form,
        target_form: Form,
        *,
        cursor: str | None = None,
        notice: str = "",
        status: int = 200,
    ) -> Response:
        pid = acting.patient_id

        def load(repo: Repository, _db: Any) -> dict[str, Any]:
            try:
                page = measures_service.measure_page(
                    repo, patient_id=pid, slug=slug, count=PAGE_SIZE, cursor=cursor
                )
            except ClientError:  # a stale or altered page link: show the first page
                page = measures_service.measure_page(
                    repo, patient_id=pid, slug=slug, count=PAGE_SIZE
                )
            return {
                "page": page,
                "series": measures_service.measure_series(repo, patient_id=pid, slug=slug),
                "target": measures_service.target_of(repo, patient_id=pid, slug=slug),
            }

        loaded = await self.space.run(acting, load)
        if not target_form.values and loaded["target"] is not None:
            target_form = Form(values=_target_values(loaded["target"]))
        context = forms.measure_context(
            slug=slug, form=form, target_form=target_form, cursor=cursor, notice=notice, **loaded
        )
        context["drawn"] = charts.measure_chart(loaded["series"], loaded["target"])
        context["svg"] = charts.svg
        return self.portal.render(
            request, "patient/measures/measure.html", context, status_code=status
        )

    async def add(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        if slug not in measures_service.BY_SLUG:
            return render_error(self.portal, request, 404)
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, forms.MEASURE_FIELDS)
        now = self._now()
        when = forms.taken_at(form, now)
        if when is None:
            return await self._render_measure(request, acting, slug, form, Form(), status=400)
        values = form.values

        def write(repo: Repository, _db: Any) -> None:
            measures_service.add_measure(
                repo,
                patient_id=acting.patient_id,
                slug=slug,
                value=values["valeur"],
                value2=values["valeur2"],
                unit=values["unite"],
                moment=values["moment"],
                days=values["jours"],
                comment=values["commentaire"],
                when=when,
                now=now,
            )

        try:
            await self.space.run(acting, write)
        except InvalidMeasure as exc:
            field, message = text.refusal(exc, slug=slug, unit=values["unite"])
            form.add_error(field, message)
            return await self._render_measure(request, acting, slug, form, Form(), status=400)
        return RedirectResponse(f"/mesures/{slug}?enregistre=1", status_code=303)

    async def set_target(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        if slug not in measures_service.BY_SLUG:
            return render_error(self.portal, request, 404)
        async with request.form(max_files=0) as data:
            target_form = Form.from_submission(data, forms.TARGET_FIELDS)
        low, high = target_form.values["objectif_bas"], target_form.values["objectif_haut"]
        try:
            await self.space.run(
                acting,
                lambda repo, _db: measures_service.set_target(
                    repo, patient_id=acting.patient_id, slug=slug, low=low, high=high
                ),
            )
        except InvalidMeasure as exc:
            field, message = text.refusal(exc, slug=slug)
            target_form.add_error(field, message)
            blank = forms.blank_measure_form(self._now())
            return await self._render_measure(request, acting, slug, blank, target_form, status=400)
        return RedirectResponse(f"/mesures/{slug}?objectif=1", status_code=303)

    async def delete(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        measure_id = request.path_params["measure_id"]
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        try:
            deleted = await self.space.run(
                acting,
                lambda repo, _db: measures_service.delete_measure(
                    repo, patient_id=acting.patient_id, measure_id=measure_id
                ),
            )
        except MeasureNotFound:
            return render_error(self.portal, request, 404)
        if deleted != slug:
            slug = deleted
        return RedirectResponse(f"/mesures/{slug}?supprime=1", status_code=303)


def _target_values(target: Any) -> dict[str, str]:
    def shown(value: float | None) -> str:
        return "" if value is None else f"{value:g}".replace(".", ",")

    return {"objectif_bas": shown(target.low), "objectif_haut": shown(target.high)}


def build_router(portal: Portal) -> APIRouter:
    """The measures pages (none when the portal has no record or no sign-in)."""
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = MeasuresPages(portal)
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (INDEX, pages.index, "GET"),
        (GROWTH, pages.growth_page, "GET"),
        ("/mesures/{slug}", pages.measure_page, "GET"),
        ("/mesures/{slug}", pages.add, "POST"),
        ("/mesures/{slug}/objectif", pages.set_target, "POST"),
        ("/mesures/{slug}/{measure_id}/suppression", pages.delete, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
