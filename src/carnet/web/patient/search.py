"""Finding things in one's space: ``/documents/recherche`` (issue 6, point 9).

A search box over the person's full-text index (``Repository.search_text``: their own space
only, accent-insensitive, prefixes from three letters, every word must match). The words are
posted (with the CSRF token), never put in the URL: a search term is health data, and URLs end
up in logs and browser histories. Results come grouped, documents first (each linking to its
page), then the structured data by kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from carnet.record.fulltext_words import query_terms
from carnet.record.service import Repository, StoredResource
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient.space import SpacePages
from carnet.web.rendering import Portal

PAGE: Final = "/documents/recherche"
TEMPLATE: Final = "patient/search/index.html"
MAX_QUERY: Final = 200
LIMIT: Final = 50
TOO_LONG: Final = N_("Votre recherche est trop longue : 200 caractères au plus.")
NO_WORD: Final = N_(
    "Saisissez au moins un mot de deux lettres ou plus (les petits mots comme « le » ou « de » "
    "ne sont pas cherchés)."
)
# Kinds of results in the order shown, with their group headings.
GROUPS: Final[tuple[tuple[str, str], ...]] = (
    ("DocumentReference", N_("Documents")),
    ("Condition", N_("Maladies et problèmes de santé")),
    ("AllergyIntolerance", N_("Allergies")),
    ("MedicationStatement", N_("Traitements")),
    ("Immunization", N_("Vaccinations")),
    ("Procedure", N_("Actes et interventions")),
    ("Observation", N_("Mesures et résultats")),
    ("Encounter", N_("Consultations et hospitalisations")),
    ("FamilyMemberHistory", N_("Antécédents familiaux")),
)
_OTHER: Final = N_("Autres données")
_DATES: Final = (
    "date", "recordedDate", "onsetDateTime", "effectiveDateTime", "occurrenceDateTime",
    "performedDateTime", "assertedDate", "authoredOn",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Hit:
    label: str
    date: str
    href: str | None


@dataclass(frozen=True, slots=True)
class Group:
    heading: str
    hits: list[Hit]


def validate_query(data: Any) -> Form:
    """The submitted words: at most ``MAX_QUERY`` characters, at least one searchable word."""
    form = Form.from_submission(data, ("q",))
    query = form.values["q"]
    if len(query) > MAX_QUERY:
        form.add_error("q", TOO_LONG)
    elif not query_terms(query):
        form.add_error("q", NO_WORD)
    return form


def group_results(found: list[StoredResource]) -> list[Group]:
    """The results by kind, in the order of ``GROUPS`` (kinds without a result left out)."""
    by_type: dict[str, list[Hit]] = {}
    for stored in found:
        by_type.setdefault(stored.resource_type, []).append(_hit(stored))
    groups = [Group(heading, by_type.pop(kind)) for kind, heading in GROUPS if kind in by_type]
    others = [hit for hits in by_type.values() for hit in hits]
    if others:
        groups.append(Group(_OTHER, others))
    return groups


def search_context(*, form: Form, groups: list[Group] | None) -> dict[str, Any]:
    count = sum(len(group.hits) for group in groups or [])
    return {"title": N_("Rechercher dans mon espace"), "form": form, "groups": groups,
            "count": count}  # fmt: skip


def _hit(stored: StoredResource) -> Hit:
    resource = orjson.loads(stored.body)
    href = f"/documents/{stored.id}" if stored.resource_type == "DocumentReference" else None
    return Hit(label=_label(resource) or stored.resource_type, date=_date(resource), href=href)


def _label(resource: dict[str, Any]) -> str:
    for key in ("description", "title"):
        if isinstance(resource.get(key), str):
            return str(resource[key])
    for content in resource.get("content") or []:
        title = (content.get("attachment") or {}).get("title")
        if isinstance(title, str):
            return title
    for key in ("code", "vaccineCode", "medicationCodeableConcept", "type"):
        concept = resource.get(key)
        concept = concept[0] if isinstance(concept, list) and concept else concept
        if isinstance(concept, dict):
            if isinstance(concept.get("text"), str):
                return str(concept["text"])
            for coding in concept.get("coding") or []:
                if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                    return str(coding["display"])
    return ""


def _date(resource: dict[str, Any]) -> str:
    """The resource's main date as DD/MM/YYYY (or less, as precise as it is)."""
    value = next((resource[k] for k in _DATES if isinstance(resource.get(k), str)), None)
    if value is None:
        start = (resource.get("period") or {}).get("start")
        value = start if isinstance(start, str) else ""
    parts = value[:10].split("-")
    return "/".join(reversed(parts)) if parts and parts[0].isdigit() else ""


def build_router(portal: Portal) -> APIRouter:
    """The search page (none when the portal has no record or no sign-in)."""
    router = APIRouter()
    if portal.deps.record is None or portal.deps.transaction is None:
        return router
    space = SpacePages(portal)

    @router.get(PAGE, include_in_schema=False)
    async def search_page(request: Request) -> Response:
        acting = space.acting(request)
        if isinstance(acting, Response):
            return acting
        return portal.render(request, TEMPLATE, search_context(form=Form(), groups=None))

    @router.post(PAGE, include_in_schema=False)
    async def run_search(request: Request) -> Response:
        acting = space.acting(request)
        if isinstance(acting, Response):
            return acting
        async with request.form(max_files=0) as data:
            form = validate_query(data)
        if not form.valid:
            context = search_context(form=form, groups=None)
            return portal.render(request, TEMPLATE, context, status_code=400)

        def search(repo: Repository, _db: Any) -> list[StoredResource]:
            return repo.search_text(form.values["q"], limit=LIMIT)

        found = await space.run(acting, search)
        context = search_context(form=form, groups=group_results(found))
        return portal.render(request, TEMPLATE, context)

    return router
