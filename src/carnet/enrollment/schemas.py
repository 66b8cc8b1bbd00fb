"""Values crossing the enrollment area's boundary: registry lines, beneficiaries, reports,
campaigns and their notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
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


# --- opposition ---------------------------------------------------------------------------------


class OppositionChannel(StrEnum):
    ONLINE = "online"
    """On the public page, with the activation code."""
    PHONE = "phone"
    """Through an operator who checked the caller's identity on the phone."""


@dataclass(frozen=True, slots=True)
class OppositionReceipt:
    """A recorded opposition, as its proof states it. ``reference`` is the public receipt
    reference (random; it names nobody). ``repeated`` is True when the opposition had already
    been recorded: asking twice changes nothing and gives the same receipt."""

    reference: str
    beneficiary_id: str
    channel: OppositionChannel
    opposed_at: datetime
    operator: str | None
    """By phone: the operator who recorded it (``kind:id``)."""
    dmp_merge_refused: bool
    repeated: bool = False
    children: tuple[OppositionReceipt, ...] = ()
    """The oppositions recorded at the same time for the holder's minor children (one each)."""


@dataclass(frozen=True, slots=True)
class SpaceRequestAnswer:
    """A space asked for after an opposition: it is open, and a new activation code went to
    ``sent_to`` (None: no usable contact on file; the person calls the service)."""

    beneficiary_id: str
    sent_to: CodeChannel | None


# --- families and caregivers (``families``, ``caregivers``) -----------------------------------


class InvitationStatus(StrEnum):
    """Where an invitation (second legal representative, or caregiver) stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    """Accepted: the link is live (a caregiver's stays ``accepted`` until revoked)."""
    REFUSED = "refused"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    """Withdrawn, or made moot (the child came of age)."""
    REVOKED = "revoked"
    """A caregiver link ended by either side."""


@dataclass(frozen=True, slots=True)
class Child:
    """A child attached to the signed-in holder, as their family page shows them."""

    id: str
    given_names: str
    family_name: str
    birth_date: date
    status: BeneficiaryStatus
    represented: bool
    """Already in the holder's profiles (activated from this account)."""


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation as one side sees it: who the other person is (names only) and when it
    ends. ``child_*`` is empty for a caregiver invitation."""

    id: str
    status: InvitationStatus
    other_name: str
    child_name: str
    created_at: datetime
    expires_at: datetime


# --- opening (``opening``, ``spaces``) ---------------------------------------------------------
OpenedBy = Literal["automatic", "request", "activation"]
"""Who opened a space: the scheduled job (window over, no opposition), the person asking for it
(after an opposition, or before the window ends), or their activation during the window."""
DmpMergeOutcome = Literal["pending", "merged", "none", "refused"]
"""Where the merge of an old DMP stands: ``refused`` when the person opposed it."""
Confidentiality = Literal["visible", "masked"]
"""Default confidentiality of new documents: visible to authorised professionals, or masked."""


@dataclass(frozen=True, slots=True)
class Space:
    """A person's space as its row holds it (``enrollment_space``): opening, first choices,
    suspension, closure and retention. ``patient_id`` is also the beneficiary's id."""

    patient_id: str
    opened_at: datetime
    opened_by: OpenedBy
    dmp_merge: DmpMergeOutcome
    activated_at: datetime | None
    account_id: str | None
    terms_version: str | None
    terms_accepted_at: datetime | None
    default_confidentiality: Confidentiality
    samu_access: bool
    break_glass_access: bool
    emergency_masked_access: bool
    suspended_at: datetime | None
    suspended_by: str | None
    closed_at: datetime | None
    close_reason: str | None
    deletion_requested_at: datetime | None
    erase_after: datetime | None
    updated_at: datetime


@dataclass
class OpeningReport:
    """The outcome of running the opening job (counts only, never a person)."""

    opened: int = 0
    batches: int = 0
    emailed: int = 0
    """People told by e-mail that their space is open (the others have no usable address)."""
    merged: int = 0
    """Spaces into which an old DMP was merged."""
    skipped: int = 0
    """People due a space who could not get one (data erased, an identity the record refuses);
    left as they were and audited."""


# --- operators' console (``console``) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DepartementCounts:
    """One département on the operators' dashboard: counts only, never a person.

    The status counts are where people stand *now* (``enrollment_beneficiary.status``), so each
    person is in exactly one of them and they add up to ``beneficiaries``; the notice counts
    (``enrollment_notice.status``) count notices, by the département of their person.
    """

    departement: str
    beneficiaries: int
    """Everyone the registry lists there, holders and dependants (children)."""
    registered: int
    """Listed, not informed yet (dependants stay here: they are informed through their holder)."""
    notified: int
    """Informed (e-mail queued, or letter printed) and no space yet: the window runs, or has
    ended and the opening job has not passed."""
    letter_due: int
    """Waiting for a printed letter: no usable e-mail, or the e-mail bounced."""
    opposed: int
    opened: int
    """A space exists (opened at the end of the window, or on request), not activated yet."""
    activated: int
    suspended: int
    closed: int
    """Closed (by the holder, a death, a suspension): archive kept for the retention period."""
    deceased: int
    erased: int
    letters_printed: int
    """Notices printed in a letter batch (``letter-sent``)."""
    bounced: int
    """E-mail notices that bounced, whether or not their letter was printed since (such a
    notice keeps its e-mail channel, so a printed bounce counts here and in
    ``letters_printed``)."""


class CodeResent(StrEnum):
    """What the console's « new code » did."""

    EMAILED = "emailed"
    """A new code went to the e-mail on file (the previous one stopped working)."""
    LETTER_PENDING = "letter-pending"
    """No usable e-mail, and a letter is already due: the next print run carries a new code."""


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """One notice of a person, as the console shows it."""

    campaign_id: str
    channel: NoticeChannel
    status: NoticeStatus
    opposition_ends: date
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class ConsoleSpace:
    """The person's space (``enrollment_space``) as the console shows it, once opened."""

    opened_at: datetime
    opened_by: str
    activated_at: datetime | None
    suspended_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    deletion_requested_at: datetime | None
    erase_after: datetime | None


@dataclass(frozen=True, slots=True)
class ConsolePerson:
    """A person as an operator sees them after a lookup: enough to check a caller's identity
    (names, birth date) and to help, never the NIR in full, the Vitale serial or full contacts.
    """

    id: str
    status: BeneficiaryStatus
    status_at: datetime
    departement: str
    dependant: bool
    """Attached to a holder (a child): notices and codes go to the holder."""
    nir_masked: str
    given_names: str
    family_name: str
    birth_family_name: str
    birth_date: date
    sex: str
    city: str
    email_masked: str
    """``j…@example.org``; empty: none on file."""
    email_bounced: bool
    mobile_masked: str
    code_expires_at: datetime | None
    """When the live activation code expires; None: no live code."""
    notices: tuple[NoticeLine, ...]
    space: ConsoleSpace | None

    def __repr__(self) -> str:
        return f"ConsolePerson(id={self.id}, status={self.status.value}, <hidden>)"


# --- activation -----------------------------------------------------------------------------


class ActivationStep(StrEnum):
    """Where an activation in progress stands (``activation``); each page accepts one step."""

    CONTACT = "contact"
    """Identity proven: the person gives the contact to verify."""
    VERIFY = "verify"
    """A one-time code went to that contact; the person types it."""
    ACCOUNT = "account"
    """Contact verified: the person chooses a login and a password."""
    TERMS = "terms"
    """The terms of use to accept (FranceConnect activations start here)."""
    CHOICES = "choices"
    """First choices: default confidentiality and emergency access; then the space is active."""
    DONE = "done"


@dataclass(frozen=True, slots=True)
class FirstChoices:
    """The first choices of a space, with the legal defaults: documents visible to authorised
    professionals; SAMU regulator and break-the-glass access allowed unless the person objects
    (L1111-17); masked documents stay masked in an emergency unless the person allows it."""

    default_confidentiality: Literal["visible", "masked"] = "visible"
    samu_access: bool = True
    break_glass_access: bool = True
    emergency_masked_access: bool = False


@dataclass(frozen=True, slots=True)
class ActivationTicket:
    """An activation in progress as its pages see it (only what the person proved or typed)."""

    id: str
    step: ActivationStep
    method: Literal["code", "franceconnect"]
    channel: CodeChannel | None
    sent_to: str
    """The masked contact the one-time code went to ("" before)."""
    email: str
    """The registry's e-mail, to prefill the contact step ("" when none)."""
    mobile: str
    terms_version: str

    def __repr__(self) -> str:
        return f"ActivationTicket(id={self.id}, step={self.step.value}, <hidden>)"


# --- closure and retention (``closure``, ``reopening``, ``retention``) ---------------------------


class CloseReason(StrEnum):
    HOLDER = "holder"
    """The holder closed it (with or without a deletion request)."""
    DEATH = "death"
    """The registry reported the holder's death."""
    FRAUD = "fraud"
    """Suspended by an operator and not lifted within the objection delay."""


class SuspensionReason(StrEnum):
    FRAUD = "fraud"
    """Suspected fraud (someone else's card, a usurped identity)."""
    MALFUNCTION = "malfunction"
    """A serious malfunction of the space (R1111-36)."""


@dataclass(frozen=True, slots=True)
class SpaceState:
    """Where a space stands as its holder, an operator or a page sees it (no health data)."""

    patient_id: str
    status: BeneficiaryStatus
    has_account: bool
    closed_at: datetime | None = None
    close_reason: CloseReason | None = None
    deletion_requested_at: datetime | None = None
    erase_after: datetime | None = None
    """When the archive is destroyed (closed spaces only)."""
    suspended_at: datetime | None = None
    closes_at: datetime | None = None
    """When a suspended space closes unless the suspension is lifted."""


@dataclass(frozen=True, slots=True)
class SpaceEvent:
    """One step of a space's closure history (``enrollment_space_event``), for the console."""

    kind: str
    """closed, reopened, suspended, lifted, deletion, erased, death (reported by the registry)."""
    reason: str | None
    """The close reason (holder, death, fraud) or the suspension reason (fraud, malfunction)."""
    actor: str
    """Who: ``"kind:id"`` (an operator's account, the patient, ``system:carnet``)."""
    at: datetime
    done_at: datetime | None
    """For a reported death: when the closure job handled it (None: still pending)."""


@dataclass(frozen=True, slots=True)
class ClosureSweep:
    """What one run of the closure jobs did (counts only)."""

    deaths: int = 0
    """Deaths reported by the registry and handled (their spaces closed, if still live)."""
    suspensions_closed: int = 0
    erased: int = 0
    more: bool = False
    """A batch was full: another run follows at once."""
