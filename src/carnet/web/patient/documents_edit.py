"""Changing the title, date and category of a document the person added
(``/documents/{id}/modifier``). A professional's document offers no such form, and the service
refuses the change (``ProfessionalDocument``) if it is posted anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import Response

from carnet.documents import errors
from carnet.documents import service as documents
from carnet.documents.schemas import DocumentView
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient.documents_forms import BAD_DATE, FIELD_OF, parse_date
from carnet.web.patient.documents_pages import done

if TYPE_CHECKING:
    from carnet.web.patient.documents import DocumentsPages

FIELDS: Final = ("titre", "date", "categorie")
Route = tuple[str, Callable[[Request], Any], str]


class EditPage:
    def __init__(self, pages: DocumentsPages) -> None:
        self.pages = pages

    async def form(self, request: Request) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        document_id = request.path_params["document_id"]
        try:
            view = await self.pages.work(
                acting,
                lambda repo, _db: documents.document_detail(
                    repo, patient_id=acting.patient_id, document_id=document_id
                ),
            )
        except errors.DocumentRefused as refused:
            return self.pages.refused(request, refused)
        if not view.capabilities.can_update_title:
            return self.pages.refused(request, errors.ProfessionalDocument())
        values = {"titre": view.title, "date": view.date.isoformat(), "categorie": view.category}
        return self._page(request, view.id, Form(values=values), 200)

    def _page(self, request: Request, document_id: str, form: Form, status: int) -> Response:
        context = {"title": N_("Modifier le document"), "form": form, "document_id": document_id}
        return self.pages.page(request, "edit", context, status)

    async def save(self, request: Request) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        document_id = request.path_params["document_id"]
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, FIELDS)
        day = parse_date(form.values["date"])
        if day is None:
            form.add_error("date", BAD_DATE)
            return self._page(request, document_id, form, 400)

        def change(repo: Any, _db: Any) -> DocumentView:
            return documents.update_details(
                repo,
                patient_id=acting.patient_id,
                document_id=document_id,
                title=form.values["titre"],
                category=form.values["categorie"],
                document_date=day,
            )

        try:
            await self.pages.work(acting, change)
        except (errors.ProfessionalDocument, errors.DocumentNotFound) as refused:
            return self.pages.refused(request, refused)
        except errors.DocumentRefused as refused:
            form.add_error(FIELD_OF.get(type(refused), "titre"), refused.message)
            return self._page(request, document_id, form, refused.status)
        return done(f"/documents/{document_id}", "modifie")


def routes(pages: DocumentsPages) -> list[Route]:
    page = EditPage(pages)
    return [
        ("/documents/{document_id}/modifier", page.form, "GET"),
        ("/documents/{document_id}/modifier", page.save, "POST"),
    ]
