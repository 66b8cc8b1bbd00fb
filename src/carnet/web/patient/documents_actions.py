"""Changing documents from the list and the viewer: mask or unmask, pin or unpin, delete
(one or several, after a confirmation page), move into a folder.

Each is a POST (CSRF) followed by a redirect that says what was done; a refusal of the service
is shown with its 4xx and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import Response

from carnet.documents import errors
from carnet.documents import service as documents
from carnet.profile import service as profile_service
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient.documents_forms import selected_ids
from carnet.web.patient.documents_pages import done

if TYPE_CHECKING:
    from carnet.web.patient.documents import DocumentsPages

NOTHING_CHOSEN: Final = N_("Cochez au moins un document.")
Route = tuple[str, Callable[[Request], Any], str]


class DocumentActions:
    def __init__(self, pages: DocumentsPages) -> None:
        self.pages = pages

    async def visibility(self, request: Request) -> Response:
        """``masquer=oui`` masks the document from professionals, ``non`` unmasks it."""
        return await self._flag(
            request, "masquer", documents.set_visibility, "masked", ("masque", "visible")
        )

    async def pin(self, request: Request) -> Response:
        return await self._flag(
            request, "epingler", documents.set_pinned, "pinned", ("epingle", "desepingle")
        )

    async def _flag(
        self,
        request: Request,
        field: str,
        change: Callable[..., Any],
        keyword: str,
        notices: tuple[str, str],
    ) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        document_id = request.path_params["document_id"]
        async with request.form(max_files=0) as data:
            on = data.get(field) == "oui"
        try:
            await self.pages.work(
                acting,
                lambda repo, _db: change(
                    repo, patient_id=acting.patient_id, document_id=document_id, **{keyword: on}
                ),
            )
        except errors.DocumentRefused as refused:
            return self.pages.refused(request, refused)
        return done(f"/documents/{document_id}", notices[0] if on else notices[1])

    async def delete(self, request: Request) -> Response:
        """First the confirmation page (what will be deleted), then, confirmed, the deletion."""
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            ids = selected_ids(data)
            confirmed = data.get("confirmer") == "oui"
        if not ids:
            return await self._list_error(request, "documents", NOTHING_CHOSEN, 400)
        if len(ids) > documents.MAX_BULK_DELETE:
            message = errors.TooManyDocuments.default_message
            return await self._list_error(request, "documents", message, 400)

        def act(repo: Any, _db: Any) -> Any:
            if confirmed:
                deleted = documents.delete_documents(
                    repo, patient_id=acting.patient_id, document_ids=ids
                )
                # The deletion cascades to the profile's links to those documents (a stay's
                # report), in the same transaction.
                for document_id in ids:
                    profile_service.remove_links_to(
                        repo,
                        patient_id=acting.patient_id,
                        reference=f"DocumentReference/{document_id}",
                    )
                return deleted
            return [
                documents.document_detail(repo, patient_id=acting.patient_id, document_id=i)
                for i in ids
            ]

        try:
            result = await self.pages.work(acting, act)
        except errors.DocumentRefused as refused:
            return await self._list_error(request, "documents", refused.message, refused.status)
        if confirmed:
            return done("/documents", "supprime")
        context = {"title": N_("Supprimer des documents"), "chosen": result}
        return self.pages.page(request, "confirm_delete", context)

    async def move(self, request: Request) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            ids = selected_ids(data)
            folder = data.get("dossier")
            back = data.get("retour")
        folder_id = folder if isinstance(folder, str) and folder else None
        if not ids:
            return await self._list_error(request, "documents", NOTHING_CHOSEN, 400)
        try:
            await self.pages.work(
                acting,
                lambda repo, _db: documents.move_documents(
                    repo, patient_id=acting.patient_id, document_ids=ids, folder_id=folder_id
                ),
            )
        except errors.DocumentRefused as refused:
            return await self._list_error(request, "dossier", refused.message, refused.status)
        target = f"/documents/{ids[0]}" if back == "document" and len(ids) == 1 else "/documents"
        return done(target, "deplace")

    async def _list_error(
        self, request: Request, field: str, message: str, status: int
    ) -> Response:
        form = Form()
        form.add_error(field, message, anchor="liste-documents")
        return await self.pages.relist(request, form, status)


def routes(pages: DocumentsPages) -> list[Route]:
    actions = DocumentActions(pages)
    return [
        ("/documents/supprimer", actions.delete, "POST"),
        ("/documents/deplacer", actions.move, "POST"),
        ("/documents/{document_id}/visibilite", actions.visibility, "POST"),
        ("/documents/{document_id}/epingle", actions.pin, "POST"),
    ]
