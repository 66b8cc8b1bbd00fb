"""Reading the documents pages' forms: the upload, the filters, the selections.

Parsing only: what a value means is the documents service's to check (its errors carry the
messages shown). Dates are typed as the DSFR's date input sends them (``AAAA-MM-JJ``) or as
people write them (``JJ/MM/AAAA``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.datastructures import UploadFile

from carnet.documents import errors
from carnet.documents.schemas import DocumentFilters
from carnet.documents.service import CATEGORIES
from carnet.web.forms import Form
from carnet.web.i18n import N_

UPLOAD_FIELDS: Final = ("titre", "date", "categorie", "confidentialite", "dossier", "remplace")
FILTER_FIELDS: Final = ("categorie", "dossier", "auteur", "du", "au", "q", "page")
_FRENCH_DATE: Final = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
BAD_DATE: Final = N_("Saisissez une date valide, par exemple 24/11/2026.")
NO_FILE: Final = N_("Choisissez le fichier à ajouter.")
# Which upload field each refusal of the service belongs to (the rest: the file).
FIELD_OF: Final[dict[type[errors.DocumentRefused], str]] = {
    errors.InvalidTitle: "titre",
    errors.InvalidCategory: "categorie",
    errors.InvalidDocumentDate: "date",
    errors.FolderNotFound: "dossier",
}


def parse_date(value: str) -> dt.date | None:
    """``AAAA-MM-JJ`` or ``JJ/MM/AAAA``; None when empty or not a date."""
    value = value.strip()
    if not value:
        return None
    french = _FRENCH_DATE.match(value)
    try:
        if french:
            day, month, year = (int(part) for part in french.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Upload:
    """A submitted upload: its form (values, errors), the file's bytes and name."""

    form: Form
    content: bytes
    filename: str
    document_date: dt.date | None
    masked: bool | None


async def read_upload(data: Mapping[str, Any], *, max_bytes: int) -> Upload:
    """The upload form's values and file (read up to one byte past ``max_bytes``, so that the
    service can say the file is too large without holding more of it)."""
    form = Form.from_submission(data, UPLOAD_FIELDS)
    file = data.get("fichier")
    content, filename = b"", ""
    if isinstance(file, UploadFile) and file.filename:
        filename = file.filename
        content = await file.read(max_bytes + 1)
    else:
        form.add_error("fichier", NO_FILE)
    day = parse_date(form.values["date"])
    if day is None:
        form.add_error("date", BAD_DATE)
    if form.values["categorie"] not in CATEGORIES:
        form.add_error("categorie", errors.InvalidCategory.default_message)
    if not form.values["titre"]:
        form.add_error("titre", errors.InvalidTitle.default_message)
    masked = {"masque": True, "visible": False}.get(form.values["confidentialite"])
    return Upload(form, content, filename, day, masked)


def filters_of(values: Mapping[str, str]) -> tuple[DocumentFilters, int]:
    """The list's filters and page number from the submitted (or linked) values; values that
    mean nothing are ignored rather than refused."""
    category = values.get("categorie", "")
    author = values.get("auteur", "")
    page = values.get("page", "1")
    filters = DocumentFilters(
        category=category if category in CATEGORIES else None,
        folder_id=values.get("dossier") or None,
        author=author if author in ("patient", "professional") else None,  # type: ignore[arg-type]
        date_from=parse_date(values.get("du", "")),
        date_to=parse_date(values.get("au", "")),
        text=(values.get("q") or "").strip()[:100] or None,
    )
    return filters, int(page) if page.isdigit() and len(page) < 6 else 1


def selected_ids(data: Mapping[str, Any], name: str = "documents") -> list[str]:
    """The ids checked in a list (``getlist`` of a multi-valued form field)."""
    getlist = getattr(data, "getlist", None)
    values = getlist(name) if getlist is not None else [data.get(name)]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()][:100]
