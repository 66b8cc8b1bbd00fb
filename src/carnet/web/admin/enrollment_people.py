"""The console's person lookup and what an operator does for a caller: a phone opposition (and
its PDF proof), a new activation code, a suspension for fraud (and lifting it).

- **No NIR in a URL.** The NIR is posted; the answer is the page itself (no redirect to a URL
  naming anyone). Actions post the person's internal id, never the NIR, and answer with the
  person's page again, saying what was done.
- **Roles.** Lookup: ``support`` and ``security``. Phone opposition, its proof and a new code:
  ``support``. Suspension and lifting it: ``security``. Without the role: a 403, audited.
- **Audited.** Each lookup and action is the operator's action (``record_operator_action``, on
  the system chain) and the enrollment area's event on the person's own chain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Final

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.exceptions import HTTPException
from starlette.responses import Response

from carnet.audit.service import Outcome
from carnet.core.errors import ClientError, NotFound
from carnet.enrollment import errors as enrollment_errors
from carnet.enrollment.schemas import BeneficiaryStatus, CodeResent, ConsolePerson
from carnet.identity.accounts.schemas import OperatorRole
from carnet.identity.accounts.service import CurrentSession, actor_for
from carnet.web.admin.enrollment import HOME, Gate
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

PEOPLE = HOME + "/personnes"
LOOKERS = (OperatorRole.SUPPORT, OperatorRole.SECURITY)
SUPPORT = (OperatorRole.SUPPORT,)
SECURITY = (OperatorRole.SECURITY,)
LOOKUP_TEMPLATE = "admin/enrollment_lookup.html"
PERSON_TEMPLATE = "admin/enrollment_person.html"
_ID_MAX: Final = 36

NIR_MESSAGES = {
    "format": N_("Saisissez les 15 caractères du numéro de sécurité sociale, clé comprise."),
    "key": N_("La clé (les deux derniers chiffres) ne correspond pas au numéro : vérifiez-le."),
}
ERASED = N_("Les données de cette personne ont été effacées : il n’y a plus rien à afficher.")
UNKNOWN_NIR = N_("Aucune personne n’est inscrite sous ce numéro. Vérifiez-le avec la personne.")
CODE_REFUSED = {
    "not-informed": N_(
        "Cette personne n’a pas encore été informée : son code viendra avec son avis."
    ),
    "dependant": N_("Les codes d’un enfant sont envoyés à la personne dont il dépend."),
    "status": N_("Le profil de cette personne n’attend pas d’activation : aucun code envoyé."),
    "no-contact": N_(
        "Aucun e-mail utilisable et un courrier est déjà parti : la personne peut demander un "
        "code par SMS en ligne."
    ),
}
CODE_DONE = {
    CodeResent.EMAILED: N_("Un nouveau code est parti à l’adresse e-mail du dossier."),
    CodeResent.LETTER_PENDING: N_(
        "Pas d’e-mail utilisable : le courrier en attente portera un nouveau code."
    ),
}
MISMATCH = N_(
    "Le numéro de carte Vitale ou la date de naissance ne correspond pas : rien n’a été enregistré."
)
WINDOW_CLOSED = N_(
    "Le délai d’opposition est terminé ou le profil est déjà ouvert : la personne peut le "
    "clôturer à la place."
)
OPPOSED = N_("L’opposition est enregistrée sous la référence %(reference)s.")
OPPOSITION_REFUSED = N_("L’opposition ne peut pas être enregistrée dans l’état actuel du dossier.")
SUSPENDED = N_("Le profil est suspendu. Il sera clôturé sans objection dans le délai prévu.")
LIFTED = N_("La suspension est levée.")
SUSPENSION_REASONS = ("fraud", "malfunction")
SUSPENSION_REFUSED = N_("Ce profil ne peut pas être suspendu ou rétabli dans son état actuel.")


def person_context(
    person: ConsolePerson,
    session: CurrentSession,
    *,
    form: Form | None = None,
    done: str = "",
    done_values: dict[str, str] | None = None,
    receipt: str = "",
) -> dict[str, Any]:
    """The person's page: identity (masked), notices, space, and the actions this operator's
    roles allow in this status."""
    status = person.status
    support = OperatorRole.SUPPORT in session.roles
    security = OperatorRole.SECURITY in session.roles
    waiting = status in {BeneficiaryStatus.NOTIFIED, BeneficiaryStatus.LETTER_DUE}
    return {
        "title": N_("Personne"),
        "person": person,
        "form": form or Form(),
        "done": done,
        "done_values": done_values or {},
        "receipt": receipt,
        "can": {
            # A child's opposition is recorded with their holder's details (who calls).
            "oppose": support and waiting,
            "resend": support and not person.dependant and (waiting or status.value == "open"),
            "proof": support and bool(receipt),
            "suspend": security and status in {BeneficiaryStatus.OPEN, BeneficiaryStatus.ACTIVE},
            "lift": security and status is BeneficiaryStatus.SUSPENDED,
        },
    }


def _person_id(data: Any) -> str:
    value = data.get("person")
    if not isinstance(value, str) or not value or len(value) > _ID_MAX:
        raise HTTPException(status_code=400)
    return value


class PeoplePages:
    """The handlers of the lookup and the actions on a person (one per portal)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.enrollment = gate.enrollment

    async def lookup_page(self, request: Request) -> Response:
        session = await self.gate.operator(request, LOOKERS, "view:enrollment-lookup")
        if isinstance(session, Response):
            return session
        context = {"title": N_("Rechercher une personne"), "form": Form()}
        return self.gate.render(request, LOOKUP_TEMPLATE, context)

    async def lookup(self, request: Request) -> Response:
        """Find the person by the posted NIR; the answer is their page (or the form)."""
        session = await self.gate.operator(request, LOOKERS, "enrollment:lookup")
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("nir",))
        nir = form.values.pop("nir")  # never written back into the page
        console, accounts, actor = self.enrollment.console, self.gate.accounts, actor_for(session)

        def work(db: Connection) -> ConsolePerson | None:
            found = console.lookup(db, actor=actor, nir=nir[:40])
            accounts.record_operator_action(
                db,
                session=session,
                action="enrollment:lookup",
                entity=f"enrollment-beneficiary/{found.id}" if found else "",
                outcome=Outcome.SUCCESS if found else Outcome.NOT_FOUND,
            )
            return found

        try:
            person = await self.gate.portal.in_transaction(work)
        except NotFound:  # listed, but their data was erased: nothing left to show
            await self.gate.audited(session, "enrollment:lookup", Outcome.GONE, _nothing)
            form.add_error("nir", ERASED)
            return self._lookup_form(request, form, 410)
        except enrollment_errors.InvalidNir as invalid:
            await self.gate.audited(session, "enrollment:lookup", Outcome.INVALID, _nothing)
            form.add_error("nir", NIR_MESSAGES[invalid.rule])
            return self._lookup_form(request, form, 400)
        if person is None:
            form.add_error("nir", UNKNOWN_NIR)
            return self._lookup_form(request, form, 404)
        return self.gate.render(request, PERSON_TEMPLATE, person_context(person, session))

    async def resend_code(self, request: Request) -> Response:
        session = await self.gate.operator(request, SUPPORT, "enrollment:code-resend")
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            person_id = _person_id(data)
        actor = actor_for(session)
        console = self.enrollment.console
        form = Form()

        def work(db: Connection) -> CodeResent:
            return console.resend_code(db, actor=actor, beneficiary_id=person_id)

        try:
            done = await self._act(session, "enrollment:code-resend", person_id, work)
        except enrollment_errors.CodeNotResent as refused:
            form.add_error("code", CODE_REFUSED.get(refused.reason, CODE_REFUSED["status"]))
            return await self._person(request, session, person_id, form=form, status=409)
        return await self._person(request, session, person_id, done=CODE_DONE[done])

    async def oppose(self, request: Request) -> Response:
        """Record the caller's opposition, once the Vitale serial and birth date they read out
        match the file."""
        session = await self.gate.operator(request, SUPPORT, "enrollment:phone-opposition")
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            person_id = _person_id(data)
            form = Form.from_submission(data, ("vitale_serial", "birth_date"))
        birth = _birth_date(form)
        if birth is None:
            return await self._person(request, session, person_id, form=form, status=400)
        actor, enrollment = actor_for(session), self.enrollment

        def work(db: Connection) -> str:
            nir = enrollment.console.nir_of(db, beneficiary_id=person_id)
            # For a child, the holder calls: their details are checked, the child opposed.
            holder_nir = enrollment.opposition.holder_nir_of(db, beneficiary_id=person_id)
            receipt = enrollment.opposition.oppose_by_phone(
                db,
                actor=actor,
                nir=holder_nir or nir,
                vitale_serial=form.values["vitale_serial"],
                birth_date=birth,
                child_nir=nir if holder_nir else None,
            )
            return receipt.reference

        try:
            reference = await self._act(session, "enrollment:phone-opposition", person_id, work)
        except enrollment_errors.IdentityMismatch:
            form.add_error("vitale_serial", MISMATCH)
            return await self._person(request, session, person_id, form=form, status=400)
        except enrollment_errors.OppositionWindowClosed:
            form.add_error("vitale_serial", WINDOW_CLOSED)
            return await self._person(request, session, person_id, form=form, status=409)
        except ClientError:
            form.add_error("vitale_serial", OPPOSITION_REFUSED)
            return await self._person(request, session, person_id, form=form, status=409)
        return await self._person(
            request,
            session,
            person_id,
            done=OPPOSED,
            done_values={"reference": reference},
            receipt=reference,
        )

    async def proof(self, request: Request) -> Response:
        """The PDF proof of an opposition, for the operator to send to the caller."""
        session = await self.gate.operator(request, SUPPORT, "enrollment:opposition-proof")
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            reference = data.get("reference")
        if not isinstance(reference, str) or not reference or len(reference) > 40:
            raise HTTPException(status_code=400)
        actor, opposition = actor_for(session), self.enrollment.opposition
        try:
            pdf = await self.gate.audited(
                session,
                "enrollment:opposition-proof",
                Outcome.SUCCESS,
                lambda db: opposition.proof_pdf(db, actor=actor, receipt=reference),
            )
        except NotFound:
            raise HTTPException(status_code=404) from None
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "content-disposition": 'attachment; filename="preuve-opposition.pdf"',
                "cache-control": "no-store",
            },
        )

    async def suspend(self, request: Request) -> Response:
        return await self._suspension(request, lift=False)

    async def lift(self, request: Request) -> Response:
        return await self._suspension(request, lift=True)

    async def _suspension(self, request: Request, *, lift: bool) -> Response:
        action = "enrollment:lift-suspension" if lift else "enrollment:suspend"
        session = await self.gate.operator(request, SECURITY, action)
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            person_id = _person_id(data)
            form = Form.from_submission(data, ("reason",))
        reason = form.values["reason"]
        if not lift and reason not in SUSPENSION_REASONS:
            form.add_error(
                "reason", N_("Choisissez le motif de la suspension."), anchor="reason-fraud"
            )
            return await self._person(request, session, person_id, form=form, status=400)
        actor, closure = actor_for(session), self.enrollment.closure

        def work(db: Connection) -> None:
            if lift:
                closure.lift_suspension(db, actor=actor, patient_id=person_id)
            else:
                closure.suspend(db, actor=actor, patient_id=person_id, reason=reason)

        try:
            await self._act(session, action, person_id, work)
        except ClientError:
            form.add_error("reason", SUSPENSION_REFUSED, anchor="suspension")
            return await self._person(request, session, person_id, form=form, status=409)
        return await self._person(request, session, person_id, done=LIFTED if lift else SUSPENDED)

    # --- shared -------------------------------------------------------------------------------

    async def _act(
        self,
        session: CurrentSession,
        action: str,
        person_id: str,
        work: Callable[[Connection], Any],
    ) -> Any:
        """``work`` audited as the operator's action; a refusal is audited too (committed: the
        enrollment area's own refusal event goes with it) and re-raised."""
        entity = f"enrollment-beneficiary/{person_id}"
        try:
            return await self.gate.audited(session, action, Outcome.SUCCESS, work, entity=entity)
        except NotFound:
            raise HTTPException(status_code=404) from None
        except ClientError:
            await self.gate.audited(session, action, Outcome.REFUSED, _nothing, entity=entity)
            raise

    async def _person(
        self,
        request: Request,
        session: CurrentSession,
        person_id: str,
        *,
        status: int = 200,
        **options: Any,
    ) -> Response:
        console = self.enrollment.console
        try:
            person = await self.gate.portal.in_transaction(
                lambda db: console.person(db, beneficiary_id=person_id)
            )
        except NotFound:
            raise HTTPException(status_code=404) from None
        context = person_context(person, session, **options)
        return self.gate.render(request, PERSON_TEMPLATE, context, status=status)

    def _lookup_form(self, request: Request, form: Form, status: int) -> Response:
        context = {"title": N_("Rechercher une personne"), "form": form}
        return self.gate.render(request, LOOKUP_TEMPLATE, context, status=status)


def _birth_date(form: Form) -> date | None:
    if not form.values["vitale_serial"]:
        form.add_error("vitale_serial", N_("Saisissez le numéro de série de la carte Vitale."))
    try:
        birth = date.fromisoformat(form.values["birth_date"])
    except ValueError:
        form.add_error("birth_date", N_("Saisissez la date de naissance, par exemple 1984-12-31."))
        return None
    return birth if form.valid else None


def _nothing(_db: Connection) -> None:
    return None


def build_router(portal: Portal) -> APIRouter:
    """The lookup and action routes (none without accounts and enrollment)."""
    router = APIRouter()
    deps = portal.deps
    if deps.accounts is None or deps.transaction is None or deps.enrollment is None:
        return router
    pages = PeoplePages(Gate(portal, deps.accounts, deps.enrollment))
    for path, handler, methods in (
        (PEOPLE, pages.lookup_page, ["GET"]),
        (PEOPLE, pages.lookup, ["POST"]),
        (PEOPLE + "/code", pages.resend_code, ["POST"]),
        (PEOPLE + "/opposition", pages.oppose, ["POST"]),
        (PEOPLE + "/opposition/preuve", pages.proof, ["POST"]),
        (PEOPLE + "/suspension", pages.suspend, ["POST"]),
        (PEOPLE + "/suspension/levee", pages.lift, ["POST"]),
    ):
        router.add_api_route(path, handler, methods=methods, include_in_schema=False)
    return router
