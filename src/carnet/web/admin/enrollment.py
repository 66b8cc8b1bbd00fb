"""The operators' console for opening spaces: the dashboard per département and notification
campaigns (list, start, detail). The person lookup and its actions are in
``enrollment_people``.

Roles: the dashboard and the campaigns are read by the ``enrollment`` and ``support`` roles;
only ``enrollment`` starts a campaign. Every page needs an operator session (TOTP), checks the
role (a 403, audited, without it) and audits the visit or the action as the operator's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from carnet.audit.service import Outcome
from carnet.core.errors import InvalidInput, NotFound
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.schemas import DepartementCounts
from carnet.identity.accounts.schemas import OperatorRole
from carnet.identity.accounts.service import Accounts, CurrentSession, actor_for
from carnet.web.accounts.guards import require
from carnet.web.admin.views import OPERATORS
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

HOME = "/admin/ouverture"
CAMPAIGNS = HOME + "/campagnes"
NEW_CAMPAIGN = CAMPAIGNS + "/nouvelle"
READERS = (OperatorRole.ENROLLMENT, OperatorRole.SUPPORT)
STARTERS = (OperatorRole.ENROLLMENT,)
KINDS = {
    "initial": N_("Vague initiale (personnes jamais informées)"),
    "newcomers": N_("Nouveaux arrivants (vague hebdomadaire)"),
}
PILOTS = enrollment_service.PILOT_DEPARTEMENTS
UNKNOWN_DEPARTEMENT = N_("Un des départements n’existe pas. Saisissez des codes comme 31, 2A, 974.")
Counts = DepartementCounts


@dataclass(frozen=True, slots=True)
class Gate:
    """What every console handler needs: the operator's session checked for a role, and a
    transaction in which the operator's action is audited with the work."""

    portal: Portal
    accounts: Accounts
    enrollment: enrollment_service.Enrollment

    async def operator(
        self, request: Request, roles: Collection[OperatorRole], action: str
    ) -> CurrentSession | Response:
        """The operator's session, or a redirect to sign in; a 403 (audited as refused) for an
        operator without one of ``roles``."""
        session = require(request, kinds=OPERATORS)
        if isinstance(session, Response):
            return session
        if not session.roles.intersection(roles):
            await self.audited(session, action, Outcome.REFUSED, _nothing)
            raise HTTPException(status_code=403)
        return session

    async def audited(
        self,
        session: CurrentSession,
        action: str,
        outcome: Outcome,
        work: Callable[[Connection], Any],
        entity: str = "",
    ) -> Any:
        """``work(db)`` and the operator's audit event, in one transaction."""

        def run(db: Connection) -> Any:
            result = work(db)
            self.accounts.record_operator_action(
                db, session=session, action=action, entity=entity, outcome=outcome
            )
            return result

        return await self.portal.in_transaction(run)

    def render(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        return self.portal.render(request, template, context, area="admin", status_code=status)


def _nothing(_db: Connection) -> None:
    return None


def dashboard_context(rows: list[Counts]) -> dict[str, Any]:
    """The dashboard: one row per département, and the totals."""
    totals = {f.name: sum(getattr(r, f.name) for r in rows) for f in fields(Counts)[1:]}
    return {"title": N_("Ouverture des profils"), "rows": rows, "totals": totals}


def campaign_form_context(form: Form, *, pilots: Collection[str]) -> dict[str, Any]:
    return {
        "title": N_("Lancer une campagne"),
        "form": form,
        "pilots": list(enrollment_service.PILOT_DEPARTEMENTS),
        "checked": set(pilots),
        "kinds": [{"value": k, "label": label, "lang": ""} for k, label in KINDS.items()],
    }


def parse_campaign(form: Form, pilots: list[str], today: date) -> date | None:
    """Check the form's fields (the service checks the départements); the send date if valid."""
    if not pilots and not form.values["departements"]:
        form.add_error("departements", N_("Choisissez au moins un département."))
    if form.values["kind"] not in KINDS:
        form.add_error("kind", N_("Choisissez le type de campagne."), anchor="kind-initial")
    try:
        send_date = date.fromisoformat(form.values["send_date"])
    except ValueError:
        form.add_error("send_date", N_("Saisissez la date d’envoi, par exemple 2027-01-31."))
        return None
    if send_date < today:
        form.add_error("send_date", N_("La date d’envoi ne peut pas être passée."))
    return send_date


class CampaignPages:
    """The handlers of the dashboard and the campaign pages (one per portal)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.enrollment = gate.enrollment

    async def dashboard(self, request: Request) -> Response:
        session = await self.gate.operator(request, READERS, "view:enrollment-dashboard")
        if isinstance(session, Response):
            return session
        rows = await self.gate.audited(
            session,
            "view:enrollment-dashboard",
            Outcome.SUCCESS,
            self.enrollment.console.dashboard,
        )
        context = dashboard_context(rows)
        return self.gate.render(request, "admin/enrollment_dashboard.html", context)

    async def campaigns(self, request: Request) -> Response:
        session = await self.gate.operator(request, READERS, "view:enrollment-campaigns")
        if isinstance(session, Response):
            return session
        found = await self.gate.audited(
            session, "view:enrollment-campaigns", Outcome.SUCCESS, self.enrollment.campaigns
        )
        context = {
            "title": N_("Campagnes de notification"),
            "campaigns": found,
            "kinds": KINDS,
            "can_start": bool(session.roles.intersection(STARTERS)),
        }
        return self.gate.render(request, "admin/enrollment_campaigns.html", context)

    async def new_campaign(self, request: Request) -> Response:
        session = await self.gate.operator(request, STARTERS, "view:enrollment-campaign-form")
        if isinstance(session, Response):
            return session
        today = self.enrollment.console.today().isoformat()
        form = Form(values={"departements": "", "send_date": today, "kind": "initial"})
        context = campaign_form_context(form, pilots=enrollment_service.PILOT_DEPARTEMENTS)
        return self.gate.render(request, "admin/enrollment_campaign_new.html", context)

    async def start_campaign(self, request: Request) -> Response:
        """Check the form, start the campaign, then show it (or the form with its errors)."""
        session = await self.gate.operator(request, STARTERS, "enrollment:campaign-start")
        if isinstance(session, Response):
            return session
        async with request.form(max_files=0) as data:
            form = Form.from_submission(data, ("departements", "send_date", "kind"))
            pilots = [p for p in data.getlist("pilot") if p in PILOTS]
        send_date = parse_campaign(form, pilots, self.enrollment.console.today())
        if form.valid and send_date is not None:
            codes = ",".join([*pilots, form.values["departements"]])
            kind = enrollment_service.CampaignKind(form.values["kind"])

            def start(db: Connection) -> enrollment_service.Campaign:
                return self.enrollment.start_campaign(
                    db, actor=actor_for(session), departements=codes, send_date=send_date, kind=kind
                )

            try:
                campaign = await self.gate.audited(
                    session, "enrollment:campaign-start", Outcome.SUCCESS, start
                )
            except InvalidInput:
                form.add_error("departements", UNKNOWN_DEPARTEMENT)
            else:
                return RedirectResponse(f"{CAMPAIGNS}/{campaign.id}", status_code=303)
        context = campaign_form_context(form, pilots=pilots)
        return self.gate.render(request, "admin/enrollment_campaign_new.html", context, status=400)

    async def campaign(self, request: Request) -> Response:
        session = await self.gate.operator(request, READERS, "view:enrollment-campaign")
        if isinstance(session, Response):
            return session
        campaign_id = str(request.path_params["campaign_id"])[:36]

        def read(db: Connection) -> tuple[enrollment_service.Campaign, dict[str, int]]:
            found = self.enrollment.campaign(db, campaign_id=campaign_id)
            return found, self.enrollment.console.campaign_notices(db, campaign_id=found.id)

        try:
            found, notices = await self.gate.audited(
                session,
                "view:enrollment-campaign",
                Outcome.SUCCESS,
                read,
                entity=f"enrollment-campaign/{campaign_id}",
            )
        except NotFound:
            raise HTTPException(status_code=404) from None
        context = {"title": N_("Campagne"), "campaign": found, "notices": notices, "kinds": KINDS}
        return self.gate.render(request, "admin/enrollment_campaign.html", context)


def build_router(portal: Portal) -> APIRouter:
    """The dashboard and campaign pages (none without accounts and enrollment)."""
    router = APIRouter()
    deps = portal.deps
    if deps.accounts is None or deps.transaction is None or deps.enrollment is None:
        return router
    pages = CampaignPages(Gate(portal, deps.accounts, deps.enrollment))
    for path, handler, methods in (
        (HOME, pages.dashboard, ["GET"]),
        (CAMPAIGNS, pages.campaigns, ["GET"]),
        (NEW_CAMPAIGN, pages.new_campaign, ["GET"]),
        (NEW_CAMPAIGN, pages.start_campaign, ["POST"]),
        (CAMPAIGNS + "/{campaign_id}", pages.campaign, ["GET"]),
    ):
        router.add_api_route(path, handler, methods=methods, include_in_schema=False)
    return router
