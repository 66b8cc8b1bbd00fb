"""Signing in and out: ``/connexion`` (and ``/admin/connexion``), ``/connexion/code``,
``/deconnexion``, and the profile switch (``/profil``).

Refusals say what to do without saying what was wrong: « identifiant ou mot de passe
incorrect » whether the login exists or not. Handlers run the service in the threadpool
(argon2 and the database are blocking).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from carnet.identity.accounts.errors import LockedOut, NotAllowed, SignInRefused
from carnet.identity.accounts.service import Accounts
from carnet.web.accounts import cookies
from carnet.web.accounts.guards import HOMES, current_session, pending_session, safe_next
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal
from carnet.web.shell import Area as ShellArea

Area = Literal["portal", "admin"]
LOCKED = N_(
    "Trop de tentatives ont échoué. Par sécurité, la connexion est bloquée pendant "
    "%(minutes)s minutes : réessayez plus tard."
)


def sign_in_context(
    *, form: Form, area: Area, notice: str = "", locked: bool = False, lockout_minutes: int = 15
) -> dict[str, Any]:
    """The password form; ``notice``: why the person is here (signed out, session expired)."""
    return {
        "title": N_("Connexion à l’administration") if area == "admin" else N_("Connexion"),
        "form": form,
        "action": "/admin/connexion" if area == "admin" else "/connexion",
        "area": area,
        "notice": notice,
        "locked": locked,
        "lockout_minutes": lockout_minutes,
        "layout": "admin/layout.html" if area == "admin" else "patient/layout.html",
    }


def code_context(
    *, form: Form, factor: str, sent_to: str | None, kind: str, resent: bool = False
) -> dict[str, Any]:
    return {
        "title": N_("Code de vérification"),
        "form": form,
        "factor": factor,
        "sent_to": sent_to or "",
        "offer_trust": kind != "operator",
        "resent": resent,
        "layout": "admin/layout.html" if kind == "operator" else "patient/layout.html",
    }


def _client(request: Request) -> tuple[str | None, str | None]:
    address = request.client.host if request.client else None
    return address, request.headers.get("user-agent", "")[:120]


class SignInPages:
    """The handlers of signing in and out (one instance per portal)."""

    def __init__(self, portal: Portal, accounts: Accounts) -> None:
        assert portal.deps.transaction is not None
        self.portal = portal
        self.accounts = accounts
        self.deps = portal.deps
        self.transaction = portal.deps.transaction
        self.minutes = accounts.settings.lockout_minutes

    @staticmethod
    def notice_of(request: Request) -> str:
        if request.query_params.get("expire"):
            return N_("Votre session a expiré. Connectez-vous de nouveau.")
        if request.query_params.get("recupere"):
            return N_("Votre mot de passe est changé. Connectez-vous avec le nouveau.")
        if request.query_params.get("sortie"):
            return N_("Vous êtes déconnecté.")
        return ""

    def render_sign_in(self, request: Request, area: Area) -> Response:
        form = Form(values={"next": safe_next(request.query_params.get("next")) or ""})
        locked = bool(request.query_params.get("bloque"))
        context = sign_in_context(
            form=form,
            area=area,
            notice=self.notice_of(request),
            locked=locked,
            lockout_minutes=self.minutes,
        )
        shell_area: ShellArea = "admin" if area == "admin" else "patient"
        return self.portal.render(request, "accounts/sign_in.html", context, area=shell_area)

    async def sign_in(self, request: Request, area: Area) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("login", "password", "next"))
        password = form.values.pop("password")
        if not form.values["login"]:
            form.add_error("login", N_("Saisissez votre identifiant."))
        if not password:
            form.add_error("password", N_("Saisissez votre mot de passe."))
        status, locked = 400, False
        if form.valid:
            address, agent = _client(request)
            try:
                accepted = await run_in_threadpool(
                    lambda: self.accounts.sign_in_password(
                        self.transaction,
                        login=form.values["login"],
                        password=password,
                        area=area,
                        client_address=address,
                        user_agent=agent,
                        device_token=cookies.device_token(request, self.deps),
                    )
                )
            except SignInRefused:
                form.add_error("login", N_("Identifiant ou mot de passe incorrect."))
                status = 401
            except LockedOut:
                locked, status = True, 429
            else:
                return self._after_password(form, area, accepted)
        context = sign_in_context(form=form, area=area, locked=locked, lockout_minutes=self.minutes)
        shell_area: ShellArea = "admin" if area == "admin" else "patient"
        return self.portal.render(
            request, "accounts/sign_in.html", context, area=shell_area, status_code=status
        )

    def _after_password(self, form: Form, area: Area, accepted: Any) -> Response:
        next_path = safe_next(form.values["next"])
        if accepted.device_trusted:
            target = next_path or HOMES["operator" if area == "admin" else "patient"]
        else:
            target = "/connexion/code" + (f"?next={next_path}" if next_path else "")
        response: Response = RedirectResponse(target, status_code=303)
        cookies.set_session_cookie(response, accepted.issued, self.deps)
        return response

    async def sign_in_page(self, request: Request) -> Response:
        return self.render_sign_in(request, "portal")

    async def sign_in_post(self, request: Request) -> Response:
        return await self.sign_in(request, "portal")

    async def admin_sign_in_page(self, request: Request) -> Response:
        return self.render_sign_in(request, "admin")

    async def admin_sign_in_post(self, request: Request) -> Response:
        return await self.sign_in(request, "admin")

    async def render_code(
        self, request: Request, form: Form, *, status: int = 200, resent: bool = False
    ) -> Response:
        pending = pending_session(request)
        assert pending is not None

        def summary() -> Any:
            with self.transaction(readonly=True) as db:
                return self.accounts.summary(db, account_id=pending.account_id)

        info = await run_in_threadpool(summary)
        sent_to = info.phone_masked if info.second_factor == "sms" else info.email_masked
        context = code_context(
            form=form, factor=info.second_factor, sent_to=sent_to, kind=pending.kind, resent=resent
        )
        area: ShellArea = "admin" if pending.kind == "operator" else "patient"
        return self.portal.render(
            request, "accounts/code.html", context, area=area, status_code=status
        )

    async def code_page(self, request: Request) -> Response:
        if pending_session(request) is None:
            return RedirectResponse("/connexion", status_code=303)
        form = Form(values={"next": safe_next(request.query_params.get("next")) or ""})
        resent = bool(request.query_params.get("renvoye"))
        return await self.render_code(request, form, resent=resent)

    async def code_post(self, request: Request) -> Response:
        if pending_session(request) is None:
            return RedirectResponse("/connexion?expire=1", status_code=303)
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("code", "next", "trust"))
        if not form.values["code"]:
            form.add_error("code", N_("Saisissez le code reçu."))
            return await self.render_code(request, form, status=400)
        token = cookies.session_token(request, self.deps)
        _address, agent = _client(request)

        def verify() -> Any:
            with self.transaction() as db:
                return self.accounts.verify_second_factor(
                    db,
                    token=token,
                    code=form.values["code"],
                    trust_device=form.values["trust"] == "oui",
                    device_label=agent or "",
                )

        try:
            passed = await run_in_threadpool(verify)
        except LockedOut:
            response: Response = RedirectResponse("/connexion?bloque=1", status_code=303)
            cookies.clear_session_cookie(response, self.deps)
            return response
        except SignInRefused:
            form.values["code"] = ""
            form.add_error("code", WRONG_CODE)
            return await self.render_code(request, form, status=401)
        target = safe_next(form.values["next"]) or HOMES[passed.account_kind]
        response = RedirectResponse(target, status_code=303)
        cookies.set_session_cookie(response, passed.issued, self.deps)
        if passed.device_token is not None:
            max_age = self.accounts.settings.trusted_device_days * 86400
            cookies.set_device_cookie(response, passed.device_token, self.deps, max_age=max_age)
        return response

    async def resend(self, request: Request) -> Response:
        if pending_session(request) is None:
            return RedirectResponse("/connexion?expire=1", status_code=303)
        token = cookies.session_token(request, self.deps)

        def send() -> None:
            with self.transaction() as db:
                self.accounts.resend_code(db, token=token)

        try:
            await run_in_threadpool(send)
        except (LockedOut, SignInRefused):
            form = Form()
            form.add_error("code", N_("Trop de codes demandés. Attendez quelques minutes."))
            return await self.render_code(request, form, status=429)
        return RedirectResponse("/connexion/code?renvoye=1", status_code=303)

    async def sign_out(self, request: Request) -> Response:
        session = current_session(request) or pending_session(request)
        if session is not None:

            def end() -> None:
                with self.transaction() as db:
                    self.accounts.sign_out(db, session=session)

            await run_in_threadpool(end)
        admin = session is not None and session.kind == "operator"
        target = "/admin/connexion?sortie=1" if admin else "/connexion?sortie=1"
        response: Response = RedirectResponse(target, status_code=303)
        cookies.clear_session_cookie(response, self.deps)
        return response

    async def switch_profile(self, request: Request) -> Response:
        session = current_session(request)
        if session is None:
            return RedirectResponse("/connexion", status_code=303)
        async with request.form(max_files=0) as data:
            choice = data.get("profile")
        index = int(choice) if isinstance(choice, str) and choice.isdigit() else -1

        def switch() -> Any:
            with self.transaction() as db:
                return self.accounts.switch_profile(db, session=session, index=index)

        try:
            issued = await run_in_threadpool(switch)
        except NotAllowed:
            return RedirectResponse("/", status_code=303)
        response: Response = RedirectResponse("/", status_code=303)
        cookies.set_session_cookie(response, issued, self.deps)
        return response


WRONG_CODE = N_("Code incorrect ou expiré. Vérifiez-le, ou demandez un nouveau code.")


def build_router(portal: Portal, accounts: Accounts) -> APIRouter:
    router = APIRouter()
    pages = SignInPages(portal, accounts)
    routes = [
        ("/connexion", pages.sign_in_page, "GET"),
        ("/connexion", pages.sign_in_post, "POST"),
        ("/admin/connexion", pages.admin_sign_in_page, "GET"),
        ("/admin/connexion", pages.admin_sign_in_post, "POST"),
        ("/connexion/code", pages.code_page, "GET"),
        ("/connexion/code", pages.code_post, "POST"),
        ("/connexion/code/renvoyer", pages.resend, "POST"),
        ("/deconnexion", pages.sign_out, "POST"),
        ("/profil", pages.switch_profile, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
