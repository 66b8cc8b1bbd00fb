"""Download my data: ``/mes-donnees`` (ask for an archive of the whole record, see where it
stands: being prepared, ready until a date, expired) and ``/mes-donnees/archive/{id}`` (the ZIP,
to the person who asked for it only).

The archive is prepared after commit by a job (``record.archives``): the page shows its state
and offers to refresh; there is at most one in preparation per person. The download streams the
archive blob by blob, each read in a short transaction of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.responses import RedirectResponse, Response, StreamingResponse

from carnet.record.service import (
    ArchiveDownload,
    ArchiveInProgress,
    ArchiveNotFound,
    Archives,
    ArchiveState,
)
from carnet.web.error_pages import render_error
from carnet.web.i18n import N_
from carnet.web.patient.space import Acting, SpacePages
from carnet.web.rendering import Portal

PAGE: Final = "/mes-donnees"
DOWNLOAD: Final = "/mes-donnees/archive/{archive_id}"
PARIS: Final = ZoneInfo("Europe/Paris")
IN_PROGRESS: Final = N_(
    "Une archive est déjà en préparation : attendez qu’elle soit prête avant d’en demander une "
    "nouvelle."
)


def page_context(
    state: ArchiveState | None,
    *,
    language: str,
    keep_days: int = 7,
    notice: str = "",
    error: str = "",
) -> dict[str, Any]:
    """The page: where the latest archive stands, and what the person may do."""
    context: dict[str, Any] = {
        "title": N_("Télécharger mes données"),
        "status": state.status if state else "none",
        "notice": notice,
        "error": error,
        "download": "",
        "until": None,
        "size": "",
        "keep_days": keep_days,
    }
    if state is not None and state.status == "ready":
        context["download"] = DOWNLOAD.format(archive_id=state.id)
        if state.expires_at is not None:
            context["until"] = state.expires_at.astimezone(PARIS).date()
        megabytes = max(0.1, (state.size or 0) / 1_000_000)
        context["size"] = format_decimal(round(megabytes, 1), locale=language)
    return context


class MyDataPages:
    """The handlers (one instance per portal): parse, one service call, render."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.space = SpacePages(portal)
        self.archives = Archives(self.space.record)

    async def _page(
        self, request: Request, acting: Acting, *, error: str = "", status: int = 200
    ) -> Response:
        state = await self.portal.in_transaction(
            lambda db: self.archives.latest(db, ctx=acting.ctx)
        )
        notice = (
            N_("Votre archive est en préparation.") if "demande" in request.query_params else ""
        )
        context = page_context(
            state,
            language=self.portal.language(request),
            keep_days=self.archives.keep.days,
            notice=notice,
            error=error,
        )
        return self.portal.render(
            request, "patient/my_data/index.html", context, status_code=status
        )

    async def page(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        return await self._page(request, acting)

    async def prepare(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        try:
            await self.portal.in_transaction(lambda db: self.archives.request(db, ctx=acting.ctx))
        except ArchiveInProgress:
            return await self._page(request, acting, error=IN_PROGRESS, status=409)
        return RedirectResponse(f"{PAGE}?demande=1", status_code=303)

    async def download(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        archive_id = request.path_params["archive_id"]
        try:
            found = await self.portal.in_transaction(
                lambda db: self.archives.download(db, ctx=acting.ctx, archive_id=archive_id)
            )
        except ArchiveNotFound:
            return render_error(self.portal, request, 404)
        return StreamingResponse(
            self._stream(acting, found),
            media_type="application/zip",
            headers={
                "content-disposition": f'attachment; filename="{found.filename}"',
                "content-length": str(found.size),
                "cache-control": "no-store",
            },
        )

    async def _stream(self, acting: Acting, found: ArchiveDownload) -> AsyncIterator[bytes]:
        for index in range(found.parts):
            yield await self.portal.in_transaction(partial(self._part, acting, found, index))

    def _part(self, acting: Acting, found: ArchiveDownload, index: int, db: Connection) -> bytes:
        return self.archives.part(db, ctx=acting.ctx, download=found, index=index)


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = MyDataPages(portal)
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (PAGE, pages.page, "GET"),
        (PAGE, pages.prepare, "POST"),
        (DOWNLOAD, pages.download, "GET"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
