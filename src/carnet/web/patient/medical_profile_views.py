"""What the medical profile's pages show: the overview's rows, a section's items as rows, the
choices of link fields, and each page's context (dicts tests can check without rendering)."""

from __future__ import annotations

from typing import Any, Final

from carnet.profile import service as profile_service
from carnet.profile.schemas import NOT_CONCERNABLE, ProfileItem, Section, SectionState
from carnet.record.service import Repository
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient import medical_profile_forms as forms

INDEX: Final = "/profil-medical"
LINK_KINDS: Final = {
    "disease": N_("Maladie concernée"),
    "treatment": N_("Traitement concerné"),
    "document": N_("Document associé"),
}
_LINK_SOURCES: Final = {"disease": Section.DISEASES, "treatment": Section.TREATMENTS}
_DEFAULTS: Final[dict[Section, dict[str, str]]] = {
    Section.DISEASES: {"status": "active"},
    Section.HOSPITALIZATIONS: {"kind": "STAY"},
}


def overview_context(states: list[SectionState]) -> dict[str, Any]:
    """Every section: its title, how many items, its "not concerned" date."""
    return {
        "title": N_("Profil médical"),
        "sections": [
            {
                "slug": forms.SLUG_OF[s.section],
                "title": forms.TITLES[s.section],
                "count": s.count,
                "not_concerned_on": s.not_concerned_on,
                "concernable": s.section in NOT_CONCERNABLE,
            }
            for s in states
        ],
    }


def link_options(
    repo: Repository, *, patient_id: str, section: Section
) -> dict[str, list[tuple[str, str]]]:
    """The choices of the section's link fields: items of other sections, or documents."""
    options: dict[str, list[tuple[str, str]]] = {}
    for field in forms.FIELDS[section]:
        if field.kind != "link":
            continue
        if field.name == "document":
            options[field.name] = profile_service.documents_to_link(repo, patient_id=patient_id)
            continue
        items = profile_service.list_section(
            repo, patient_id=patient_id, section=_LINK_SOURCES[field.name]
        )
        options[field.name] = [(i.id, i.label) for i in items]
    return options


def load_section(repo: Repository, *, patient_id: str, section: Section) -> dict[str, Any]:
    return {
        "items": profile_service.list_section(repo, patient_id=patient_id, section=section),
        "not_concerned_on": profile_service.not_concerned_on(
            repo, patient_id=patient_id, section=section
        ),
        "options": link_options(repo, patient_id=patient_id, section=section),
    }


def load_edit(
    repo: Repository, *, patient_id: str, section: Section, item_id: str
) -> dict[str, Any]:
    return {
        "item": profile_service.get_item(
            repo, patient_id=patient_id, section=section, item_id=item_id
        ),
        "options": link_options(repo, patient_id=patient_id, section=section),
    }


def _row(
    section: Section, item: ProfileItem, options: dict[str, list[tuple[str, str]]]
) -> dict[str, Any]:
    slug = forms.SLUG_OF[section]
    label, coded = item.label, False
    if section is Section.DISABILITIES:
        label, coded = forms.CHOICE_LABELS["type"].get(item.values["type"], item.label), True
    elif section is Section.LIFESTYLES:
        label, coded = forms.CHOICE_LABELS["section"][item.values["section"]], True
    detail, detail_coded = item.detail, False
    if section is Section.FAMILY_HISTORY and item.values.get("relationship"):
        detail, detail_coded = (
            forms.CHOICE_LABELS["relationship"][item.values["relationship"]],
            True,
        )
    titles = dict(options.get("document", []))
    links = [
        {
            "kind": LINK_KINDS[link.kind],
            "label": link.label or titles.get(link.target.partition("/")[2], ""),
        }
        for link in item.links
    ]
    return {
        "item": item,
        "label": label,
        "coded": coded,
        "detail": detail,
        "detail_coded": detail_coded,
        "links": links,
        "edit_path": f"{INDEX}/{slug}/{item.id}/modifier",
        "delete_path": f"{INDEX}/{slug}/{item.id}/supprimer",
    }


def _blank_form(section: Section, items: list[ProfileItem]) -> Form:
    """The add form's starting values; the lifestyle and blood group forms show what is kept."""
    if section is Section.LIFESTYLES:
        return Form(values={i.values["section"]: i.detail for i in items})
    if section is Section.BLOOD_GROUP and items:
        return Form(values=dict(items[0].values))
    return Form(values=dict(_DEFAULTS.get(section, {})))


def section_context(
    section: Section,
    *,
    form: Form | None,
    items: list[ProfileItem],
    not_concerned_on: Any,
    options: dict[str, list[tuple[str, str]]],
    notice: str = "",
    problem: str = "",
) -> dict[str, Any]:
    slug = forms.SLUG_OF[section]
    return {
        "title": forms.TITLES[section],
        "section": section.value,
        "slug": slug,
        "action": f"{INDEX}/{slug}",
        "add_title": forms.ADD_TITLES[section],
        "rows": [_row(section, item, options) for item in items],
        "editable": section not in (Section.LIFESTYLES, Section.BLOOD_GROUP),
        "listed": section is not Section.LIFESTYLES,
        "concernable": section in NOT_CONCERNABLE,
        "not_concerned_on": not_concerned_on,
        "not_concerned_action": f"{INDEX}/{slug}/non-concerne",
        "form": form or _blank_form(section, items),
        "fields": forms.FIELDS[section],
        "options": options,
        "notice": notice,
        "problem": problem,
        "index_path": INDEX,
    }


def edit_context(
    section: Section,
    *,
    form: Form | None,
    item: ProfileItem,
    options: dict[str, list[tuple[str, str]]],
) -> dict[str, Any]:
    slug = forms.SLUG_OF[section]
    return {
        "title": N_("Modifier un élément"),
        "section_title": forms.TITLES[section],
        "section_path": f"{INDEX}/{slug}",
        "action": f"{INDEX}/{slug}/{item.id}/modifier",
        "form": form or Form(values=dict(item.values)),
        "fields": forms.FIELDS[section],
        "options": {
            name: [(i, label) for i, label in choices if i != item.id]
            for name, choices in options.items()
        },
        "index_path": INDEX,
    }
