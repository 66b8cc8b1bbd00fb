"""The shell every page sits in: the areas, their navigation, and the hooks accounts will feed.

Three areas share one layout: ``patient`` (the public site and, later, the patient's space),
``pro`` (professionals) and ``admin`` (operators). The profile switcher renders the profiles the
request's context provides: none until accounts exist; the accounts' middleware will put a list of
``ProfileChoice`` in ``request.state.profiles`` (a parent acting for a child, a caregiver).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

from carnet.web.i18n import N_

Area = Literal["patient", "pro", "admin"]


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    """A catalogue message id, translated in the template."""
    href: str


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    """One profile the signed-in person may act as."""

    key: str
    """An opaque handle posted back by the switcher (never an INS or a record id)."""
    label: str
    """What the person sees: « Moi », « Léa (ma fille) »."""
    current: bool = False


NAVIGATION: dict[Area, tuple[NavItem, ...]] = {
    "patient": (
        NavItem(N_("Accueil"), "/"),
        NavItem(N_("Documents"), "/documents"),
        NavItem(N_("Profil médical"), "/profil-medical"),
        NavItem(N_("Mesures"), "/mesures"),
        NavItem(N_("Vaccinations"), "/vaccinations"),
        NavItem(N_("Entourage et volontés"), "/volontes"),
        NavItem(N_("Notifications"), "/notifications"),
        NavItem(N_("Mes données"), "/mes-donnees"),
        NavItem(N_("Langue"), "/preferences"),
    ),
    "pro": (NavItem(N_("Espace professionnel"), "/pro"),),
    "admin": (NavItem(N_("Administration"), "/admin"),),
}

AREA_HOMES: dict[Area, str] = {"patient": "/", "pro": "/pro", "admin": "/admin"}

FOOTER_LINKS = (
    NavItem(N_("Plan du site"), "/plan-du-site"),
    NavItem(N_("Accessibilité : non conforme"), "/accessibilite"),
    NavItem(N_("Mentions légales"), "/mentions-legales"),
    NavItem(N_("Données personnelles"), "/donnees-personnelles"),
)

PROFILE_SWITCH_ACTION = "/profil"
"""Where the switcher posts ``profile`` (the route arrives with accounts)."""


def profiles_of(request: Request) -> Sequence[ProfileChoice]:
    """The profiles the accounts' middleware put in the request state (none for now)."""
    profiles = getattr(request.state, "profiles", ())
    return tuple(p for p in profiles if isinstance(p, ProfileChoice))


def navigation(area: Area, path: str) -> list[dict[str, object]]:
    """The area's menu, with the current page marked (``aria-current``)."""
    return [
        {"label": item.label, "href": item.href, "current": _is_current(item.href, path)}
        for item in NAVIGATION[area]
    ]


def _is_current(href: str, path: str) -> bool:
    if href == "/":
        return path == "/"
    return path == href or path.startswith(href + "/")
