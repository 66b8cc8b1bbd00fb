"""What the documents pages share: the space (``SpacePages``), rendering, the notices shown
after a change, and how the service's refusals become 4xx pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from carnet.documents import errors
from carnet.documents.service import ACCEPT, CATEGORIES, DEFAULT_MAX_BYTES
from carnet.record.service import Repository
from carnet.web.i18n import N_
from carnet.web.patient.space import Acting, SpacePages
from carnet.web.rendering import Portal

_T = TypeVar("_T")
MAX_UPLOAD_BYTES: Final = DEFAULT_MAX_BYTES
"""The upload limit (the lead's ``documents`` settings section will carry it)."""

NOTICES: Final[dict[str, str]] = {
    "ajoute": N_("Le document est ajouté à votre espace."),
    "supprime": N_("La suppression est faite."),
    "masque": N_("Le document est masqué aux professionnels de santé."),
    "visible": N_("Le document est visible par les professionnels de santé que vous autorisez."),
    "epingle": N_("Le document est épinglé en haut de la liste."),
    "desepingle": N_("Le document n’est plus épinglé."),
    "deplace": N_("Le classement est enregistré."),
    "modifie": N_("Les modifications sont enregistrées."),
    "dossier": N_("Le dossier est enregistré."),
    "dossier-supprime": N_(
        "Le dossier est supprimé ; ses documents sont toujours dans votre espace."
    ),
    "parametres": N_(
        "Votre choix est enregistré. Il s’appliquera aux documents ajoutés désormais."
    ),
}
AUTHOR_LABELS: Final[dict[str, str]] = {
    "patient": N_("Ajouté par vous"),
    "professional": N_("Ajouté par un professionnel de santé"),
    "organisation": N_("Ajouté par un établissement ou l’Assurance Maladie"),
    "device": N_("Ajouté par un service numérique"),
    "system": N_("Ajouté par Mon espace santé"),
}


class DocumentsBase(SpacePages):
    """The documents pages' shared machinery."""

    def __init__(self, portal: Portal) -> None:
        super().__init__(portal)
        self.max_bytes = portal.deps.documents_max_upload_bytes

    def page(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        shared = {
            "categories": CATEGORIES,
            "author_labels": AUTHOR_LABELS,
            "accept": ACCEPT,
            "max_mb": self.max_bytes // (1024 * 1024),
        }
        return self.portal.render(
            request,
            f"patient/documents/{template}.html",
            {**shared, **context},
            status_code=status,
        )

    def refused(self, request: Request, error: errors.DocumentRefused) -> Response:
        """A refusal that belongs to no form: a page saying why, with the refusal's status."""
        context = {"title": N_("Action impossible"), "message": error.message}
        return self.page(request, "refused", context, error.status)

    async def work(self, acting: Acting, work: Callable[[Repository, Connection], _T]) -> _T:
        return await self.run(acting, work)


def notice_of(request: Request) -> str:
    """The message of the change just made (``?fait=…`` after a redirect), if any."""
    return NOTICES.get(request.query_params.get("fait", ""), "")


def done(path: str, what: str) -> Response:
    """Redirect after a successful POST, saying what was done."""
    return RedirectResponse(f"{path}?fait={what}", status_code=303)
