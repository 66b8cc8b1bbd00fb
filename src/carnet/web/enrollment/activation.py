"""Activating one's space: ``/activation`` (the address notices and letters give) and its steps,
``/activation/contact``, ``/activation/code``, ``/activation/identifiants``,
``/activation/conditions``, ``/activation/choix``; and ``/activation/nouveau-code``, the way out
of an expired, lost or locked code.

The browser carries the activation in an HttpOnly cookie scoped to ``/activation`` (its token;
the server keeps only a keyed hash). Each page accepts only the step the activation reached: a
step typed in the address bar answers 409 with a link to the right one, an expired activation
410 with a link to start again. Every refusal is a form message and a 4xx; the service counts,
audits and undoes (``enrollment.activation``). The last step signs the person in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from carnet.core.errors import ClientError
from carnet.enrollment.errors import ActivationExpired, ActivationOutOfStep
from carnet.enrollment.schemas import ActivationStep, ActivationTicket, CodeChannel, FirstChoices
from carnet.enrollment.service import Enrollment
from carnet.web.accounts import cookies
from carnet.web.enrollment import activation_forms as forms
from carnet.web.forms import Form
from carnet.web.rendering import Portal

COOKIE: Final = "carnet_activation"
BASE: Final = "/activation"
PATHS: Final = {
    ActivationStep.CONTACT: BASE + "/contact",
    ActivationStep.VERIFY: BASE + "/code",
    ActivationStep.ACCOUNT: BASE + "/identifiants",
    ActivationStep.TERMS: BASE + "/conditions",
    ActivationStep.CHOICES: BASE + "/choix",
}
TERMS_PATH: Final = PATHS[ActivationStep.TERMS]
"""Where a FranceConnect activation starts (``web.federation``)."""
_T = TypeVar("_T")


def set_ticket_cookie(response: Response, token: str, deps: Any, *, minutes: int) -> None:
    """Give the browser its activation (HttpOnly, scoped to the activation pages)."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=minutes * 60,
        path=BASE,
        httponly=True,
        secure=cookies.is_secure(deps),
        samesite="lax",
    )


def _client(request: Request) -> tuple[str | None, str | None]:
    address = request.client.host if request.client else None
    return address, request.headers.get("user-agent", "")[:120] or None


class ActivationPages:
    """The handlers (one instance per portal); each parses, makes one service call in a
    transaction, and renders or redirects."""

    def __init__(self, portal: Portal, enrollment: Enrollment) -> None:
        self.portal = portal
        self.service = enrollment.activation
        self.enrollment = enrollment
        self.minutes = enrollment.settings.activation_minutes

    def token(self, request: Request) -> str:
        return request.cookies.get(COOKIE, "")

    def page(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        return self.portal.render(
            request, f"enrollment/activation_{template}.html", context, status_code=status
        )

    def problem(self, request: Request, error: ClientError) -> Response:
        """An activation that expired, or a step that is not the one reached."""
        if isinstance(error, ActivationOutOfStep):
            step = ActivationStep(error.step)
            context = forms.problem_context("out-of-step", PATHS.get(step, BASE))
            return self.page(request, "problem", context, 409)
        response = self.page(request, "problem", forms.problem_context("expired", BASE), 410)
        response.delete_cookie(
            COOKIE, path=BASE, httponly=True, secure=cookies.is_secure(self.portal.deps)
        )
        return response

    async def call(self, work: Callable[[Any], _T]) -> _T:
        return await self.portal.in_transaction(work)

    async def ticket_for(
        self, request: Request, step: ActivationStep, *also: ActivationStep
    ) -> ActivationTicket | Response:
        """The ticket when it is at ``step`` (or ``also``); else the problem page."""
        token = self.token(request)
        try:
            ticket = await self.call(lambda db: self.service.ticket(db, token=token))
        except ActivationExpired as error:
            return self.problem(request, error)
        if ticket.step is not step and ticket.step not in also:
            return self.problem(request, ActivationOutOfStep(ticket.step.value))
        return ticket

    # --- step 1 ---------------------------------------------------------------------------

    async def start_page(self, request: Request) -> Response:
        return self.page(request, "start", forms.start_context(Form()))

    async def start(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, forms.START_FIELDS)
        birth = forms.check_start(form)
        if not form.valid or birth is None:
            return self.page(request, "start", forms.start_context(form), 400)
        address, _agent = _client(request)
        values = form.values

        def work(db: Any) -> str:
            return self.service.start(
                db,
                code=values["code"],
                nir=values["nir"],
                vitale_serial=values["vitale_serial"],
                birth_date=birth,
                client_address=address,
            )

        try:
            token = await self.call(work)
        except ClientError as error:
            form.values["code"] = ""
            status = forms.start_refusal(form, error)
            return self.page(request, "start", forms.start_context(form), status)
        response = RedirectResponse(PATHS[ActivationStep.CONTACT], status_code=303)
        set_ticket_cookie(response, token, self.portal.deps, minutes=self.minutes)
        return response

    # --- step 2 ---------------------------------------------------------------------------

    async def contact_page(self, request: Request) -> Response:
        ticket = await self.ticket_for(request, ActivationStep.CONTACT, ActivationStep.VERIFY)
        if isinstance(ticket, Response):
            return ticket
        form = Form(values={"channel": "email", "email": ticket.email, "mobile": ticket.mobile})
        return self.page(request, "contact", forms.contact_context(form, self.enrollment))

    async def contact(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("channel", "email", "mobile"))
        channel = CodeChannel.SMS if form.values["channel"] == "sms" else CodeChannel.EMAIL
        contact = form.values["mobile" if channel is CodeChannel.SMS else "email"]
        token = self.token(request)

        def work(db: Any) -> str:
            return self.service.send_contact_code(db, token=token, channel=channel, contact=contact)

        try:
            await self.call(work)
        except (ActivationExpired, ActivationOutOfStep) as error:
            return self.problem(request, error)
        except ClientError as error:
            forms.contact_refusal(form, error, channel)
            return self.page(request, "contact", forms.contact_context(form, self.enrollment), 400)
        return RedirectResponse(PATHS[ActivationStep.VERIFY], status_code=303)

    async def code_page(self, request: Request) -> Response:
        ticket = await self.ticket_for(request, ActivationStep.VERIFY)
        if isinstance(ticket, Response):
            return ticket
        return self.page(request, "code", forms.code_context(Form(), ticket))

    async def code(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("code",))
        token = self.token(request)
        try:
            await self.call(
                lambda db: self.service.verify_contact(db, token=token, code=form.values["code"])
            )
        except (ActivationExpired, ActivationOutOfStep) as error:
            return self.problem(request, error)
        except ClientError as error:
            forms.code_refusal(form, error)
            ticket = await self.ticket_for(request, ActivationStep.VERIFY)
            if isinstance(ticket, Response):
                return ticket
            return self.page(request, "code", forms.code_context(form, ticket), 400)
        return RedirectResponse(PATHS[ActivationStep.ACCOUNT], status_code=303)

    # --- step 3 ---------------------------------------------------------------------------

    async def account_page(self, request: Request) -> Response:
        ticket = await self.ticket_for(request, ActivationStep.ACCOUNT)
        if isinstance(ticket, Response):
            return ticket
        return self.page(request, "account", forms.account_context(Form()))

    async def account(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("login", "password", "confirmation"))
        password = form.values.pop("password")
        confirmation = form.values.pop("confirmation")
        forms.check_account(form, password, confirmation)
        if not form.valid:
            return self.page(request, "account", forms.account_context(form), 400)
        token = self.token(request)
        transaction = self.portal.deps.transaction
        assert transaction is not None

        def work() -> None:
            self.service.choose_credentials(
                transaction, token=token, login=form.values["login"], password=password
            )

        try:
            await run_in_threadpool(work)
        except (ActivationExpired, ActivationOutOfStep) as error:
            return self.problem(request, error)
        except ClientError as error:
            status = forms.account_refusal(form, error)
            return self.page(request, "account", forms.account_context(form), status)
        return RedirectResponse(PATHS[ActivationStep.TERMS], status_code=303)

    # --- steps 4 and 5 --------------------------------------------------------------------

    async def terms_page(self, request: Request) -> Response:
        ticket = await self.ticket_for(request, ActivationStep.TERMS)
        if isinstance(ticket, Response):
            return ticket
        return self.page(request, "terms", forms.terms_context(Form(), ticket))

    async def terms(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("accept",))
        if form.values["accept"] != "oui":
            form.add_error("accept", forms.TERMS_REQUIRED)
            ticket = await self.ticket_for(request, ActivationStep.TERMS)
            if isinstance(ticket, Response):
                return ticket
            return self.page(request, "terms", forms.terms_context(form, ticket), 400)
        token = self.token(request)
        try:
            await self.call(lambda db: self.service.accept_terms(db, token=token))
        except (ActivationExpired, ActivationOutOfStep) as error:
            return self.problem(request, error)
        return RedirectResponse(PATHS[ActivationStep.CHOICES], status_code=303)

    async def choices_page(self, request: Request) -> Response:
        ticket = await self.ticket_for(request, ActivationStep.CHOICES)
        if isinstance(ticket, Response):
            return ticket
        return self.page(request, "choices", forms.choices_context(forms.choices_form(None)))

    async def choices(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, forms.CHOICE_FIELDS)
        choices = forms.check_choices(form)
        if choices is None:
            return self.page(request, "choices", forms.choices_context(form), 400)
        return await self.finish(request, choices)

    async def finish(self, request: Request, choices: FirstChoices) -> Response:
        token = self.token(request)
        address, agent = _client(request)
        device = cookies.device_token(request, self.portal.deps)

        def work(db: Any) -> Any:
            return self.service.finish(
                db, token=token, choices=choices, client_address=address, user_agent=agent,
                device_token=device,
            )  # fmt: skip

        try:
            activated = await self.call(work)
        except (ActivationExpired, ActivationOutOfStep) as error:
            return self.problem(request, error)
        except ClientError as error:
            target = forms.finish_refusal(error)
            if target == "account":
                # Back to the credentials (the ticket is there again), the login refused.
                form = Form()
                form.add_error("login", forms.LOGIN_TAKEN)
                return self.page(request, "account", forms.account_context(form), 409)
            context = forms.problem_context(target, BASE)
            return self.page(request, "problem", context, 409)
        response = RedirectResponse("/?bienvenue=1", status_code=303)
        cookies.set_session_cookie(response, activated.session, self.portal.deps)
        response.delete_cookie(
            COOKIE, path=BASE, httponly=True, secure=cookies.is_secure(self.portal.deps)
        )
        return response

    # --- a new code -----------------------------------------------------------------------

    async def new_code_page(self, request: Request) -> Response:
        form = Form(values={"channel": "email"})
        return self.page(request, "new_code", forms.new_code_context(form, self.enrollment))

    async def new_code(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, forms.NEW_CODE_FIELDS)
        birth = forms.check_identity(form)
        if not form.valid or birth is None:
            return self.page(
                request, "new_code", forms.new_code_context(form, self.enrollment), 400
            )
        channel = CodeChannel.SMS if form.values["channel"] == "sms" else CodeChannel.EMAIL
        values = form.values
        address, _agent = _client(request)

        def work(db: Any) -> Any:
            return self.enrollment.regenerate_code(
                db, nir=values["nir"], vitale_serial=values["vitale_serial"],
                birth_date=birth, channel=channel, client_address=address,
            )  # fmt: skip

        await self.call(work)
        context = forms.new_code_context(Form(values={"channel": "email"}), self.enrollment)
        context["sent"] = True
        return self.page(request, "new_code", context)


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    enrollment = portal.deps.enrollment
    if enrollment is None or portal.deps.transaction is None:
        return router
    pages = ActivationPages(portal, enrollment)
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (BASE, pages.start_page, "GET"),
        (BASE, pages.start, "POST"),
        (PATHS[ActivationStep.CONTACT], pages.contact_page, "GET"),
        (PATHS[ActivationStep.CONTACT], pages.contact, "POST"),
        (PATHS[ActivationStep.VERIFY], pages.code_page, "GET"),
        (PATHS[ActivationStep.VERIFY], pages.code, "POST"),
        (PATHS[ActivationStep.ACCOUNT], pages.account_page, "GET"),
        (PATHS[ActivationStep.ACCOUNT], pages.account, "POST"),
        (PATHS[ActivationStep.TERMS], pages.terms_page, "GET"),
        (PATHS[ActivationStep.TERMS], pages.terms, "POST"),
        (PATHS[ActivationStep.CHOICES], pages.choices_page, "GET"),
        (PATHS[ActivationStep.CHOICES], pages.choices, "POST"),
        (forms.NEW_CODE_PATH, pages.new_code_page, "GET"),
        (forms.NEW_CODE_PATH, pages.new_code, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
