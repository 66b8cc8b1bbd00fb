"""The notification centre: ``/notifications`` (what is waiting, newest first, unread marked;
open one, mark one or all read) and ``/notifications/preferences`` (per kind, an e-mail or not).

The person's space is the one they act in (``SpacePages``: the holder, or a parent in a
child's profile). An item names a kind and a portal path only, so these pages read no health
data. Every change is a POST with the CSRF token, then a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.notify import service as notify_service
from carnet.web.error_pages import render_error
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient.space import SpacePages
from carnet.web.rendering import Portal

PARIS: Final = ZoneInfo("Europe/Paris")
INDEX: Final = "/notifications"
PREFERENCES: Final = "/notifications/preferences"
ALL_READ: Final = "/notifications/tout-lu"
KIND_LABELS: Final = {
    "new_document": N_("Nouveau document"),
    "new_message": N_("Nouveau message"),
    "reminder": N_("Rappel"),
    "connected_app": N_("Service connecté"),
}
CHOICE_LABELS: Final = {
    "new_document": N_("Un document est ajouté à mon dossier"),
    "new_message": N_("Je reçois un message d’un professionnel de santé"),
    "reminder": N_("Un rappel de mon agenda arrive à échéance"),
    "connected_app": N_("Un service connecté partage des informations"),
}
BAD_CHOICE: Final = N_("Ce choix n’est pas valide : cochez la case ou laissez-la vide.")
_ON: Final = "oui"


class NotificationPages:
    """The handlers (one instance per portal): parse, one service call, render."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.space = SpacePages(portal)

    async def index(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        number = request.query_params.get("page", "1")
        page = int(number) if number.isdigit() and len(number) < 6 else 1
        inbox = await self.portal.in_transaction(
            lambda db: notify_service.inbox_page(db, patient_id=acting.patient_id, page=page)
        )
        context = {
            "title": N_("Mes notifications"),
            "inbox": inbox,
            "items": [
                {
                    "id": item.id,
                    "kind": item.kind,
                    "unread": item.unread,
                    "day": item.created_at.astimezone(PARIS).date(),
                }
                for item in inbox.items
            ],
            "labels": KIND_LABELS,
            "marked": "lu" in request.query_params,
        }
        return self.portal.render(request, "patient/notifications/index.html", context)

    async def open_item(self, request: Request) -> Response:
        """Mark one item read; then go where it points (``action=voir``) or come back."""
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        item_id = request.path_params["item_id"]
        async with request.form(max_files=0) as data:
            action = data.get("action")
        now = self.space.record.clock.now()

        item = await self.portal.in_transaction(
            lambda db: notify_service.mark_inbox_read(
                db, patient_id=acting.patient_id, item_id=item_id, at=now
            )
        )
        if item is None:
            return render_error(self.portal, request, 404)
        target = item.link if action == "voir" else f"{INDEX}?lu=1"
        return RedirectResponse(target, status_code=303)

    async def all_read(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        now = self.space.record.clock.now()
        await self.portal.in_transaction(
            lambda db: notify_service.mark_all_read(db, patient_id=acting.patient_id, at=now)
        )
        return RedirectResponse(f"{INDEX}?lu=1", status_code=303)

    async def preferences(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        choices = await self.portal.in_transaction(
            lambda db: notify_service.email_choices(db, patient_id=acting.patient_id)
        )
        values = {kind: _ON if on else "" for kind, on in choices.items()}
        saved = "enregistre" in request.query_params
        return self._preferences(request, Form(values=values), saved=saved)

    def _preferences(
        self, request: Request, form: Form, *, saved: bool = False, status: int = 200
    ) -> Response:
        context = {
            "title": N_("Mes préférences de notification"),
            "form": form,
            "kinds": notify_service.INBOX_KINDS,
            "labels": CHOICE_LABELS,
            "saved": saved,
        }
        return self.portal.render(
            request, "patient/notifications/preferences.html", context, status_code=status
        )

    async def save_preferences(self, request: Request) -> Response:
        acting = self.space.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, notify_service.INBOX_KINDS)
        for kind, value in form.values.items():
            if value not in {"", _ON}:
                form.add_error(kind, BAD_CHOICE, anchor=f"choix-{kind}")
        if not form.valid:
            return self._preferences(request, form, status=400)
        choices = {kind: value == _ON for kind, value in form.values.items()}
        await self.portal.in_transaction(
            lambda db: notify_service.set_email_choices(
                db, patient_id=acting.patient_id, by_email=choices
            )
        )
        return RedirectResponse(f"{PREFERENCES}?enregistre=1", status_code=303)


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    pages = NotificationPages(portal)
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (INDEX, pages.index, "GET"),
        (ALL_READ, pages.all_read, "POST"),
        (PREFERENCES, pages.preferences, "GET"),
        (PREFERENCES, pages.save_preferences, "POST"),
        (INDEX + "/{item_id}", pages.open_item, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
