"""Closing one's space, ``/compte/fermeture`` (signed in), and reopening it, ``/reouverture``
(NIR, Carte Vitale serial number and birth date: a closed space's account cannot sign in).

The closing page explains what closing does, then asks for the password again (an account
without one, FranceConnect, must have signed in within the last minutes) and, optionally, for
the deletion of the data. Every refusal is a form message or a page saying what to do, with a
4xx; the service checks, counts, audits and writes nothing on a refusal (``enrollment.closure``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carnet.core.errors import ClientError
from carnet.enrollment.errors import (
    ReopenNotAllowed,
    SpaceErased,
    SpaceStateConflict,
    TooManyTries,
)
from carnet.enrollment.schemas import BeneficiaryStatus, SpaceState
from carnet.enrollment.service import Enrollment, EnrollmentSettings
from carnet.identity.accounts.errors import FreshSignInRequired, LockedOut, SignInRefused
from carnet.identity.accounts.schemas import AccountKind
from carnet.web.accounts.guards import require
from carnet.web.enrollment import activation_forms
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

PAGE: Final = "/compte/fermeture"
_HOLDERS: Final[tuple[AccountKind, ...]] = ("patient",)
REOPEN: Final = "/reouverture"
WRONG_PASSWORD: Final = N_("Le mot de passe est incorrect.")
LOCKED: Final = N_(
    "Trop de tentatives ont échoué. Par sécurité, cette action est bloquée pendant quelques "
    "minutes : réessayez plus tard."
)
FRESH: Final = N_(
    "Par sécurité, reconnectez-vous avec FranceConnect, puis revenez sur cette page dans les "
    "minutes qui suivent pour fermer votre espace."
)
# Why a space cannot be closed or reopened: (message, HTTP status).
ENDED: Final[dict[str, tuple[str, int]]] = {
    "not-found": (N_("Aucun espace santé n’est associé à ce compte."), 404),
    "closed": (N_("Votre espace santé est déjà fermé."), 409),
    "erased": (
        N_(
            "Les données de cet espace ont été détruites : elles ne peuvent plus être "
            "récupérées. Vous pouvez demander un nouvel espace, qui sera vide."
        ),
        410,
    ),
    "support": (
        N_(
            "Cet espace ne peut être rouvert qu’en contactant l’assistance (fermeture à la suite "
            "d’un décès ou d’une suspension)."
        ),
        403,
    ),
    "not-closed": (
        N_("Cet espace n’est pas fermé : connectez-vous pour y accéder."),
        409,
    ),
}
MISMATCH: Final = N_(
    "Ces informations ne correspondent à aucun espace fermé. Vérifiez votre numéro de sécurité "
    "sociale, le numéro de série de votre carte Vitale et votre date de naissance."
)
TOO_MANY: Final = N_(
    "Trop de tentatives ont échoué. Par sécurité, réessayez dans une heure, ou contactez "
    "l’assistance."
)


def closing_context(
    *,
    form: Form,
    state: SpaceState | None,
    has_password: bool,
    settings: EnrollmentSettings,
    ended: str = "",
) -> dict[str, Any]:
    """The closing page: its form, where the space stands, and why it cannot close."""
    return {
        "title": N_("Fermer mon espace santé"),
        "form": form,
        "state": state,
        "has_password": has_password,
        "ended": ENDED[ended][0] if ended else "",
        "reopen_path": REOPEN,
        "retention_years": settings.retention_years,
        "deletion_days": settings.deletion_days,
    }


def closed_context(state: SpaceState) -> dict[str, Any]:
    return {
        "title": N_("Votre espace santé est fermé"),
        "state": state,
        "erase_on": state.erase_after.date() if state.erase_after else None,
        "deletion": state.deletion_requested_at is not None,
        "reopen_path": REOPEN,
    }


def reopen_context(*, form: Form, ended: str = "") -> dict[str, Any]:
    return {
        "title": N_("Rouvrir mon espace santé"),
        "form": form,
        "ended": ENDED[ended][0] if ended else "",
    }


def reopened_context(state: SpaceState) -> dict[str, Any]:
    active = state.status is BeneficiaryStatus.ACTIVE
    return {
        "title": N_("Votre espace santé est rouvert"),
        "state": state,
        "next_path": "/connexion" if active else "/activation",
    }


def _refusal(error: ClientError) -> str:
    """The ``ENDED`` key of a refused closing or reopening."""
    if isinstance(error, SpaceErased):
        return "erased"
    if isinstance(error, ReopenNotAllowed):
        return "support"
    if isinstance(error, SpaceStateConflict):
        return "closed" if error.state == "closed" else "not-closed"
    return "not-found"


_CONFIRMATION: Final[tuple[tuple[type[ClientError], str, int], ...]] = (
    (SignInRefused, WRONG_PASSWORD, 401),
    (LockedOut, LOCKED, 429),
    (FreshSignInRequired, FRESH, 403),
)


def close_refusal(form: Form, error: ClientError) -> tuple[str, int]:
    """A refused closing: the form message (a failed confirmation) or the ``ENDED`` key, and
    the HTTP status."""
    for kind, message, status in _CONFIRMATION:
        if isinstance(error, kind):
            form.add_error("password", message)
            return "", status
    ended = _refusal(error)
    return ended, ENDED[ended][1]


class ClosurePages:
    """The handlers (one instance per portal): parse, one service call, render."""

    def __init__(self, portal: Portal, enrollment: Enrollment) -> None:
        assert portal.deps.transaction is not None
        assert portal.deps.accounts is not None
        self.portal = portal
        self.transaction = portal.deps.transaction
        self.accounts = portal.deps.accounts
        self.closure = enrollment.closure
        self.settings = enrollment.settings

    def _render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        return self.portal.render(
            request, f"enrollment/closure_{name}.html", context, status_code=status
        )

    async def _closing_page(
        self, request: Request, session: Any, form: Form, *, ended: str = "", status: int = 200
    ) -> Response:
        def load(db: Any) -> tuple[SpaceState | None, bool]:
            state = self.closure.state(db, patient_id=session.person_id or "")
            summary = self.accounts.summary(db, account_id=session.account_id)
            return state, summary.has_password

        state, has_password = await self.portal.in_transaction(load)
        if state is None and not ended:
            ended, status = "not-found", 404
        context = closing_context(
            form=form,
            state=state,
            has_password=has_password,
            settings=self.settings,
            ended=ended,
        )
        return self._render(request, "form", context, status)

    async def page(self, request: Request) -> Response:
        session = require(request, kinds=_HOLDERS)
        if isinstance(session, Response):
            return session
        return await self._closing_page(request, session, Form())

    async def close(self, request: Request) -> Response:
        """Check the password (or the fresh sign-in), then close; say what happens next."""
        session = require(request, kinds=_HOLDERS)
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            raw = data.get("password")
            password = raw if isinstance(raw, str) else ""  # taken as typed: no stripping
            form = Form.from_submission(data, ("deletion", "confirm_with"))
        deletion = form.values["deletion"] == "oui"
        if form.values["confirm_with"] == "password" and not password:
            form.add_error("password", N_("Saisissez votre mot de passe."))
            return await self._closing_page(request, session, form, status=400)
        address = request.client.host if request.client else None
        try:
            state = await run_in_threadpool(
                lambda: self.closure.close_by_holder(
                    self.transaction,
                    session=session,
                    password=password,
                    deletion_requested=deletion,
                    client_address=address,
                )
            )
        except ClientError as exc:
            ended, status = close_refusal(form, exc)
            return await self._closing_page(request, session, form, ended=ended, status=status)
        # Every session of the account has just ended: the page is shown, not redirected to.
        return self._render(request, "done", closed_context(state))

    async def reopen_page(self, request: Request) -> Response:
        return self._render(request, "reopen", reopen_context(form=Form()))

    async def reopen(self, request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, activation_forms.IDENTITY_FIELDS)
        birth = activation_forms.check_identity(form)
        if not form.valid or birth is None:
            return self._render(request, "reopen", reopen_context(form=form), 400)
        values = form.values
        address = request.client.host if request.client else None
        try:
            state = await self.portal.in_transaction(
                lambda db: self.closure.reopen_with_card(
                    db,
                    nir=values["nir"],
                    vitale_serial=values["vitale_serial"],
                    birth_date=birth,
                    client_address=address,
                )
            )
        except TooManyTries:
            form.add_error("nir", TOO_MANY)
            return self._render(request, "reopen", reopen_context(form=form), 429)
        except (SpaceErased, ReopenNotAllowed, SpaceStateConflict) as exc:
            ended = _refusal(exc)
            context = reopen_context(form=form, ended=ended)
            return self._render(request, "reopen", context, ENDED[ended][1])
        except ClientError:  # details that match no closed space, or a malformed NIR
            form.add_error("nir", MISMATCH)
            return self._render(request, "reopen", reopen_context(form=form), 404)
        return self._render(request, "reopened", reopened_context(state))


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    enrollment = portal.deps.enrollment
    if enrollment is None or portal.deps.transaction is None or portal.deps.accounts is None:
        return router
    pages = ClosurePages(portal, enrollment)
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (PAGE, pages.page, "GET"),
        (PAGE, pages.close, "POST"),
        (REOPEN, pages.reopen_page, "GET"),
        (REOPEN, pages.reopen, "POST"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
