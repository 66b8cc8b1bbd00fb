"""« Ma famille » (``/famille``) and « Mes proches aidants » (``/proches-aidants``), for a
signed-in patient.

The family page lists the children attached to the holder (activate one: their profile joins
the account and the profile switcher), invites the second legal representative, and shows the
invitations waiting for the person's answer; the holder may withdraw an invitation still
waiting. The caregivers page invites a caregiver, lists and revokes links, answers invitations
received, and gives both people of an accepted link its PDF proof. Each action is one service
call in one transaction; a refusal (``FamilyRefused``) comes back as a message and a 4xx, and
its audit event is kept (the transaction commits: the service wrote nothing else). Success
redirects back to the page (303), so a reload never posts twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.responses import RedirectResponse, Response

from carnet.core.errors import NotFound
from carnet.enrollment.errors import FamilyRefused
from carnet.enrollment.service import Enrollment
from carnet.identity.accounts.schemas import AccountKind, CurrentSession
from carnet.web.accounts.guards import require
from carnet.web.enrollment.activation_forms import parse_birth
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

_PATIENTS: Final[tuple[AccountKind, ...]] = ("patient",)
FAMILY: Final = "/famille"
CAREGIVERS: Final = "/proches-aidants"
PERSON_FIELDS: Final = ("nir", "family_name", "given_name", "birth_date")
NO_MATCH: Final = N_(
    "Ces informations ne correspondent à aucune personne inscrite. Vérifiez le numéro de "
    "sécurité sociale, le nom de naissance, le premier prénom et la date de naissance."
)
# Why a request is refused: (message, HTTP status, the form field it concerns or "").
REFUSALS: Final[dict[str, tuple[str, int, str]]] = {
    "not-your-child": (N_("Cet enfant n’est pas rattaché à votre compte."), 403, ""),
    "adult": (N_("Cet enfant est majeur : il gère lui-même son espace santé."), 409, ""),
    "unavailable": (
        N_("Cet espace n’est pas disponible (opposition, fermeture ou suspension)."),
        409,
        "",
    ),
    "already-active": (N_("Ce profil est déjà dans votre compte."), 409, ""),
    "not-activated": (
        N_("Ajoutez d’abord le profil de cet enfant à votre compte, puis invitez l’autre parent."),
        409,
        "",
    ),
    "no-match": (NO_MATCH, 422, "nir"),
    "self": (N_("Vous ne pouvez pas vous inviter vous-même."), 422, "nir"),
    "invitee-not-active": (
        N_(
            "Cette personne n’a pas encore activé son espace santé : elle doit l’activer avant "
            "de pouvoir être invitée."
        ),
        409,
        "nir",
    ),
    "already-representative": (
        N_("Cet enfant a déjà ses deux représentants légaux."),
        409,
        "",
    ),
    "duplicate": (N_("Une invitation est déjà en cours pour cette personne."), 409, ""),
    "expired": (
        N_("Cette invitation a expiré. Demandez à la personne de vous inviter de nouveau."),
        410,
        "",
    ),
    "answered": (N_("Cette invitation a déjà reçu une réponse."), 409, ""),
    "not-active": (
        N_("Activez votre espace santé avant d’inviter un proche aidant."),
        409,
        "",
    ),
    "too-many-caregivers": (
        N_(
            "Vous avez déjà 3 proches aidants (invitations en cours comprises) : retirez-en un "
            "avant d’en inviter un autre."
        ),
        409,
        "",
    ),
    "caregiver-full": (
        N_(
            "Cette personne aide déjà 5 personnes (invitations en cours comprises) : elle ne "
            "peut pas en aider davantage."
        ),
        409,
        "",
    ),
    "ended": (N_("Ce lien d’aide a déjà pris fin."), 409, ""),
    "not-a-patient": (N_("Cette page est réservée aux titulaires d’un espace santé."), 403, ""),
    "not-found": (N_("Cette invitation n’existe pas, ou ne vous concerne pas."), 404, ""),
    "no-proof": (N_("Ce justificatif n’existe pas, ou ne vous concerne pas."), 404, ""),
}

STATUSES: Final = {
    "pending": N_("en attente de réponse"),
    "accepted": N_("acceptée"),
    "refused": N_("refusée"),
    "expired": N_("expirée"),
    "cancelled": N_("annulée"),
    "revoked": N_("retirée"),
}


def check_person(form: Form) -> Any:
    """The typed identity's birth date, once every field is filled in (errors on ``form``)."""
    labels = {
        "nir": N_("Saisissez le numéro de sécurité sociale (15 caractères)."),
        "family_name": N_("Saisissez le nom de naissance."),
        "given_name": N_("Saisissez le premier prénom."),
        "birth_date": N_("Saisissez la date de naissance, par exemple 14/07/1985."),
    }
    for name, message in labels.items():
        if not form.values.get(name):
            form.add_error(name, message)
    nir = "".join(form.values.get("nir", "").split())
    if nir and len(nir) != 15:
        form.add_error("nir", labels["nir"])
    birth = parse_birth(form.values.get("birth_date", ""))
    if form.values.get("birth_date") and birth is None:
        form.add_error("birth_date", labels["birth_date"])
    return birth


def refusal(reason: str, form: Form | None = None) -> tuple[str, int]:
    """The page's alert (or a form error) and the HTTP status of a refused request."""
    message, status, field = REFUSALS.get(reason, REFUSALS["not-found"])
    if form is not None and field:
        form.add_error(field, message)
        return "", status
    return message, status


class FamilyPages:
    """The handlers of both pages (one instance per portal)."""

    def __init__(self, portal: Portal, enrollment: Enrollment) -> None:
        self.portal = portal
        self.families = enrollment.families
        self.caregivers = enrollment.caregivers

    # --- the pages ------------------------------------------------------------------------------

    def family_context(self, db: Connection, session: CurrentSession) -> dict[str, Any]:
        families = self.families
        return {
            "title": N_("Ma famille"),
            "children": families.children(db, session=session),
            "sent": families.invitations_sent(db, session=session),
            "received": families.invitations_received(db, session=session),
        }

    def caregivers_context(self, db: Connection, session: CurrentSession) -> dict[str, Any]:
        caregivers = self.caregivers
        helped = caregivers.helped(db, session=session)
        return {
            "title": N_("Mes proches aidants"),
            "caregivers": caregivers.my_caregivers(db, session=session),
            "helped": [h for h in helped if h.status.value == "accepted"],
            "received": [h for h in helped if h.status.value == "pending"],
        }

    async def _page(
        self,
        request: Request,
        session: CurrentSession,
        name: str,
        *,
        form: Form | None = None,
        alert: str = "",
        status: int = 200,
        work: Callable[[Connection], Any] | None = None,
    ) -> Response:
        """Run ``work`` (an action) then read the page, in one transaction; render it."""
        loader = self.family_context if name == "family" else self.caregivers_context

        def run(db: Connection) -> tuple[Any, dict[str, Any]]:
            outcome = None
            if work is not None:
                try:
                    outcome = work(db)
                except FamilyRefused as refused:
                    outcome = refused.reason
                except NotFound:
                    outcome = "not-found"
            return outcome, loader(db, session)

        outcome, context = await self.portal.in_transaction(run)
        if work is not None and not isinstance(outcome, str):
            return RedirectResponse(FAMILY if name == "family" else CAREGIVERS, status_code=303)
        if isinstance(outcome, str):
            alert, status = refusal(outcome, form)
        context.update(form=form or Form(), alert=alert, statuses=STATUSES)
        return self.portal.render(
            request, f"enrollment/families_{name}.html", context, status_code=status
        )

    async def family(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        return await self._page(request, session, "family")

    async def caregivers_page(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        return await self._page(request, session, "caregivers")

    # --- the actions ----------------------------------------------------------------------------

    async def _submitted(self, request: Request, fields: tuple[str, ...]) -> Form:
        async with request.form(max_files=0) as data:
            return Form.from_submission(data, fields)

    async def activate(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        child_id = (await self._submitted(request, ("child",))).values["child"]
        return await self._page(
            request,
            session,
            "family",
            work=lambda db: self.families.activate_child(db, session=session, child_id=child_id),
        )

    async def invite_second(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        form = await self._submitted(request, ("child", *PERSON_FIELDS))
        birth = check_person(form)
        if not form.valid:
            return await self._page(request, session, "family", form=form, status=400)
        values = form.values
        return await self._page(
            request,
            session,
            "family",
            form=form,
            work=lambda db: self.families.invite_second(
                db,
                session=session,
                child_id=values["child"],
                nir=values["nir"],
                family_name=values["family_name"],
                given_name=values["given_name"],
                birth_date=birth,
            ),
        )

    async def answer_family(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        values = (await self._submitted(request, ("invitation", "answer"))).values
        return await self._page(
            request,
            session,
            "family",
            work=lambda db: self.families.answer(
                db,
                session=session,
                invitation_id=values["invitation"],
                accept=values["answer"] == "accept",
            ),
        )

    async def withdraw(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        invitation_id = (await self._submitted(request, ("invitation",))).values["invitation"]
        return await self._page(
            request,
            session,
            "family",
            work=lambda db: self.families.withdraw(
                db, session=session, invitation_id=invitation_id
            ),
        )

    async def invite_caregiver(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        form = await self._submitted(request, PERSON_FIELDS)
        birth = check_person(form)
        if not form.valid:
            return await self._page(request, session, "caregivers", form=form, status=400)
        values = form.values
        return await self._page(
            request,
            session,
            "caregivers",
            form=form,
            work=lambda db: self.caregivers.invite(
                db,
                session=session,
                nir=values["nir"],
                family_name=values["family_name"],
                given_name=values["given_name"],
                birth_date=birth,
            ),
        )

    async def answer_caregiver(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        values = (await self._submitted(request, ("link", "answer"))).values
        return await self._page(
            request,
            session,
            "caregivers",
            work=lambda db: self.caregivers.answer(
                db, session=session, link_id=values["link"], accept=values["answer"] == "accept"
            ),
        )

    async def revoke_caregiver(self, request: Request) -> Response:
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        link_id = (await self._submitted(request, ("link",))).values["link"]
        return await self._page(
            request,
            session,
            "caregivers",
            work=lambda db: self.caregivers.revoke(db, session=session, link_id=link_id),
        )

    async def proof(self, request: Request) -> Response:
        """The delegation proof of an accepted link, for either of its two people: the link's
        own id in the URL and nothing else; a 404 with the page for anyone else."""
        session = require(request, kinds=_PATIENTS)
        if isinstance(session, Response):
            return session
        link_id = str(request.path_params["link_id"])[:64]
        try:
            pdf = await self.portal.in_transaction(
                lambda db: self.caregivers.proof_pdf(db, session=session, link_id=link_id)
            )
        except (NotFound, FamilyRefused):
            alert, status = refusal("no-proof")
            return await self._page(request, session, "caregivers", alert=alert, status=status)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "content-disposition": 'attachment; filename="justificatif-proche-aidant.pdf"',
                "cache-control": "no-store",
            },
        )


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    enrollment = portal.deps.enrollment
    if enrollment is None or portal.deps.transaction is None or portal.deps.accounts is None:
        return router
    pages = FamilyPages(portal, enrollment)
    routes: list[tuple[str, Callable[[Request], Any], str]] = [
        (FAMILY, pages.family, "GET"),
        (f"{FAMILY}/activer", pages.activate, "POST"),
        (f"{FAMILY}/inviter", pages.invite_second, "POST"),
        (f"{FAMILY}/repondre", pages.answer_family, "POST"),
        (f"{FAMILY}/retirer", pages.withdraw, "POST"),
        (CAREGIVERS, pages.caregivers_page, "GET"),
        (f"{CAREGIVERS}/inviter", pages.invite_caregiver, "POST"),
        (f"{CAREGIVERS}/repondre", pages.answer_caregiver, "POST"),
        (f"{CAREGIVERS}/retirer", pages.revoke_caregiver, "POST"),
        (CAREGIVERS + "/justificatif/{link_id}", pages.proof, "GET"),
    ]
    for path, handler, method in routes:
        router.add_api_route(path, handler, methods=[method], include_in_schema=False)
    return router
