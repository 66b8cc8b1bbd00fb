"""Advance directives: ``/volontes/directives`` (those in force, and how to write them),
``…/formulaire`` (the guided form, which makes a PDF), ``…/deposer`` (upload a document),
``…/remplacer`` (the warning before replacing: download the old ones first) and
``…/{id}/telecharger``.

Replacing needs the warning: the forms carry the id of the directives in force only when they
were reached from the warning page, and the service refuses a new set that does not name them
(the warning is then shown, with a 409). Minors are told directives are for adults (403).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Final

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from carnet.documents.errors import DocumentRefused
from carnet.record.service import Repository
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient import circle_text as text
from carnet.web.patient.circle_pages import (
    DIRECTIVES,
    DIRECTIVES_DOWNLOAD,
    DIRECTIVES_FORM,
    DIRECTIVES_REPLACE,
    DIRECTIVES_UPLOAD,
    CirclePages,
    done,
    notice,
    path_id,
)
from carnet.web.patient.space import Acting
from carnet.web.rendering import Portal
from carnet.wishes import service as wishes
from carnet.wishes.errors import (
    DirectivesNotFound,
    DirectivesRefused,
    InvalidDirectives,
    ReplacementNotConfirmed,
)
from carnet.wishes.schemas import Act, Choice, DirectivesOnFile, Place, Sedation, Situation

MAX_BYTES: Final = 5 * 1024 * 1024
CHOICE_FIELDS: Final = (
    "situation",
    "life_support",
    "sedation",
    "place",
    *(f"acte-{act.value}" for act in Act),
)
DEFAULTS: Final = {
    "life_support": Choice.UNDECIDED.value,
    "sedation": Sedation.UNDECIDED.value,
    "place": Place.NO_PREFERENCE.value,
} | {f"acte-{act.value}": Choice.UNDECIDED.value for act in Act}
REFUSALS: Final = {"minor": text.MINOR, "birth-date-unknown": text.BIRTH_DATE_UNKNOWN}


def form_context(form: Form, *, replaces: str) -> dict[str, Any]:
    """The guided form, with the labels of every choice."""
    return {
        "title": N_("Rédiger mes directives anticipées"),
        "form": form,
        "replaces": replaces,
        "action": DIRECTIVES_FORM,
        "situations": [(s.value, text.SITUATIONS[s]) for s in Situation],
        "life_support": [(c.value, text.LIFE_SUPPORT[c]) for c in Choice],
        "sedation": [(c.value, text.SEDATION[c]) for c in Sedation],
        "acts": [(f"acte-{a.value}", text.ACTS[a]) for a in Act],
        "choices": [(c.value, text.CHOICES[c]) for c in Choice],
        "places": [(p.value, text.PLACES[p]) for p in Place],
        "text_max": 4000,
        "back_path": DIRECTIVES,
    }


def upload_context(form: Form, *, replaces: str, today: date) -> dict[str, Any]:
    return {
        "title": N_("Déposer mes directives anticipées"),
        "form": form,
        "replaces": replaces,
        "action": DIRECTIVES_UPLOAD,
        "today": today,
        "back_path": DIRECTIVES,
    }


def document_date(raw: str, today: date) -> date | None:
    """The document's date as typed (``AAAA-MM-JJ`` from a date control, or ``JJ/MM/AAAA``);
    today when left empty; None when unreadable."""
    if not raw:
        return today
    try:
        if "/" in raw:
            day, month, year = (int(part) for part in raw.split("/"))
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        return None


class DirectivesPages(CirclePages):
    """Advance directives: in force, written, uploaded, replaced, downloaded."""

    async def _state(self, acting: Acting) -> tuple[DirectivesOnFile | None, str]:
        """The directives in force, and why the person may not write any ("" if they may)."""
        today = self.today()

        def load(repo: Repository, _db: Any) -> tuple[DirectivesOnFile | None, str]:
            pid = acting.patient_id
            current = wishes.current_directives(repo, patient_id=pid)
            try:
                wishes.require_adult(repo, patient_id=pid, today=today)
            except DirectivesRefused as exc:
                return current, REFUSALS[exc.reason]
            return current, ""

        return await self.space.run(acting, load)

    async def index(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        current, refused = await self._state(acting)
        context = {
            "title": N_("Mes directives anticipées"),
            "current": current,
            "refused": refused,
            "notice": notice(request),
            "form_path": DIRECTIVES_FORM,
            "upload_path": DIRECTIVES_UPLOAD,
            "replace_path": DIRECTIVES_REPLACE,
        }
        return self.render(request, "directives", context)

    async def replace_page(self, request: Request) -> Response:
        """The warning before replacing: download the directives in force first."""
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        current, refused = await self._state(acting)
        if current is None or refused:
            return RedirectResponse(DIRECTIVES, status_code=303)
        return self._warning(request, current)

    def _warning(self, request: Request, current: DirectivesOnFile, status: int = 200) -> Response:
        context = {
            "title": N_("Remplacer mes directives anticipées"),
            "current": current,
            "form_path": DIRECTIVES_FORM,
            "upload_path": DIRECTIVES_UPLOAD,
            "back_path": DIRECTIVES,
        }
        return self.render(request, "directives_replace", context, status)

    def _refusal(self, request: Request, message: str) -> Response:
        context = {
            "title": N_("Mes directives anticipées"),
            "message": message,
            "back_path": DIRECTIVES,
        }
        return self.render(request, "directives_refused", context, 403)

    async def _guard(self, request: Request, acting: Acting, replaces: str) -> Response | None:
        """A page instead of a form: refused (a minor), or the warning not seen yet."""
        current, refused = await self._state(acting)
        if refused:
            return self._refusal(request, refused)
        if current is not None and replaces != current.id:
            return RedirectResponse(DIRECTIVES_REPLACE, status_code=303)
        return None

    async def form_page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        replaces = request.query_params.get("remplace", "")[:64]
        guarded = await self._guard(request, acting, replaces)
        if guarded is not None:
            return guarded
        form = Form(values=dict(DEFAULTS))
        return self.render(request, "directives_form", form_context(form, replaces=replaces))

    async def write(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0, max_fields=40, max_part_size=64 * 1024) as data:
            form = Form.from_submission(data, (*CHOICE_FIELDS, *wishes.TEXT_FIELDS, "replaces"))
        replaces = form.values["replaces"][:64]
        today = self.today()
        jobs = self.portal.deps.jobs

        def work(repo: Repository, db: Any) -> DirectivesOnFile:
            answers = wishes.answers_from_form(form.values)
            return wishes.write_directives(
                repo,
                db=db,
                patient_id=acting.patient_id,
                answers=answers,
                today=today,
                replaces=replaces or None,
                jobs=jobs,
            )

        try:
            await self.space.run(acting, work)
        except InvalidDirectives as exc:
            for field, reason in exc.problems:
                form.add_error(
                    field,
                    text.DIRECTIVES_ERRORS[reason],
                    anchor=f"{field}-{Situation.GOOD_HEALTH.value}"
                    if field == "situation"
                    else field,
                )
            context = form_context(form, replaces=replaces)
            return self.render(request, "directives_form", context, 400)
        except (DirectivesRefused, ReplacementNotConfirmed):
            return await self._refused_write(request, acting)
        return done(DIRECTIVES, "directives")

    async def _refused_write(self, request: Request, acting: Acting) -> Response:
        """A write the service refused: a minor (403), or a replacement not confirmed (the
        warning, 409)."""
        current, refused = await self._state(acting)
        if refused:
            return self._refusal(request, refused)
        if current is not None:
            return self._warning(request, current, 409)
        return RedirectResponse(DIRECTIVES, status_code=303)

    async def upload_page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        replaces = request.query_params.get("remplace", "")[:64]
        guarded = await self._guard(request, acting, replaces)
        if guarded is not None:
            return guarded
        context = upload_context(Form(), replaces=replaces, today=self.today())
        return self.render(request, "directives_upload", context)

    async def upload(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        today = self.today()
        async with request.form(max_files=1, max_fields=10) as data:
            form = Form.from_submission(data, ("document_date", "replaces"))
            upload = data.get("file")
            content = b""
            filename = ""
            if isinstance(upload, UploadFile):
                content = await upload.read(MAX_BYTES + 1)
                filename = (upload.filename or "")[-200:]
        replaces = form.values["replaces"][:64]
        when = document_date(form.values["document_date"], today)
        if not filename:
            form.add_error("file", text.NO_FILE)
        if when is None:
            form.add_error("document_date", text.BAD_DATE)
        if not form.valid or when is None:
            context = upload_context(form, replaces=replaces, today=today)
            return self.render(request, "directives_upload", context, 400)
        jobs = self.portal.deps.jobs
        try:
            await self.space.run(
                acting,
                lambda repo, db: wishes.upload_directives(
                    repo,
                    db=db,
                    patient_id=acting.patient_id,
                    content=content,
                    filename=filename,
                    document_date=when,
                    today=today,
                    replaces=replaces or None,
                    jobs=jobs,
                ),
            )
        except DocumentRefused as exc:
            form.add_error("file", exc.message)
            context = upload_context(form, replaces=replaces, today=today)
            return self.render(request, "directives_upload", context, exc.status)
        except (DirectivesRefused, ReplacementNotConfirmed):
            return await self._refused_write(request, acting)
        return done(DIRECTIVES, "directives")

    async def download(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        document_id = path_id(request, "document_id")
        try:
            file = await self.space.run(
                acting,
                lambda repo, _db: wishes.directives_file(
                    repo, patient_id=acting.patient_id, document_id=document_id
                ),
            )
        except DirectivesNotFound:
            raise HTTPException(404) from None
        return Response(
            file.content,
            media_type=file.content_type,
            headers={
                "content-disposition": f'attachment; filename="{file.filename}"',
                "cache-control": "no-store",
            },
        )


def routes(portal: Portal) -> list[tuple[str, Callable[[Request], Any], str]]:
    pages = DirectivesPages(portal)
    return [
        (DIRECTIVES, pages.index, "GET"),
        (DIRECTIVES_REPLACE, pages.replace_page, "GET"),
        (DIRECTIVES_FORM, pages.form_page, "GET"),
        (DIRECTIVES_FORM, pages.write, "POST"),
        (DIRECTIVES_UPLOAD, pages.upload_page, "GET"),
        (DIRECTIVES_UPLOAD, pages.upload, "POST"),
        (DIRECTIVES_DOWNLOAD, pages.download, "GET"),
    ]
