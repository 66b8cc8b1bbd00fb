"""Public face of the record area.

``Record`` is built once per process (it holds the compiled validators and FHIRPath expressions);
``Record.repository(db=…, ctx=…)`` gives the per-request Repository, the only way to reach
health data.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from carnet.access.schemas import AccessContext
from carnet.audit.service import AuditTrail
from carnet.core.actor import CARNET
from carnet.core.clock import Clock
from carnet.jobs.service import JobQueue
from carnet.record.archives import (
    ARCHIVE_BUILD_JOB,
    ARCHIVE_EXPIRE_JOB,
    ArchiveDownload,
    ArchiveInProgress,
    ArchiveNotFound,
    Archives,
    ArchiveState,
)
from carnet.record.bundle_plan import BundlePlan, plan_bundle
from carnet.record.definitions import Definitions, get_definitions
from carnet.record.exports import EXPORT_STEP_JOB, export_requester
from carnet.record.index_rows import micros
from carnet.record.indexing import Indexer
from carnet.record.prepared import PreparedWrite, prepare_write
from carnet.record.repository import Repository
from carnet.record.schemas import (
    BundleResult,
    DeleteOutcome,
    EntryOutcome,
    ExportDownload,
    ExportFile,
    ExportLevel,
    ExportPolicy,
    ExportRequest,
    ExportStatus,
    HistoryEntry,
    HistoryPage,
    ScanEntry,
    ScanPage,
    SearchResult,
    StoredResource,
    WriteOutcome,
)
from carnet.record.search import catalog as search_catalog
from carnet.record.search.model import SearchLimits
from carnet.record.search.paging import CursorBox
from carnet.record.search.parse import SearchParser
from carnet.record.search.summary import Subset, read_subset, subset
from carnet.record.store import PatientKeys
from carnet.record.validation import ResourceValidator
from carnet.storage.service import Storage

__all__ = [
    "ARCHIVE_BUILD_JOB",
    "ARCHIVE_EXPIRE_JOB",
    "EXPORT_EXPIRE_JOB",
    "EXPORT_STEP_JOB",
    "ArchiveDownload",
    "ArchiveInProgress",
    "ArchiveNotFound",
    "ArchiveState",
    "Archives",
    "BundlePlan",
    "BundleResult",
    "DeleteOutcome",
    "EntryOutcome",
    "ExportDownload",
    "ExportFile",
    "ExportLevel",
    "ExportPolicy",
    "ExportRequest",
    "ExportStatus",
    "HistoryEntry",
    "HistoryPage",
    "PreparedWrite",
    "Record",
    "Repository",
    "ScanEntry",
    "ScanPage",
    "SearchLimits",
    "SearchResult",
    "StoredResource",
    "Subset",
    "WriteOutcome",
    "read_subset",
    "search_catalog",
]


log = logging.getLogger(__name__)

EXPORT_EXPIRE_JOB = "record:export-expire"
_RETRY_SECONDS = 30


class Record:
    """The record's process-wide machinery: definitions, validator, indexer, keys, audit."""

    def __init__(
        self,
        *,
        storage: Storage,
        audit: AuditTrail,
        clock: Clock,
        jobs: JobQueue | None = None,
        export_policy: ExportPolicy | None = None,
    ) -> None:
        self.storage = storage
        self.audit = audit
        self.clock = clock
        self.jobs = jobs
        """The outbox that bulk exports enqueue their steps in (None: no exports)."""
        self.export_policy = export_policy or ExportPolicy()
        self.definitions: Definitions = get_definitions()
        self.resource_types: frozenset[str] = self.definitions.resource_types
        self.validator = ResourceValidator(self.definitions)
        self.indexer = Indexer(self.definitions)
        self.patient_keys = PatientKeys()
        """Patient ids to their index keys, cached once committed (one database per Record)."""
        self._parsers: dict[SearchLimits, SearchParser] = {}
        self._cursors: CursorBox | None = None

    def prepare(self, resource: dict[str, Any]) -> PreparedWrite:
        """Validate and index a resource before opening a transaction (pure CPU, no data)."""
        return prepare_write(resource, validator=self.validator, indexer=self.indexer)

    def prepare_bundle(
        self, bundle: dict[str, Any], *, max_entries: int, base_url: str = ""
    ) -> BundlePlan:
        """Check a transaction or batch Bundle and prepare its entries before the transaction
        opens: ids given, links between entries rewritten, resources validated and indexed
        (pure CPU, no data). Faults are kept on the plan, for the repository to audit."""
        return plan_bundle(
            bundle,
            prepare=self.prepare,
            resource_types=self.resource_types,
            max_entries=max_entries,
            base_url=base_url,
        )

    def search_parser(self, limits: SearchLimits) -> SearchParser:
        """The search parser for page-size limits (parsers are immutable and shared)."""
        parser = self._parsers.get(limits)
        if parser is None:
            parser = SearchParser(
                self.definitions, blind_hash=self.storage.blind_index, limits=limits
            )
            self._parsers[limits] = parser
        return parser

    def subset(self, stored: StoredResource, wanted: Subset) -> StoredResource:
        """A read's resource reduced as its ``_summary``/``_elements`` ask (``read_subset``),
        by the code that reduces search results."""
        if wanted.summary is None and not wanted.elements:
            return stored
        body = subset(
            self.definitions,
            stored.resource_type,
            stored.body,
            summary=wanted.summary,
            elements=wanted.elements,
        )
        return dataclasses.replace(stored, body=body)

    def cursors(self) -> CursorBox:
        """Seals and opens search cursors, with a key derived from the keyring for it alone."""
        if self._cursors is None:
            self._cursors = CursorBox(self.storage.derive_key("record-search-cursor"))
        return self._cursors

    def clock_micros(self) -> int:
        """Now, in microseconds since the epoch (search's ``ap`` prefix)."""
        return micros(self.clock.now())

    def repository(self, *, db: Connection, ctx: AccessContext) -> Repository:
        """The door to health data for one actor, inside the caller's transaction."""
        return Repository(record=self, db=db, ctx=ctx)

    def warm_up(self, resource_types: frozenset[str] | None = None) -> None:
        """Compile validators and expressions ahead of the first requests."""
        for resource_type in sorted(resource_types or self.resource_types):
            self.validator.prepare(resource_type)
            self.indexer.prepare(resource_type)

    # --- bulk export jobs (registered by the runtime) -----------------------------------------

    def run_export_step(self, db: Connection, payload: Mapping[str, Any]) -> None:
        """The ``record:export-step`` job: one step of an export, run as its requester; the
        next step is enqueued in the same transaction until the export is complete."""
        export_id = str(payload["export"])
        ctx = export_requester(db, export_id)
        if ctx is None or self.jobs is None:
            return  # deleted or expired meanwhile
        repo = self.repository(db=db, ctx=ctx)
        delay = 0
        try:
            with db.begin_nested():
                more = repo.run_export_step(export_id, self.export_policy)
        except Exception as exc:
            # The step's writes are undone; it is tried again a few times, then the export
            # reports a failure. The class only: messages may quote data.
            log.warning("export step failed: %s", type(exc).__name__)
            more, delay = repo.export_step_failed(export_id), _RETRY_SECONDS
        if more:
            self.jobs.enqueue(
                db,
                kind=EXPORT_STEP_JOB,
                payload={"export": export_id},
                run_after=self.clock.now() + timedelta(seconds=delay),
            )

    def expire_exports(self, db: Connection, _payload: Mapping[str, Any] | None = None) -> None:
        """The periodic ``record:export-expire`` job: delete exports past their expiry."""
        self.repository(db=db, ctx=AccessContext(actor=CARNET)).expire_exports()
