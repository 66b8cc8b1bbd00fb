"""The patient's documents (issue 6): the timeline with its filters, the upload form, the
viewer and the content itself.

Handlers are thin: parse, one service call in the person's space (``SpacePages``), render.
The other pages live beside this one: ``documents_actions`` (mask, pin, delete, move) and
``documents_folders`` (folders, default confidentiality).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from carnet.documents import errors
from carnet.documents import service as documents
from carnet.documents.schemas import DocumentContent, DocumentFilters, DocumentPage, DocumentView
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient import documents_actions, documents_edit, documents_folders
from carnet.web.patient.documents_forms import FIELD_OF, Upload, filters_of, read_upload
from carnet.web.patient.documents_pages import DocumentsBase, done, notice_of
from carnet.web.patient.documents_viewer import content_response, viewer_context
from carnet.web.rendering import Portal

LIST: Final = "/documents"
ADD: Final = "/documents/ajouter"


def timeline(page: DocumentPage) -> list[tuple[Any, list[DocumentView]]]:
    """The page's documents grouped by their date (newest first, as listed)."""
    groups: list[tuple[Any, list[DocumentView]]] = []
    for view in page.items:
        if groups and groups[-1][0] == view.date:
            groups[-1][1].append(view)
        else:
            groups.append((view.date, [view]))
    return groups


def list_context(
    page: DocumentPage,
    *,
    values: dict[str, str],
    filters: DocumentFilters,
    notice: str = "",
    form: Form | None = None,
) -> dict[str, Any]:
    return {
        "title": N_("Mes documents"),
        "page": page,
        "groups": timeline(page),
        "values": values,
        "filtered": filters.any,
        "folders": {f.id: f.name for f in page.folders},
        "notice": notice,
        "form": form or Form(),
    }


def upload_context(form: Form, folders: dict[str, str]) -> dict[str, Any]:
    return {"title": N_("Ajouter un document"), "form": form, "folders": folders}


class DocumentsPages(DocumentsBase):
    async def list_page(self, request: Request) -> Response:
        values = {
            k: v for k, v in request.query_params.items() if k in ("categorie", "dossier", "page")
        }
        return await self._list(request, values, notice=notice_of(request))

    async def filter(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            values = {k: v for k, v in data.items() if isinstance(v, str)}
        return await self._list(request, values, posted=True)

    async def _list(
        self,
        request: Request,
        values: dict[str, str],
        *,
        notice: str = "",
        form: Form | None = None,
        status: int = 200,
        posted: bool = False,
    ) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        filters, number = filters_of(values)
        page = await self.work(
            acting,
            lambda repo, _db: documents.list_documents(
                repo, patient_id=acting.patient_id, filters=filters, page=number
            ),
        )
        context = list_context(page, values=values, filters=filters, notice=notice, form=form)
        return self.page(request, "list", context | {"posted": posted}, status)

    async def relist(self, request: Request, form: Form, status: int) -> Response:
        """The list again, with a form's refusal shown above it."""
        return await self._list(request, {}, form=form, status=status)

    async def upload_page(self, request: Request) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        form = Form()
        replaces = request.query_params.get("remplace", "")
        if replaces:
            form.values.update(confidentialite="defaut", remplace=replaces[:64])
        return await self._upload_form(request, acting, form, 200)

    async def _upload_form(
        self, request: Request, acting: Any, form: Form, status: int
    ) -> Response:
        def load(repo: Any, _db: Any) -> tuple[dict[str, str], bool]:
            folders = documents.list_folders(repo, patient_id=acting.patient_id)
            masked = documents.get_default_masked(repo, patient_id=acting.patient_id)
            return {f.id: f.name for f in folders}, masked

        folders, masked = await self.work(acting, load)
        if not form.values:
            form.values["confidentialite"] = "defaut"
        context = upload_context(form, folders) | {"default_masked": masked}
        return self.page(request, "upload", context, status)

    async def upload(self, request: Request) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=1, max_fields=20) as data:
            upload = await read_upload(data, max_bytes=self.max_bytes)
        if not upload.form.valid:
            return await self._upload_form(request, acting, upload.form, 400)
        jobs = self.portal.deps.jobs
        try:
            view = await self.work(
                acting, lambda repo, db: self._add(repo, db, acting, upload, jobs)
            )
        except errors.DocumentRefused as refused:
            upload.form.add_error(FIELD_OF.get(type(refused), "fichier"), refused.message)
            return await self._upload_form(request, acting, upload.form, refused.status)
        return done(f"{LIST}/{view.id}", "ajoute")

    def _add(self, repo: Any, db: Any, acting: Any, upload: Upload, jobs: Any) -> DocumentView:
        values = upload.form.values
        assert upload.document_date is not None
        return documents.add_document(
            repo,
            db=db,
            patient_id=acting.patient_id,
            content=upload.content,
            filename=upload.filename,
            title=values["titre"],
            category=values["categorie"],
            document_date=upload.document_date,
            masked=upload.masked,
            folder_id=values["dossier"] or None,
            replaces=values["remplace"] or None,
            max_bytes=self.max_bytes,
            jobs=jobs,
        )

    async def detail(self, request: Request) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        document_id = request.path_params["document_id"]

        def load(
            repo: Any, _db: Any
        ) -> tuple[DocumentView, DocumentContent | None, dict[str, str]]:
            view = documents.document_detail(
                repo, patient_id=acting.patient_id, document_id=document_id
            )
            shown = None
            if view.content_type.startswith(("text/plain", "text/xml", "application/xml")):
                shown = documents.read_content(
                    repo, patient_id=acting.patient_id, document_id=document_id
                )
            folders = documents.list_folders(repo, patient_id=acting.patient_id)
            return view, shown, {f.id: f.name for f in folders}

        try:
            view, shown, folders = await self.work(acting, load)
        except errors.DocumentRefused as refused:
            return self.refused(request, refused)
        context = viewer_context(view, shown, folders) | {"notice": notice_of(request)}
        return self.page(request, "detail", context)

    async def content(self, request: Request) -> Response:
        return await self._content(request, attachment=False)

    async def download(self, request: Request) -> Response:
        return await self._content(request, attachment=True)

    async def _content(self, request: Request, *, attachment: bool) -> Response:
        acting = self.acting(request)
        if isinstance(acting, Response):
            return acting
        document_id = request.path_params["document_id"]
        try:
            got = await self.work(
                acting,
                lambda repo, _db: documents.read_content(
                    repo, patient_id=acting.patient_id, document_id=document_id
                ),
            )
        except errors.DocumentRefused as refused:
            return self.refused(request, refused)
        return content_response(got, attachment=attachment)


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = DocumentsPages(portal)
    routes = [
        (LIST, pages.list_page, "GET"),
        (LIST, pages.filter, "POST"),
        (ADD, pages.upload_page, "GET"),
        (ADD, pages.upload, "POST"),
        *documents_actions.routes(pages),
        *documents_folders.routes(pages),
        *documents_edit.routes(pages),
        (f"{LIST}/{{document_id}}", pages.detail, "GET"),
        (f"{LIST}/{{document_id}}/contenu", pages.content, "GET"),
        (f"{LIST}/{{document_id}}/telecharger", pages.download, "GET"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
