"""Values crossing the enrollment area's boundary: registry lines, beneficiaries, reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

RunStatus = Literal["running", "interrupted", "finished", "abandoned"]


class BeneficiaryStatus(StrEnum):
    """Where a beneficiary stands. Stored by value; later items add opposed, open, closed."""

    REGISTERED = "registered"
    DECEASED = "deceased"


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One valid registry line, normalised: what is sealed for the beneficiary.

    ``holder_nir`` is empty for a holder (ouvrant droit) and names the holder of a dependant
    (ayant droit, usually a child). Empty optional values are ``""`` or ``None``.
    """

    nir: str
    identifier_kind: Literal["NIR", "NIA"]
    holder_nir: str
    vitale_serial: str
    vitale_card: Literal["photo", "sans_photo", ""]
    birth_family_name: str
    used_family_name: str
    given_names: str
    sex: Literal["M", "F"]
    birth_date: date
    birth_place: str
    address: str
    postal_code: str
    city: str
    departement: str
    email: str
    mobile: str
    death_date: date | None

    def __repr__(self) -> str:
        # Never the values: reprs end up in logs and tracebacks.
        return "RegistryEntry(<hidden>)"


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """A registered beneficiary as the area's readers see it (opened with their data key)."""

    id: str
    """Also the id of their space's Patient and the owner of their data key."""
    status: BeneficiaryStatus
    departement: str
    holder_id: str | None
    entry: RegistryEntry

    def __repr__(self) -> str:
        return f"Beneficiary(id={self.id}, status={self.status.value}, <hidden>)"


@dataclass(frozen=True, slots=True)
class LineError:
    """Why a registry line was rejected: its number, the column as the header names it ("-"
    for the whole line), a stable rule code and a sentence. Never the value."""

    line: int
    column: str
    rule: str
    reason: str


@dataclass
class RegistryReport:
    """The outcome of ``import_registry`` (a resumed run reports its whole work)."""

    run: int
    status: RunStatus = "running"
    lines_read: int = 0
    lines_rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deceased: int = 0
    """Beneficiaries newly marked deceased by this run (created dead or updated to dead)."""
    resumed: bool = False
    report_path: Path | None = None
