"""The operators' area: every page needs an operator session (TOTP-signed), and every visit
is audited as the operator's action."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from carnet.identity.accounts.schemas import AccountKind, CurrentSession
from carnet.web.accounts.guards import require
from carnet.web.i18n import N_
from carnet.web.rendering import Portal

OPERATORS: tuple[AccountKind, ...] = ("operator",)
ROLE_LABELS = {
    "support": N_("Support aux usagers"),
    "enrollment": N_("Ouverture des profils"),
    "referencing": N_("Référencement des services"),
    "security": N_("Sécurité"),
}


def landing_context(session: CurrentSession | None = None) -> dict[str, Any]:
    """The operator's home: who they are acting as, and their roles."""
    roles = sorted(r.value for r in session.roles) if session is not None else []
    return {
        "title": N_("Administration"),
        "signed_in": session is not None,
        "roles": [ROLE_LABELS[r] for r in roles],
    }


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    accounts = portal.deps.accounts
    transaction = portal.deps.transaction

    @router.get("/admin", include_in_schema=False)
    async def landing(request: Request) -> Response:
        if accounts is None or transaction is None:  # a portal without accounts (tests)
            return portal.render(request, "admin/home.html", landing_context(), area="admin")
        session = require(request, kinds=OPERATORS)
        if isinstance(session, Response):
            return session

        def audit() -> None:
            with transaction() as db:
                accounts.record_operator_action(db, session=session, action="view:admin-home")

        await run_in_threadpool(audit)
        return portal.render(request, "admin/home.html", landing_context(session), area="admin")

    return router
