"""Values crossing the record area's boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from carnet.core.errors import ClientError


@dataclass(frozen=True, slots=True)
class StoredResource:
    """One version of a resource as stored: its JSON bytes include ``id`` and ``meta``."""

    resource_type: str
    id: str
    version: int
    last_updated: datetime
    patient_id: str | None
    body: bytes

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    resource: StoredResource
    created: bool


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    version: int | None
    """The version that records the deletion; None when there was nothing to delete."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    resource_type: str
    id: str
    version: int
    last_updated: datetime
    method: Literal["POST", "PUT", "DELETE"]
    body: bytes | None
    """The version's JSON; None for a deletion."""


EntryAction = Literal["created", "updated", "deleted", "read", "matched", "failed"]
"""What an entry of a batch or transaction did: ``matched`` is a conditional create that found
its resource already there (nothing written); ``failed`` a batch entry whose ``error`` says
why."""


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    """The result of one entry, in the order of the request."""

    action: EntryAction
    resource: StoredResource | None = None
    """The resource written, matched or read (None for a deletion or a failure)."""
    version: int | None = None
    """For a deletion: the version that records it (None when there was nothing to delete)."""
    error: ClientError | None = None
    history: tuple[HistoryEntry, ...] | None = None
    """For a history read: the versions, newest first."""
    searchset: SearchResult | None = None
    """For a search entry: the page found, rendered by the FHIR surface."""


@dataclass(frozen=True, slots=True)
class BundleResult:
    kind: Literal["transaction", "batch"]
    entries: tuple[EntryOutcome, ...]


# --- Scans ($everything, type and system history) and bulk export ------------------------------


@dataclass(frozen=True, slots=True)
class ScanEntry:
    resource: StoredResource
    included: bool = False
    """True for a resource outside every compartment that the patient's resources reference
    (a Bundle entry's ``search.mode`` is then ``include``, otherwise ``match``)."""


@dataclass(frozen=True, slots=True)
class ScanPage:
    """One page of a patient's compartment; ``next_cursor`` is None on the last page."""

    entries: tuple[ScanEntry, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of versions, newest first; ``next_cursor`` is None on the last page."""

    entries: tuple[HistoryEntry, ...]
    next_cursor: str | None


ExportLevel = Literal["system", "patient", "group"]
ExportState = Literal["accepted", "in-progress", "completed", "failed"]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """A bulk export as asked at kick-off (the parameters already checked by the caller)."""

    level: ExportLevel
    request_url: str
    """The kick-off URL, echoed in the manifest's ``request``."""
    types: tuple[str, ...] | None = None
    """None: every type the requester may read (in the patient compartment below system level)."""
    since: datetime | None = None
    group_id: str | None = None
    """A group export's Group: the repository reads it, and its active Patient members."""


@dataclass(frozen=True, slots=True)
class ExportFile:
    id: str
    resource_type: str
    """The type of every line; ``OperationOutcome`` for the error file."""
    count: int
    error: bool = False


@dataclass(frozen=True, slots=True)
class ExportStatus:
    id: str
    state: ExportState
    request_url: str
    transaction_time: datetime
    written: int
    """Resources written so far (the progress of a running export)."""
    files: tuple[ExportFile, ...]
    expires_at: datetime
    error: str | None = None
    """Why a failed export failed, safe to show the requester."""


@dataclass(frozen=True, slots=True)
class ExportDownload:
    """One file of a completed export, as handed to its requester: read it part by part with
    ``Repository.export_part`` (each in a short transaction of its own)."""

    export_id: str
    file_id: str
    parts: int


@dataclass(frozen=True, slots=True)
class ExportPolicy:
    """How exports are cut and kept (from the FHIR settings)."""

    expires_after_seconds: int = 86_400
    file_resources: int = 100_000
    """Lines per NDJSON file; a file is stored as parts of at most one job step each."""


# --- Search -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of a search: its matches, what ``_include``/``_revinclude`` added, paging.

    Bodies are the stored JSON, reduced when ``_summary``/``_elements`` asked (``subsetted``).
    """

    resource_type: str
    matches: tuple[StoredResource, ...]
    included: tuple[StoredResource, ...] = ()
    total: int | None = None
    """Set when asked (``_total=accurate|estimate``, ``_summary=count``, ``_count=0``) or known
    for free (a first page with nothing after it); None otherwise."""
    next_cursor: str | None = None
    """Opaque and sealed: the next page (None on the last)."""
    self_cursor: str | None = None
    """Opaque and sealed: this page again (for a self link that must not carry the parameters
    in clear, because some are identifying)."""
    count_only: bool = False
    """``_summary=count`` or ``_count=0``: no entries, the total alone."""
    subsetted: bool = False
    identifying: bool = False
    """Some search value is identifying: never echo the parameters in a URL."""
    params: tuple[tuple[str, str], ...] = ()
    """The parameters searched (from the request or the cursor), for a self link when they are
    not identifying."""
    warnings: tuple[str, ...] = ()
    """Parameters ignored under ``handling=lenient``, with why (no values)."""
