"""Folders ("dossiers") and the default confidentiality of new documents.

``/documents/dossiers`` lists the folders, with a form to create one and, for each, forms to
rename and delete it (its documents stay, in no folder). ``/documents/parametres`` sets whether
new documents are visible to professionals or masked by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import Response

from carnet.documents import errors
from carnet.documents import service as documents
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient.documents_pages import done, notice_of

if TYPE_CHECKING:
    from carnet.web.patient.documents import DocumentsPages

FOLDERS: Final = "/documents/dossiers"
SETTINGS: Final = "/documents/parametres"
CHOOSE: Final = N_("Choisissez une option : visibles ou masqués.")
Route = tuple[str, Callable[[Request], Any], str]


class FolderPages:
    def __init__(self, pages: DocumentsPages) -> None:
        self.pages = pages

    async def folders(self, request: Request) -> Response:
        return await self._folders(request, Form(), 200, notice=notice_of(request))

    async def _folders(
        self, request: Request, form: Form, status: int, notice: str = ""
    ) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        listed = await self.pages.work(
            acting, lambda repo, _db: documents.list_folders(repo, patient_id=acting.patient_id)
        )
        context = {"title": N_("Mes dossiers"), "folders": listed, "form": form, "notice": notice}
        return self.pages.page(request, "folders", context, status)

    async def create(self, request: Request) -> Response:
        return await self._change(
            request,
            "nom",
            lambda repo, pid, name: documents.create_folder(repo, patient_id=pid, name=name),
        )

    async def rename(self, request: Request) -> Response:
        folder_id = request.path_params["folder_id"]
        return await self._change(
            request,
            f"nom-{folder_id}",
            lambda repo, pid, name: documents.rename_folder(
                repo, patient_id=pid, folder_id=folder_id, name=name
            ),
        )

    async def delete(self, request: Request) -> Response:
        folder_id = request.path_params["folder_id"]
        return await self._change(
            request,
            "nom",
            lambda repo, pid, _name: documents.delete_folder(
                repo, patient_id=pid, folder_id=folder_id
            ),
            notice="dossier-supprime",
        )

    async def _change(
        self,
        request: Request,
        field: str,
        change: Callable[[Any, str, str], Any],
        notice: str = "dossier",
    ) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("nom",))
        name = form.values["nom"]
        try:
            await self.pages.work(acting, lambda repo, _db: change(repo, acting.patient_id, name))
        except errors.DocumentRefused as refused:
            form.add_error(field, refused.message)
            return await self._folders(request, form, refused.status)
        return done(FOLDERS, notice)

    async def settings(self, request: Request) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        masked = await self.pages.work(
            acting,
            lambda repo, _db: documents.get_default_masked(repo, patient_id=acting.patient_id),
        )
        form = Form(values={"defaut": "masques" if masked else "visibles"})
        return self._settings_page(request, form, 200, notice_of(request))

    def _settings_page(
        self, request: Request, form: Form, status: int, notice: str = ""
    ) -> Response:
        options = [
            {
                "value": "visibles",
                "label": N_("Visibles par les professionnels de santé que j’autorise"),
                "lang": None,
            },
            {"value": "masques", "label": N_("Masqués aux professionnels de santé"), "lang": None},
        ]
        context = {
            "title": N_("Confidentialité de mes documents"),
            "form": form,
            "options": options,
            "notice": notice,
        }
        return self.pages.page(request, "settings", context, status)

    async def save_settings(self, request: Request) -> Response:
        acting = self.pages.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("defaut",))
        choice = form.values["defaut"]
        if choice not in ("visibles", "masques"):
            form.add_error("defaut", CHOOSE, anchor="defaut-visibles")
            return self._settings_page(request, form, 400)
        await self.pages.work(
            acting,
            lambda repo, _db: documents.set_default_masked(
                repo, patient_id=acting.patient_id, masked=choice == "masques"
            ),
        )
        return done(SETTINGS, "parametres")


def routes(pages: DocumentsPages) -> list[Route]:
    folder_pages = FolderPages(pages)
    return [
        (FOLDERS, folder_pages.folders, "GET"),
        (FOLDERS, folder_pages.create, "POST"),
        (f"{FOLDERS}/{{folder_id}}/renommer", folder_pages.rename, "POST"),
        (f"{FOLDERS}/{{folder_id}}/supprimer", folder_pages.delete, "POST"),
        (SETTINGS, folder_pages.settings, "GET"),
        (SETTINGS, folder_pages.save_settings, "POST"),
    ]
