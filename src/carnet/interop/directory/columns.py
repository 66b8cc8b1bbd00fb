"""The columns of the Annuaire Santé extract ``PS_LibreAcces_Personne_activite``, by name.

Columns are found by their header name, never by position: the ANS has published a 52-column
layout and a newer 56-column one (a few names reworded, four columns appended), and names "may
vary slightly from one extraction to the next". A header is compared in a normalised form
(lower case, no accents, punctuation and elided "d'" ignored), then looked up in the names each
layout is known to use. Each column gets a stable key used everywhere else.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from carnet.interop.errors import DirectoryFileError

# Key → the header names it is known by (the legacy one first: it is what the writer emits for
# that layout). Facts about the public format, from its published headers.
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "pp_id_type": ("Type d'identifiant PP",),
    "pp_id": ("Identifiant PP",),
    "pp_national_id": ("Identification nationale PP",),
    "exercise_civility_code": ("Code civilité d'exercice",),
    "exercise_civility_label": ("Libellé civilité d'exercice", "Libellé civilité exercice"),
    "civility_code": ("Code civilité",),
    "civility_label": ("Libellé civilité",),
    "family_name": ("Nom d'exercice",),
    "given_name": ("Prénom d'exercice",),
    "profession_code": ("Code profession",),
    "profession_label": ("Libellé profession",),
    "category_code": ("Code catégorie professionnelle",),
    "category_label": ("Libellé catégorie professionnelle",),
    "savoir_faire_type_code": ("Code type savoir-faire",),
    "savoir_faire_type_label": ("Libellé type savoir-faire",),
    "savoir_faire_code": ("Code savoir-faire",),
    "savoir_faire_label": ("Libellé savoir-faire",),
    "mode_code": ("Code mode exercice",),
    "mode_label": ("Libellé mode exercice",),
    "siret": ("Numéro SIRET site",),
    "siren": ("Numéro SIREN site",),
    "finess_site": ("Numéro FINESS site",),
    "finess_legal": ("Numéro FINESS établissement juridique",),
    "technical_id": ("Identifiant technique de la structure",),
    "structure_name": ("Raison sociale site",),
    "trade_name": ("Enseigne commerciale site",),
    "address_recipient": ("Complément destinataire (coord. structure)",),
    "address_place": ("Complément point géographique (coord. structure)",),
    "street_number": ("Numéro Voie (coord. structure)",),
    "street_repetition": ("Indice répétition voie (coord. structure)",),
    "street_type_code": ("Code type de voie (coord. structure)",),
    "street_type_label": ("Libellé type de voie (coord. structure)",),
    "street_name": ("Libellé Voie (coord. structure)",),
    "distribution": ("Mention distribution (coord. structure)",),
    "cedex_office": ("Bureau cedex (coord. structure)",),
    "postal_code": ("Code postal (coord. structure)",),
    "commune_code": ("Code commune (coord. structure)",),
    "commune_label": ("Libellé commune (coord. structure)",),
    "country_code": ("Code pays (coord. structure)",),
    "country_label": ("Libellé pays (coord. structure)",),
    "phone": ("Téléphone (coord. structure)",),
    "phone2": ("Téléphone 2 (coord. structure)",),
    "fax": ("Télécopie (coord. structure)",),
    "email": ("Adresse e-mail (coord. structure)",),
    "department_code": ("Code Département (structure)", "Code département (coord. structure)"),
    "department_label": (
        "Libellé Département (structure)",
        "Libellé département (coord. structure)",
    ),
    "former_structure_id": ("Ancien identifiant de la structure",),
    "registration_authority": ("Autorité d'enregistrement",),
    "sector_code": ("Code secteur d'activité",),
    "sector_label": ("Libellé secteur d'activité",),
    "pharmacist_section_code": ("Code section tableau pharmaciens",),
    "pharmacist_section_label": ("Libellé section tableau pharmaciens",),
    "function_code": ("Code fonction",),
    "function_label": ("Libellé fonction",),
    "genre_code": ("Code genre d'activité",),
    "genre_label": ("Libellé genre d'activité",),
}
REQUIRED: Final = ("pp_id_type", "pp_id", "family_name", "profession_code")
LEGACY_KEYS: Final = tuple(COLUMNS)[:52]
"""The 52 columns of the legacy layout, in order."""
CURRENT_KEYS: Final = tuple(COLUMNS)
"""The 56 columns of the current layout, in order."""
_CURRENT_NAMES: Final = {
    "exercise_civility_label": 1,
    "street_repetition": 0,
    "department_code": 1,
    "department_label": 1,
}


def header_names(keys: Sequence[str], *, current: bool) -> list[str]:
    """The header names of ``keys`` as a layout writes them (``current``: the 56-column one)."""
    return [COLUMNS[key][_CURRENT_NAMES.get(key, 0) if current else 0] for key in keys]


def normalise_header(name: str) -> str:
    """A header name reduced to what identifies it: "Libellé civilité d'exercice" and
    "LIBELLE CIVILITE EXERCICE" both give "libelle civilite exercice"."""
    decomposed = unicodedata.normalize("NFKD", name.replace("’", "'"))
    text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isalnum() else " " for c in text).split()
    # Elided articles come and go between layouts ("civilité d'exercice" / "civilité exercice").
    return " ".join(word for word in words if word not in {"d", "l"})


_BY_NAME: Final = {normalise_header(name): key for key, names in COLUMNS.items() for name in names}


@dataclass(frozen=True, slots=True)
class Header:
    """Where each known column sits in a file, and what the file's header looked like."""

    positions: dict[str, int]
    names: tuple[str, ...]
    """The file's own header names (reports name columns as the file does)."""
    width: int
    """How many columns a line has (a trailing ``|`` adds none)."""
    unknown: tuple[str, ...]

    def name_of(self, key: str) -> str:
        position = self.positions.get(key)
        return self.names[position] if position is not None else COLUMNS[key][0]


def read_header(fields: Sequence[str]) -> Header:
    """Map a header line's fields to column keys; raise ``DirectoryFileError`` if a required
    column is missing or a column appears twice."""
    names = list(fields)
    while names and not names[-1].strip():
        names.pop()  # the trailing "|" of every line
    positions: dict[str, int] = {}
    unknown = []
    for index, name in enumerate(names):
        key = _BY_NAME.get(normalise_header(name))
        if key is None:
            unknown.append(name.strip())
        elif key in positions:
            raise DirectoryFileError(f"the header names column {COLUMNS[key][0]!r} twice")
        else:
            positions[key] = index
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in positions]
    if missing:
        raise DirectoryFileError(
            "this is not a PS_LibreAcces Personne_activite extract: missing columns "
            + ", ".join(repr(name) for name in missing)
        )
    return Header(positions, tuple(n.strip() for n in names), len(names), tuple(unknown))
