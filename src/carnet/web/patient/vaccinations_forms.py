"""The vaccination form: reading it, its messages, and what the pages show.

The form's values are text as typed; ``read_entry`` turns them into a ``VaccinationInput`` (or
form errors for what the service cannot judge: an empty field, a date that is not one), and
``add_refusal`` puts the service's refusals on the fields they concern.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from carnet.vaccination.errors import InvalidVaccination, Reason
from carnet.vaccination.referential import Vaccine
from carnet.vaccination.schemas import (
    DoseStatus,
    DoseType,
    Label,
    ScheduleStatus,
    Vaccination,
    VaccinationInput,
)
from carnet.web.forms import Form
from carnet.web.i18n import N_

FIELDS: Final = ("vaccine", "occurred_on", "dose_type", "lot_number", "performer", "comment")
LIST: Final = "/vaccinations"
ADD: Final = "/vaccinations/ajouter"

# The service's refusals, as the portal says them (the same French sentences: test_messages).
REFUSALS: Final[dict[Reason, str]] = {
    "unknown-vaccine": N_("Ce vaccin ne figure pas dans la liste : choisissez-le dans la liste."),
    "unknown-dose-type": N_(
        "Ce type d’injection n’existe pas : choisissez primo-vaccination, rappel ou autre."
    ),
    "future-date": N_(
        "La date de vaccination ne peut pas être dans le futur : indiquez la date de l’injection."
    ),
    "before-birth": N_(
        "La date de vaccination ne peut pas être antérieure à la date de naissance."
    ),
    "too-long": N_("Ce texte est trop long."),
    "validation-refused": N_(
        "Seul un professionnel de santé peut valider une vaccination dans le carnet."
    ),
}
LOCKED: Final = N_(
    "Cette vaccination a été validée par un professionnel de santé : elle ne peut pas être "
    "modifiée ni supprimée depuis votre espace."
)
CHOOSE_VACCINE: Final = N_("Choisissez le vaccin reçu dans la liste.")
DATE_MISSING: Final = N_("Indiquez la date de la vaccination.")
DATE_FORMAT: Final = N_("La date doit être une date réelle, au format JJ/MM/AAAA.")
DOSE_MISSING: Final = N_(
    "Indiquez s’il s’agit d’une primo-vaccination, d’un rappel ou d’une autre injection."
)
DOSE_TYPES: Final = (
    (DoseType.INITIAL, N_("Primo-vaccination (première série de doses)")),
    (DoseType.BOOSTER, N_("Rappel")),
    (DoseType.OTHER, N_("Autre injection (dose annuelle, dose unique…)")),
)
DOSE_NAMES: Final = {
    DoseType.INITIAL: N_("Primo-vaccination"),
    DoseType.BOOSTER: N_("Rappel"),
    DoseType.OTHER: N_("Autre injection"),
}
STATUS_TITLES: Final = {
    DoseStatus.OVERDUE: N_("En retard (rattrapage possible)"),
    DoseStatus.DUE: N_("À faire maintenant"),
    DoseStatus.UPCOMING: N_("À venir"),
    DoseStatus.DONE: N_("Faites"),
}
NOTICES: Final = {
    "ajoutee": N_("La vaccination est enregistrée dans votre carnet."),
    "modifiee": N_("La vaccination est modifiée."),
    "supprimee": N_("La vaccination est supprimée de votre carnet."),
}
_ANCHORS: Final = {"dose_type": "dose_type-INITIMMUNIZ"}


def _parse_date(text: str) -> date | None:
    """A date picker's ``2026-09-01``, or ``01/09/2026`` typed where there is none."""
    parts = text.split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        text = f"{parts[2]}-{parts[1].zfill(2)}-{parts[0].zfill(2)}"
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_entry(data: Mapping[str, object]) -> tuple[Form, VaccinationInput | None]:
    """The submitted form, and the entry to give the service (None when a field is missing or
    not a date)."""
    form = Form.from_submission(data, FIELDS)
    values = form.values
    if not values["vaccine"]:
        form.add_error("vaccine", CHOOSE_VACCINE)
    occurred = _parse_date(values["occurred_on"])
    if not values["occurred_on"]:
        form.add_error("occurred_on", DATE_MISSING)
    elif occurred is None:
        form.add_error("occurred_on", DATE_FORMAT)
    if not values["dose_type"]:
        form.add_error("dose_type", DOSE_MISSING, anchor=_ANCHORS["dose_type"])
    if not form.valid or occurred is None:
        return form, None
    entry = VaccinationInput(
        vaccine=values["vaccine"],
        occurred_on=occurred,
        dose_type=values["dose_type"],
        lot_number=values["lot_number"],
        performer=values["performer"],
        comment=values["comment"],
    )
    return form, entry


def add_refusal(form: Form, error: InvalidVaccination) -> None:
    """Every problem the service found, on its field."""
    for reason, field in error.problems:
        form.add_error(field, REFUSALS[reason], anchor=_ANCHORS.get(field))


def values_of(vaccination: Vaccination) -> dict[str, str]:
    """A recorded vaccination as the form's values (to correct it)."""
    return {
        "vaccine": vaccination.vaccine,
        "occurred_on": vaccination.occurred_on.isoformat(),
        "dose_type": vaccination.dose_type.value,
        "lot_number": vaccination.lot_number,
        "performer": vaccination.performer,
        "comment": vaccination.comment,
    }


def form_context(
    *, form: Form, vaccines: list[Vaccine], today: date, title: str, action: str
) -> dict[str, Any]:
    return {
        "title": title,
        "form": form,
        "vaccines": vaccines,
        "dose_types": DOSE_TYPES,
        "today": today.isoformat(),
        "action": action,
        "list_path": LIST,
    }


def list_context(
    *,
    vaccinations: list[Vaccination],
    schedule: ScheduleStatus | None,
    notice: str,
    for_someone_else: bool,
) -> dict[str, Any]:
    """The carnet and the schedule, grouped by status (the late ones first)."""
    groups = []
    if schedule is not None:
        for status, title in STATUS_TITLES.items():
            doses = schedule.having(status)
            groups.append({"status": status.value, "title": title, "doses": doses})
    return {
        "title": N_("Vaccinations"),
        "vaccinations": vaccinations,
        "schedule": schedule,
        "groups": groups,
        "dose_names": DOSE_NAMES,
        "notice": NOTICES.get(notice, ""),
        "for_someone_else": for_someone_else,
        "add_path": ADD,
    }


def detail_context(
    *,
    vaccination: Vaccination,
    form: Form,
    vaccines: list[Vaccine],
    today: date,
    diseases: list[Label],
    notice: str = "",
    locked: bool = False,
) -> dict[str, Any]:
    context = form_context(
        form=form,
        vaccines=vaccines,
        today=today,
        title=N_("Vaccination"),
        action=f"{LIST}/{vaccination.id}",
    )
    return context | {
        "vaccination": vaccination,
        "diseases": diseases,
        "dose_names": DOSE_NAMES,
        "notice": NOTICES.get(notice, ""),
        "locked": LOCKED if locked else "",
        "delete_action": f"{LIST}/{vaccination.id}/supprimer",
    }
