"""Values crossing the enrollment area's boundary: registry lines, beneficiaries, reports,
campaigns and their notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

RunStatus = Literal["running", "interrupted", "finished", "abandoned"]


class BeneficiaryStatus(StrEnum):
    """Where a beneficiary stands in the life cycle of their space. Stored by value; one column,
    so dashboards count per département and status without opening anything."""

    REGISTERED = "registered"
    DECEASED = "deceased"
    NOTIFIED = "notified"
    """Informed by e-mail (or by letter, once sent); the opposition window runs."""
    LETTER_DUE = "letter-due"
    """To be informed by post: no usable e-mail, or the e-mail bounced."""
    OPPOSED = "opposed"
    """Refused the space within the window (``opposition``); may later ask for one."""
    OPEN = "open"
    """The space exists (``opening``: window ended without opposition, or asked for) but
    nobody has activated it yet."""
    ACTIVE = "active"
    """Activated: the person (or a representative) has an account and has made first choices."""
    SUSPENDED = "suspended"
    """Suspended by an operator (suspected fraud); closes by itself after the objection delay."""
    CLOSED = "closed"
    """Closed (by the holder, a death or a suspension): the archive is kept for the retention
    period and comes back if the space is reopened."""
    ERASED = "erased"
    """The archive was destroyed (retention over, or a deletion request honoured): the data key
    is shredded, nothing can be read again."""


class CampaignKind(StrEnum):
    INITIAL = "initial"
    """A wave over départements whose people were never informed."""
    NEWCOMERS = "newcomers"
    """The weekly wave: people registered since (newborns' holders, new insured)."""


class CampaignStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FINISHED = "finished"


class NoticeChannel(StrEnum):
    EMAIL = "email"
    LETTER = "letter"


class NoticeStatus(StrEnum):
    QUEUED = "queued"
    """The e-mail is in the outbox (or sent: delivery reports only come back as bounces)."""
    BOUNCED = "bounced"
    LETTER_DUE = "letter-due"
    LETTER_SENT = "letter-sent"
    """Printed in a batch (``letter_batch``); the person is then ``notified``."""


class CodeChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True, slots=True)
class Campaign:
    """A notification wave as operators see it (counts only, never a person)."""

    id: str
    kind: CampaignKind
    departements: tuple[str, ...]
    send_date: date
    opposition_ends: date
    status: CampaignStatus
    emailed: int
    letters_due: int
    skipped: int


@dataclass(frozen=True, slots=True)
class LettersPrinted:
    """The outcome of printing the letters due: the batch files written, in order, and counts
    (never a person)."""

    files: tuple[Path, ...]
    letters: int
    skipped: int
    """People due a letter who cannot get one (data erased, no postal address): left due."""


@dataclass(frozen=True, slots=True)
class CodeRequestAnswer:
    """The answer to a request for a new activation code: the same whether the details matched,
    did not, or the NIR is locked, so it tells nobody whether a NIR is registered."""

    channel: CodeChannel
    message: str = (
        "If these details match a registered person, a new code is on its way to their "
        "contact on file."
    )


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
