"""The measures pages' forms: the fields, when the measure was taken, and the page contexts."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from carnet.measures.schemas import MeasureEntry, MeasurePage, Target
from carnet.measures.service import BY_SLUG, GLUCOSE_UNITS, MAX_COMMENT, MEASURES
from carnet.measures.service import MOMENTS as MOMENT_CODES
from carnet.web.forms import Form
from carnet.web.i18n import N_
from carnet.web.patient import measures_text as text

PARIS: Final = ZoneInfo("Europe/Paris")
MEASURE_FIELDS: Final = (
    "date",
    "heure",
    "valeur",
    "valeur2",
    "unite",
    "moment",
    "jours",
    "commentaire",
)
TARGET_FIELDS: Final = ("objectif_bas", "objectif_haut")
_NOON: Final = time(12, 0)


def taken_at(form: Form, now: datetime) -> datetime | None:
    """When the measure was taken, in Paris time: the date typed (``AAAA-MM-JJ`` from a date
    field, or ``JJ/MM/AAAA``) and the time if given; without a time, now for today and noon
    for an earlier day. None (with the form's error) when the date cannot be read."""
    raw = form.values.get("date", "")
    try:
        if "/" in raw:
            day, month, year = (int(p) for p in raw.split("/"))
            when = date(year, month, day)
        else:
            when = date.fromisoformat(raw)
    except ValueError:
        form.add_error("date", text.REASONS["bad-date"])
        return None
    clock = form.values.get("heure", "")
    local_now = now.astimezone(PARIS)
    if clock:
        try:
            at = time.fromisoformat(clock)
        except ValueError:
            form.add_error("heure", N_("Saisissez une heure valide, par exemple 08:30."))
            return None
    else:
        at = local_now.time().replace(microsecond=0) if when == local_now.date() else _NOON
    return datetime.combine(when, at, tzinfo=PARIS)


def blank_measure_form(now: datetime) -> Form:
    """The add form's starting values: today, the default glucose unit."""
    return Form(values={"date": now.astimezone(PARIS).date().isoformat(), "unite": "mg/dL"})


def tiles(latest: dict[str, MeasureEntry]) -> list[dict[str, Any]]:
    """One tile per measure: its name, its last value (if any), its page."""
    return [
        {
            "slug": m.slug,
            "name": text.NAMES[m.slug],
            "unit": text.UNITS[m.unit],
            "last": latest.get(m.slug),
            "path": f"/mesures/{m.slug}",
        }
        for m in MEASURES
    ]


def measure_context(
    *,
    slug: str,
    page: MeasurePage,
    series: list[MeasureEntry],
    target: Target | None,
    form: Form,
    target_form: Form,
    cursor: str | None,
    notice: str = "",
) -> dict[str, Any]:
    """A measure's page: chart, table, history, and the add and target forms."""
    measure = BY_SLUG[slug]
    return {
        "title": text.NAMES[slug],
        "measure": measure,
        "slug": slug,
        "unit": text.UNITS[measure.unit],
        "entries": page.entries,
        "next_cursor": page.next_cursor,
        "first_page": cursor is None,
        "series": series,
        "target": target,
        "form": form,
        "target_form": target_form,
        "glucose_options": [{"value": u, "label": u, "lang": ""} for u in GLUCOSE_UNITS],
        "moments_options": [
            {"value": code, "label": text.MOMENTS[code], "lang": ""} for code in MOMENT_CODES
        ],
        "moment_names": text.MOMENTS,
        "max_comment": MAX_COMMENT,
        "notice": notice,
        "units": text.UNITS,
        "number": number,
    }


def number(value: float | None) -> str:
    """A value as the pages show it: no trailing zeros, a decimal comma."""
    if value is None:
        return ""
    return f"{value:g}".replace(".", ",") if abs(value) < 1e6 else f"{value:.0f}"


NOTICES: Final = {
    "enregistre": N_("La mesure est enregistrée."),
    "supprime": N_("La mesure est supprimée."),
    "objectif": N_("L’objectif est enregistré."),
}
