"""Changes to one's own sign-in from ``/compte/securite``: the password, a mobile number (proved
by a code sent to it), and whether codes come by e-mail or SMS.

Every form carries the CSRF token (the middleware checks it) and answers a mistake with the error
summary and a 4xx; argon2 and the database run in the threadpool.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from carnet.identity.accounts.errors import (
    InvalidPhone,
    LockedOut,
    NotAllowed,
    SignInRefused,
    WeakPassword,
)
from carnet.identity.accounts.schemas import CodeChannel
from carnet.identity.accounts.service import Accounts, CurrentSession
from carnet.web.accounts.guards import require
from carnet.web.accounts.passwords import WEAK_PASSWORD
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

PAGE = "/compte/securite"
PASSWORD_HINT = N_(
    "Au moins 9 caractères, avec une minuscule, une majuscule, un chiffre et un caractère "
    "spécial ; ni vos noms ni votre date de naissance."
)
LOCKED = N_(
    "Trop de tentatives ont échoué. Par sécurité, cette action est bloquée pendant "
    "%(minutes)s minutes : réessayez plus tard."
)
WRONG_PASSWORD = N_("Le mot de passe actuel est incorrect.")
WRONG_CODE = N_("Code incorrect ou expiré. Vérifiez-le, ou saisissez de nouveau votre numéro.")


def password_context(*, form: Form, kind: str, locked_minutes: int = 0) -> dict[str, Any]:
    return {
        "title": N_("Changer de mot de passe"),
        "form": form,
        "hint": PASSWORD_HINT,
        "locked": LOCKED if locked_minutes else "",
        "lockout_minutes": locked_minutes,
        "layout": "admin/layout.html" if kind == "operator" else "patient/layout.html",
    }


def phone_context(*, form: Form, token: str = "", sent_to: str = "") -> dict[str, Any]:
    """The number form, or (with ``token``) the code form of the number just sent to."""
    return {
        "title": N_("Numéro de mobile"),
        "form": form,
        "token": token,
        "sent_to": sent_to,
        "layout": "patient/layout.html",
    }


def _area(session: CurrentSession) -> Any:
    return "admin" if session.kind == "operator" else "patient"


class ChangePages:
    """The handlers of the password, mobile number and factor forms (one per portal)."""

    def __init__(self, portal: Portal, accounts: Accounts) -> None:
        assert portal.deps.transaction is not None
        self.portal = portal
        self.accounts = accounts
        self.transaction = portal.deps.transaction
        self.minutes = accounts.settings.lockout_minutes

    async def run(self, work: Any) -> Any:
        """``work(db)`` in a transaction, in the threadpool."""
        return await self.portal.in_transaction(work)

    # --- password ---------------------------------------------------------------------------

    async def password_page(self, request: Request) -> Response:
        session = require(request)
        if isinstance(session, Response):
            return session
        context = password_context(form=Form(), kind=session.kind)
        return self.portal.render(request, "accounts/password.html", context, area=_area(session))

    async def change_password(self, request: Request) -> Response:
        """Check the form, then the current password, then set the new one."""
        session = require(request)
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            # Passwords are taken as typed: no stripping.
            current, new = (
                value if isinstance(value := data.get(name), str) else ""
                for name in ("current_password", "new_password")
            )
        form = Form()
        if not current:
            form.add_error("current_password", N_("Saisissez votre mot de passe actuel."))
        if not new:
            form.add_error("new_password", N_("Choisissez un nouveau mot de passe."))
        status, locked = 400, 0
        if form.valid:
            address = request.client.host if request.client else None
            try:
                await run_in_threadpool(
                    lambda: self.accounts.change_password(
                        self.transaction,
                        session=session,
                        current_password=current,
                        new_password=new,
                        client_address=address,
                    )
                )
            except WeakPassword as exc:
                form.add_error("new_password", WEAK_PASSWORD[exc.rule])
            except SignInRefused:
                form.add_error("current_password", WRONG_PASSWORD)
                status = 401
            except LockedOut:
                status, locked = 429, self.minutes
            except NotAllowed:
                return RedirectResponse(PAGE, status_code=303)
            else:
                return RedirectResponse(PAGE + "?fait=mot-de-passe", status_code=303)
        context = password_context(form=form, kind=session.kind, locked_minutes=locked)
        return self.portal.render(
            request, "accounts/password.html", context, area=_area(session), status_code=status
        )

    # --- mobile number ----------------------------------------------------------------------

    async def phone_page(self, request: Request) -> Response:
        session = require(request, kinds=("patient", "professional"))
        if isinstance(session, Response):
            return session
        return self.portal.render(request, "accounts/phone.html", phone_context(form=Form()))

    async def start_phone(self, request: Request) -> Response:
        """Send a code to the number typed, then ask for it."""
        session = require(request, kinds=("patient", "professional"))
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("phone",))
        number = form.values["phone"]
        try:
            token = await self.run(
                lambda db: self.accounts.start_phone(db, session=session, number=number)
            )
        except InvalidPhone:
            form.add_error(
                "phone", N_("Saisissez un numéro de mobile français, par exemple 06 12 34 56 78.")
            )
            return self._phone(request, form, status=400)
        except LockedOut:
            form.add_error("phone", N_("Trop de codes demandés. Attendez quelques minutes."))
            return self._phone(request, form, status=429)
        except NotAllowed:
            return RedirectResponse(PAGE, status_code=303)
        return await self._code(request, session, Form(), token)

    async def confirm_phone(self, request: Request) -> Response:
        session = require(request, kinds=("patient", "professional"))
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("token", "code"))
        token = form.values.pop("token")[:200]
        code = form.values["code"]
        try:
            await self.run(
                lambda db: self.accounts.confirm_phone(db, session=session, token=token, code=code)
            )
        except (SignInRefused, LockedOut) as exc:
            form.values["code"] = ""
            form.add_error("code", WRONG_CODE)
            status = 429 if isinstance(exc, LockedOut) else 400
            return await self._code(request, session, form, token, status=status)
        return RedirectResponse(PAGE + "?fait=telephone", status_code=303)

    def _phone(self, request: Request, form: Form, *, status: int) -> Response:
        context = phone_context(form=form)
        return self.portal.render(request, "accounts/phone.html", context, status_code=status)

    async def _code(
        self, request: Request, session: CurrentSession, form: Form, token: str, status: int = 200
    ) -> Response:
        sent_to = await self.run(
            lambda db: self.accounts.pending_phone(db, session=session, token=token)
        )
        if sent_to is None:
            return RedirectResponse(PAGE + "/telephone", status_code=303)
        context = phone_context(form=form, token=token, sent_to=sent_to)
        return self.portal.render(request, "accounts/phone.html", context, status_code=status)

    # --- factor -----------------------------------------------------------------------------

    async def choose_factor(self, request: Request) -> Response:
        """E-mail or SMS for the codes; a choice that cannot work changes nothing."""
        session = require(request, kinds=("patient", "professional"))
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            choice = data.get("factor")
        if choice not in ("email", "sms"):
            return RedirectResponse(PAGE, status_code=303)
        factor: CodeChannel = "sms" if choice == "sms" else "email"
        try:
            await self.run(
                lambda db: self.accounts.choose_factor(db, session=session, factor=factor)
            )
        except NotAllowed:
            return RedirectResponse(PAGE, status_code=303)
        return RedirectResponse(PAGE + "?fait=facteur", status_code=303)


def build_router(portal: Portal, accounts: Accounts) -> APIRouter:
    router = APIRouter()
    pages = ChangePages(portal, accounts)
    routes = [
        (PAGE + "/mot-de-passe", pages.password_page, "GET"),
        (PAGE + "/mot-de-passe", pages.change_password, "POST"),
        (PAGE + "/telephone", pages.phone_page, "GET"),
        (PAGE + "/telephone", pages.start_phone, "POST"),
        (PAGE + "/telephone/confirmer", pages.confirm_phone, "POST"),
        (PAGE + "/second-facteur", pages.choose_factor, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
