"""The medical profile's summary, ``/profil-medical/synthese``: the person picks the sections,
Carnet builds the PDF and saves it into their documents (category "Synthèse médicale"), then
says so with a link to it. ``/profil-medical/synthese/ips.json`` downloads the International
Patient Summary (FHIR) of the space.

Everything goes through ``SpacePages``: the person acting, a Repository in one transaction.
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.core.errors import ClientError
from carnet.summary import service as summary_service
from carnet.summary.errors import NoSectionChosen
from carnet.summary.schemas import Section
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient.space import Acting, SpacePages
from carnet.web.rendering import Portal

PAGE: Final = "/profil-medical/synthese"
IPS: Final = "/profil-medical/synthese/ips.json"
TEMPLATE: Final = "patient/summary/form.html"
MASKED: Final = "MASQUE_PS"
_DOCUMENT_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
LABELS: Final[dict[Section, str]] = {
    Section.VACCINES: N_("Vaccinations"),
    Section.ALLERGIES: N_("Allergies"),
    Section.DISEASES: N_("Maladies et sujets de santé"),
    Section.TREATMENTS: N_("Traitements"),
    Section.MEASURES: N_("Mesures (dernière valeur de chacune)"),
    Section.HOSPITALIZATIONS: N_("Hospitalisations"),
    Section.FAMILY_HISTORY: N_("Antécédents familiaux"),
    Section.LIFESTYLES: N_("Habitudes de vie"),
    Section.ENTOURAGE_CONTACT: N_("Entourage"),
    Section.WISHES: N_("Volontés et directives anticipées"),
    Section.HEALTH_PROFESSIONALS: N_("Professionnels de santé"),
    Section.ADMINISTRATIVE_DOCUMENTS: N_("Pièces administratives"),
    Section.DISABILITIES: N_("Handicaps"),
    Section.BLOOD_GROUP: N_("Groupe sanguin"),
}
NONE_CHOSEN: Final = N_("Choisissez au moins une rubrique à inclure dans la synthèse.")
UNKNOWN: Final = N_("Cette rubrique n’existe pas : choisissez parmi celles proposées.")
NOT_SAVED: Final = N_(
    "La synthèse n’a pas pu être enregistrée dans vos documents. Réessayez plus tard."
)


def summary_context(
    *, form: Form, chosen: frozenset[str], saved: dict[str, str] | None = None
) -> dict[str, Any]:
    """The page: the sections to tick (``chosen`` ticked), and the summary just saved."""
    return {
        "title": N_("Synthèse du profil médical"),
        "form": form,
        "sections": [
            {"value": s.value, "label": LABELS[s], "checked": s.value in chosen} for s in Section
        ],
        "saved": saved,
        "page_path": PAGE,
        "ips_path": IPS,
    }


class SummaryPages:
    """The handlers (one instance per portal): parse, one service call, render."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.space = SpacePages(portal)

    def _render(self, request: Request, context: dict[str, Any], status: int = 200) -> Response:
        return self.portal.render(request, TEMPLATE, context, status_code=status)

    async def page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        saved = await self._saved(acting, request.query_params.get("document", ""))
        everything = frozenset(s.value for s in Section)
        return self._render(request, summary_context(form=Form(), chosen=everything, saved=saved))

    async def _saved(self, acting: Acting, document_id: str) -> dict[str, str] | None:
        """The summary named by the redirect after saving, if it is one the person may see."""
        if not _DOCUMENT_ID.match(document_id):
            return None

        def read(repo: Any, _db: Any) -> dict[str, str] | None:
            try:
                stored = repo.read("DocumentReference", document_id)
            except ClientError:
                return None
            labels = orjson.loads(stored.body).get("meta", {}).get("security") or []
            masked = any(label.get("code") == MASKED for label in labels)
            return {"id": stored.id, "masked": "yes" if masked else ""}

        return await self.space.run(acting, read)

    async def build(self, request: Request) -> Response:
        """Build the PDF of the sections ticked, save it, and come back to say where it is."""
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            names = [v for v in data.getlist("sections") if isinstance(v, str)]
        form = Form(values={})
        try:
            sections = summary_service.parse_sections(names)
        except NoSectionChosen:
            form.add_error("sections", NONE_CHOSEN, anchor="section-VACCINES")
        except ClientError:
            form.add_error("sections", UNKNOWN, anchor="section-VACCINES")
        if not form.valid:
            context = summary_context(form=form, chosen=frozenset(names))
            return self._render(request, context, 400)
        now = self.space.record.clock.now()
        jobs = self.portal.deps.jobs
        try:
            saved = await self.space.run(
                acting,
                lambda repo, db: summary_service.save_pdf(
                    repo, db=db, patient_id=acting.patient_id, sections=sections, now=now, jobs=jobs
                ),
            )
        except ClientError:
            form.add_error("sections", NOT_SAVED, anchor="section-VACCINES")
            context = summary_context(form=form, chosen=frozenset(names))
            return self._render(request, context, 422)
        return RedirectResponse(f"{PAGE}?document={saved.document_id}", status_code=303)

    async def ips(self, request: Request) -> Response:
        """The International Patient Summary of the space, as a FHIR JSON download."""
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        now = self.space.record.clock.now()
        base_url = self.portal.deps.fhir_base_url
        bundle = await self.space.run(
            acting,
            lambda repo, _db: summary_service.international_summary(
                repo, patient_id=acting.patient_id, base_url=base_url, now=now
            ),
        )
        return Response(
            orjson.dumps(bundle),
            media_type="application/fhir+json",
            headers={
                "content-disposition": 'attachment; filename="synthese-ips.json"',
                "cache-control": "no-store",
            },
        )


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = SummaryPages(portal)
    router.add_api_route(PAGE, pages.page, methods=["GET"], include_in_schema=False)
    router.add_api_route(PAGE, pages.build, methods=["POST"], include_in_schema=False)
    router.add_api_route(IPS, pages.ips, methods=["GET"], include_in_schema=False)
    return router
