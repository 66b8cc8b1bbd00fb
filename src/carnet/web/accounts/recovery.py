"""``/connexion/oubli``: a forgotten password, recovered through the verified contact (a code)
plus, for an account with an authenticator app, a TOTP or recovery code.

The first step answers the same for every login (« if an account matches, a code was sent »);
the second refuses every wrong combination with the same message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from carnet.identity.accounts.errors import LockedOut, SignInRefused, WeakPassword
from carnet.identity.accounts.service import Accounts
from carnet.web.accounts.passwords import WEAK_PASSWORD
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal


def start_context(*, form: Form, locked: bool = False) -> dict[str, Any]:
    return {
        "title": N_("Mot de passe oublié"),
        "form": form,
        "locked": locked,
        "layout": "patient/layout.html",
    }


def finish_context(*, form: Form, token: str) -> dict[str, Any]:
    return {
        "title": N_("Choisir un nouveau mot de passe"),
        "form": form,
        "token": token,
        "layout": "patient/layout.html",
    }


class RecoveryPages:
    def __init__(self, portal: Portal, accounts: Accounts) -> None:
        assert portal.deps.transaction is not None
        self.portal = portal
        self.accounts = accounts
        self.transaction = portal.deps.transaction

    async def start_page(self, request: Request) -> Response:
        context = start_context(form=Form())
        return self.portal.render(request, "accounts/recovery_start.html", context)

    async def start(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("login",))
        if not form.values["login"]:
            form.add_error("login", N_("Saisissez votre identifiant."))
            return self.portal.render(
                request, "accounts/recovery_start.html", start_context(form=form), status_code=400
            )
        address = request.client.host if request.client else None

        def begin() -> Any:
            with self.transaction() as db:
                return self.accounts.start_recovery(
                    db, login=form.values["login"], client_address=address
                )

        try:
            started = await run_in_threadpool(begin)
        except LockedOut:
            context = start_context(form=form, locked=True)
            return self.portal.render(
                request, "accounts/recovery_start.html", context, status_code=429
            )
        context = finish_context(form=Form(), token=started.token)
        return self.portal.render(request, "accounts/recovery_finish.html", context)

    async def finish(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("token", "code", "second_code"))
            password = data.get("password")
        token = form.values.pop("token")[:100]
        password = password if isinstance(password, str) else ""
        if not form.values["code"]:
            form.add_error("code", N_("Saisissez le code reçu."))
        if not password:
            form.add_error("password", N_("Choisissez un nouveau mot de passe."))
        if form.valid:
            try:
                await run_in_threadpool(
                    lambda: self.accounts.finish_recovery(
                        self.transaction,
                        token=token,
                        code=form.values["code"],
                        second_code=form.values["second_code"],
                        new_password=password,
                    )
                )
            except WeakPassword as exc:
                form.add_error("password", WEAK_PASSWORD[exc.rule])
            except (SignInRefused, LockedOut):
                form.add_error("code", WRONG_CODES)
            else:
                return RedirectResponse("/connexion?recupere=1", status_code=303)
        form.values["code"] = form.values["second_code"] = ""
        context = finish_context(form=form, token=token)
        return self.portal.render(
            request, "accounts/recovery_finish.html", context, status_code=400
        )


WRONG_CODES = N_(
    "Les codes saisis ne sont pas valables. Vérifiez-les, ou recommencez depuis le début."
)


def build_router(portal: Portal, accounts: Accounts) -> APIRouter:
    router = APIRouter()
    pages = RecoveryPages(portal, accounts)
    router.add_api_route(
        "/connexion/oubli", pages.start_page, methods=["GET"], include_in_schema=False
    )
    router.add_api_route("/connexion/oubli", pages.start, methods=["POST"], include_in_schema=False)
    router.add_api_route(
        "/connexion/oubli/nouveau", pages.finish, methods=["POST"], include_in_schema=False
    )
    return router
