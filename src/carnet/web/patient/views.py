"""The home page and the language preference (a real form: validation, CSRF, the error summary)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from carnet.web.accounts.guards import current_session
from carnet.web.forms import Form
from carnet.web.i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, LANGUAGES, N_
from carnet.web.rendering import Portal

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


SPACE_SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        N_("Documents"),
        N_("Comptes rendus, ordonnances, résultats : classés, cherchables."),
        "/documents",
    ),
    (
        N_("Rechercher"),
        N_("Un mot dans vos documents et vos données de santé."),
        "/documents/recherche",
    ),
    (
        N_("Profil médical"),
        N_("Maladies, traitements, allergies, antécédents, habitudes de vie."),
        "/profil-medical",
    ),
    (
        N_("Mesures"),
        N_("Poids, tension, glycémie… et les courbes de croissance des enfants."),
        "/mesures",
    ),
    (
        N_("Vaccinations"),
        N_("Votre carnet et ce que le calendrier vaccinal prévoit pour vous."),
        "/vaccinations",
    ),
    (
        N_("Entourage et volontés"),
        N_("Personne de confiance, contacts, don d’organes, directives anticipées."),
        "/volontes",
    ),
    (N_("Notifications"), N_("Ce qui est nouveau dans votre espace."), "/notifications"),
    (N_("Mes données"), N_("Télécharger tout votre dossier dans une archive."), "/mes-donnees"),
)
"""The home page's entries into a signed-in person's space: title, what it holds, where."""


def home_context(*, fhir_base_url: str) -> dict[str, Any]:
    return {
        "title": N_("Accueil"),
        "sections": [
            {"title": title, "description": description, "href": href}
            for title, description, href in SPACE_SECTIONS
        ],
        "fhir_metadata": f"{fhir_base_url}/metadata",
        "smart_configuration": f"{fhir_base_url}/.well-known/smart-configuration",
    }


def preferences_context(*, form: Form, current: str, saved: bool = False) -> dict[str, Any]:
    """The language form; ``current`` is checked only once the visitor has chosen."""
    return {
        "title": N_("Langue d’affichage"),
        "form": form,
        "options": [
            {"value": code, "label": LANGUAGE_NAMES[code], "lang": code} for code in LANGUAGES
        ],
        "current": current,
        "saved": saved,
    }


def validate_preferences(data: Mapping[str, object]) -> Form:
    """The submitted language must be one the portal speaks."""
    form = Form.from_submission(data, ("lang", "next"))
    if form.values["lang"] not in LANGUAGES:
        form.add_error(
            "lang", N_("Choisissez la langue d’affichage : français ou English."), anchor="lang-fr"
        )
    return form


def safe_next(value: str) -> str | None:
    """A local path to go back to after the switch, or None (never another site)."""
    local = value.startswith("/") and not value.startswith("//") and "\\" not in value
    if local and len(value) <= 200 and all(c.isprintable() and c != " " for c in value):
        return value
    return None


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter()
    fhir_base_url = portal.deps.fhir_base_url
    secure = portal.deps.production

    @router.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        session = current_session(request)
        context = home_context(fhir_base_url=fhir_base_url)
        context["holder"] = session is not None and session.kind == "patient"
        return portal.render(request, "patient/home.html", context)

    @router.get("/preferences", include_in_schema=False)
    async def preferences(request: Request) -> Response:
        chosen = request.cookies.get(LANGUAGE_COOKIE, "")
        context = preferences_context(form=Form(), current=chosen if chosen in LANGUAGES else "")
        return portal.render(request, "patient/preferences.html", context)

    @router.post("/preferences", include_in_schema=False)
    async def save_preferences(request: Request) -> Response:
        async with request.form(max_files=0) as data:
            form = validate_preferences(data)
        if not form.valid:
            context = preferences_context(form=form, current="")
            return portal.render(request, "patient/preferences.html", context, status_code=400)
        language = form.values["lang"]
        target = safe_next(form.values["next"])
        if target is not None:
            response: Response = RedirectResponse(target, status_code=303)
        else:
            # The acknowledgement is in the language just chosen, not the one of the request.
            context = preferences_context(form=Form(), current=language, saved=True)
            response = portal.render(
                request, "patient/preferences.html", context, language=language
            )
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_SECONDS,
            httponly=True,
            secure=secure,
            samesite="lax",
        )
        return response

    return router
