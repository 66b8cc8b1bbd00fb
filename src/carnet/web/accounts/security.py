"""``/compte/securite``: the signed-in person's sessions, trusted devices, authenticator app
and recovery codes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.identity.accounts.errors import NotAllowed, SignInRefused
from carnet.identity.accounts.service import Accounts, CurrentSession
from carnet.web.accounts import cookies
from carnet.web.accounts.guards import require
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

PAGE = "/compte/securite"


def security_context(
    *, summary: Any, sessions: list[Any], devices: list[Any], done: str = ""
) -> dict[str, Any]:
    return {
        "title": N_("Sécurité du compte"),
        "summary": summary,
        "sessions": sessions,
        "devices": devices,
        "done": done,
        "form": Form(),
        "layout": "admin/layout.html" if summary.kind == "operator" else "patient/layout.html",
    }


DONE = {
    "mot-de-passe": N_("Votre mot de passe est changé. Vos autres sessions sont fermées."),
    "telephone": N_("Votre numéro de mobile est confirmé."),
    "facteur": N_("Votre choix est enregistré."),
    "session": N_("La session est fermée."),
    "appareil": N_("L’appareil n’est plus reconnu."),
    "appareils": N_("Plus aucun appareil n’est reconnu."),
}


class SecurityPages:
    """The handlers of the security page (one instance per portal)."""

    def __init__(self, portal: Portal, accounts: Accounts) -> None:
        self.portal = portal
        self.accounts = accounts

    async def run(self, work: Any) -> Any:
        """``work(db)`` in a transaction, in the threadpool."""
        return await self.portal.in_transaction(work)

    async def page(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        accounts = self.accounts

        def load(db: Any) -> dict[str, Any]:
            return security_context(
                summary=accounts.summary(db, account_id=session.account_id),
                sessions=accounts.list_sessions(db, session=session),
                devices=accounts.list_devices(db, session=session),
                done=DONE.get(request.query_params.get("fait", ""), ""),
            )

        context = await self.run(load)
        return self.portal.render(
            request, "accounts/security.html", context, area=_area_of(session)
        )

    async def revoke_session(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            target = str(data.get("session", ""))[:40]
        await self.run(
            lambda db: self.accounts.revoke_session(db, session=session, session_id=target)
        )
        return RedirectResponse(PAGE + "?fait=session", status_code=303)

    async def sign_out_everywhere(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        await self.run(lambda db: self.accounts.sign_out_everywhere(db, session=session))
        response: Response = RedirectResponse("/connexion?sortie=1", status_code=303)
        cookies.clear_session_cookie(response, self.portal.deps)
        return response

    async def revoke_device(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            device = str(data.get("device", ""))[:40] or None
        await self.run(
            lambda db: self.accounts.revoke_device(db, session=session, device_id=device)
        )
        done = "?fait=appareil" if device else "?fait=appareils"
        return RedirectResponse(PAGE + done, status_code=303)

    async def _enrolment_page(
        self, request: Request, session: CurrentSession, form: Form, status: int = 200
    ) -> Response:
        label = self.portal.settings.service_name
        enrolment = await self.run(
            lambda db: self.accounts.start_totp(db, session=session, label=label)
        )
        context = totp_context(form=form, enrolment=enrolment, kind=session.kind)
        return self.portal.render(
            request, "accounts/totp.html", context, area=_area_of(session), status_code=status
        )

    async def start_totp(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        return await self._enrolment_page(request, session, Form())

    async def confirm_totp(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("code",))
        code = form.values["code"]
        try:
            codes = await self.run(
                lambda db: self.accounts.confirm_totp(db, session=session, code=code)
            )
        except SignInRefused:
            form.add_error("code", WRONG_TOTP)
            return await self._enrolment_page(request, session, form, status=400)
        return self.render_codes(request, session, codes)

    async def recovery_codes(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        try:
            codes = await self.run(lambda db: self.accounts.new_recovery_codes(db, session=session))
        except NotAllowed:
            return RedirectResponse(PAGE, status_code=303)
        return self.render_codes(request, session, codes)

    def render_codes(self, request: Request, session: CurrentSession, codes: list[str]) -> Response:
        context = {
            "title": N_("Vos codes de secours"),
            "codes": codes,
            "layout": "admin/layout.html" if session.kind == "operator" else "patient/layout.html",
        }
        return self.portal.render(
            request, "accounts/recovery_codes.html", context, area=_area_of(session)
        )


WRONG_TOTP = N_(
    "Ce code ne correspond pas. Scannez le nouveau code QR, puis saisissez le code affiché "
    "par l’application."
)


def _area_of(session: CurrentSession) -> Any:
    return "admin" if session.kind == "operator" else "patient"


def build_router(portal: Portal, accounts: Accounts) -> APIRouter:
    router = APIRouter()
    pages = SecurityPages(portal, accounts)
    routes = [
        (PAGE, pages.page, "GET"),
        (PAGE + "/sessions/fermer", pages.revoke_session, "POST"),
        (PAGE + "/sessions/tout-fermer", pages.sign_out_everywhere, "POST"),
        (PAGE + "/appareils/oublier", pages.revoke_device, "POST"),
        (PAGE + "/totp", pages.start_totp, "POST"),
        (PAGE + "/totp/confirmer", pages.confirm_totp, "POST"),
        (PAGE + "/codes-de-secours", pages.recovery_codes, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router


def totp_context(*, form: Form, enrolment: Any, kind: str) -> dict[str, Any]:
    secret = enrolment.secret
    return {
        "title": N_("Application d’authentification"),
        "form": form,
        "qr_svg": enrolment.qr_svg,
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "layout": "admin/layout.html" if kind == "operator" else "patient/layout.html",
    }
