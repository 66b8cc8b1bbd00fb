"""What the portal needs for federated sign-in, and what every page's shell shows of it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request

from carnet.core.clock import Clock
from carnet.identity.accounts.service import Accounts
from carnet.identity.federation.ports import KnownPeople
from carnet.identity.federation.service import Federation

SIGNED_IN_COOKIE = "carnet_federation"
"""The sealed reminder of a federated sign-in (for the provider's logout): SameSite=Strict,
so that a link from another site cannot make the browser sign out."""


@dataclass(frozen=True)
class FederationDeps:
    federation: Federation
    accounts: Accounts
    """Ends Carnet's own session when the person signs out through the provider."""
    transaction: Callable[[], AbstractContextManager[Connection]]
    people: KnownPeople
    clock: Clock
    public_base_url: str

    @property
    def secure(self) -> bool:
        return self.public_base_url.startswith("https://")


def shell_links(deps: FederationDeps | None, request: Request) -> dict[str, Any]:
    """The sign-in buttons a page may show, and the provider logout when one applies."""
    if deps is None:
        return {"franceconnect": False, "prosanteconnect": False, "logout": None}
    federation = deps.federation
    logout = None
    if request.cookies.get(SIGNED_IN_COOKIE):
        logout = "/connexion/deconnexion"
    return {
        "franceconnect": federation.enabled("franceconnect"),
        "prosanteconnect": federation.enabled("prosanteconnect"),
        "logout": logout,
    }
