"""What the circle and wishes pages share: the space's door, today's date in France, the
paths, and rendering with the status of a refusal."""

from __future__ import annotations

from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from carnet.web.i18n import N_
from carnet.web.patient.space import SpacePages
from carnet.web.rendering import Portal

INDEX: Final = "/volontes"
CONTACT_ADD: Final = "/volontes/contacts/ajouter"
CONTACT_EDIT: Final = "/volontes/contacts/{contact_id}/modifier"
CONTACT_DELETE: Final = "/volontes/contacts/{contact_id}/supprimer"
DONATION: Final = "/volontes/don-organes"
DIRECTIVES: Final = "/volontes/directives"
DIRECTIVES_FORM: Final = "/volontes/directives/formulaire"
DIRECTIVES_UPLOAD: Final = "/volontes/directives/deposer"
DIRECTIVES_REPLACE: Final = "/volontes/directives/remplacer"
DIRECTIVES_DOWNLOAD: Final = "/volontes/directives/{document_id}/telecharger"
PARIS: Final = ZoneInfo("Europe/Paris")
_ID_MAX: Final = 64
NOTICES: Final = {
    "contact-ajoute": N_("Le contact est enregistré."),
    "contact-modifie": N_("Le contact est modifié."),
    "contact-supprime": N_("Le contact est supprimé."),
    "don-organes": N_("Votre déclaration est enregistrée."),
    "don-organes-retire": N_("Votre déclaration est retirée."),
    "directives": N_("Vos directives anticipées sont enregistrées dans vos documents."),
}


def notice(request: Request) -> str:
    """The notice a redirect after a POST asked for (``?fait=``), or nothing."""
    return NOTICES.get(request.query_params.get("fait", ""), "")


class CirclePages:
    """Base of the circle pages' handlers: the space, today, rendering."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.space = SpacePages(portal)

    def today(self) -> date:
        """Today in France (the date the person sees on their directives)."""
        return self.space.record.clock.now().astimezone(PARIS).date()

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        return self.portal.render(
            request, f"patient/wishes/{name}.html", context, status_code=status
        )


def path_id(request: Request, name: str) -> str:
    """An opaque resource id from the path, bounded (FHIR ids are at most 64 characters)."""
    return str(request.path_params[name])[:_ID_MAX]


def done(path: str, what: str) -> Response:
    """Redirect after a successful POST, with the key of the notice the next page shows."""
    return RedirectResponse(f"{path}?fait={what}", status_code=303)
