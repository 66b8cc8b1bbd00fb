"""Bundles through the door: a transaction (all or nothing) or a batch (each entry on its own).

Both run in the caller's database transaction, on a plan prepared beforehand
(``Record.prepare_bundle``: ids given, links rewritten, resources validated and indexed).

A transaction runs inside one savepoint, in FHIR's order (deletions, creations, updates and
patches, reads). Its creations are written together: one INSERT for the resource rows, the index
rows of all of them at once, a data key fetched once per compartment. Any failing entry undoes
everything and raises ``EntryFailed`` naming the entry (or the bundle's own fault).

Audit (docs/architecture.md): while a transaction runs, the events its entries would write are
held back. On success it writes one event per patient chain it touched (and one in the system
chain for resources outside every compartment), listing the versions written and read; on
failure only the failures are written, after the rollback, so that "a failed transaction leaves
no trace but its audit event". A batch entry is an ordinary write or read: each gets its own
savepoint and its own events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from carnet.access.schemas import Action
from carnet.audit.schemas import AuditRecord
from carnet.audit.tags import EventTag, Outcome
from carnet.core.errors import ClientError
from carnet.record import fulltext_store, store
from carnet.record.bundle_plan import WRITE_METHODS, BundlePlan, PlannedEntry, RequestUrl
from carnet.record.conditionals import SearchParams, criteria, resolve
from carnet.record.door import Failure, outcome_of
from carnet.record.errors import (
    EntryFailed,
    InvalidBundle,
    VersionConflict,
    VersionMismatch,
)
from carnet.record.patches import Patches
from carnet.record.prepared import PreparedWrite
from carnet.record.schemas import BundleResult, EntryOutcome
from carnet.record.searches import Searches
from carnet.record.writes import Staged
from carnet.storage.service import SYSTEM_OWNER, DataKey

_TAGS = {
    "POST": EventTag.RECORD_RESOURCE_CREATE,
    "PUT": EventTag.RECORD_RESOURCE_UPDATE,
    "PATCH": EventTag.RECORD_RESOURCE_PATCH,
    "DELETE": EventTag.RECORD_RESOURCE_DELETE,
    "GET": EventTag.RECORD_RESOURCE_READ,
    "HEAD": EventTag.RECORD_RESOURCE_READ,
}


class Transactions(Patches, Searches):
    def bundle(self, plan: BundlePlan) -> BundleResult:
        """Process a planned transaction or batch (see ``transaction`` and ``batch``)."""
        return self.transaction(plan) if plan.kind == "transaction" else self.batch(plan)

    def transaction(self, plan: BundlePlan) -> BundleResult:
        """Every entry of ``plan``, or none. Raises EntryFailed naming the failed entry (its
        ``cause`` carries the status), or the bundle's own fault."""
        buffer: list[AuditRecord] = []
        self._audit_buffer = buffer
        try:
            with self._db.begin_nested():
                outcomes = self._run_transaction(plan)
        except (ClientError, IntegrityError) as exc:
            self._audit_buffer = None
            # Two writers made the same id at once: the loser sees a conflict.
            error = exc if isinstance(exc, ClientError) else VersionConflict()
            self._audit_failure(plan, error, buffer)
            raise error from None
        finally:
            self._audit_buffer = None
        self._audit_success(plan, buffer)
        return BundleResult("transaction", outcomes)

    def put_all(self, writes: Sequence[PreparedWrite]) -> BundleResult:
        """Write prepared resources under their own ids (create or update each), all or none.

        For importers that write many resources at once (the directory): it runs as a
        transaction of PUT entries, so creations are inserted together and the audit trail
        gets one event per chain touched instead of one per resource.
        """
        entries = []
        for index, write in enumerate(writes):
            resource_id = str(write.resource.get("id", ""))
            entries.append(
                PlannedEntry(
                    index=index,
                    method="PUT",
                    url=RequestUrl(str(write.resource_type), resource_id),
                    resource=write.resource,
                    resource_id=resource_id,
                    prepared=write,
                )
            )
        return self.transaction(BundlePlan("transaction", entries))

    def batch(self, plan: BundlePlan) -> BundleResult:
        """Each entry of ``plan`` on its own: a failed entry's outcome carries its error."""
        if plan.error is not None:
            detail = {"entries": len(plan.entries)}
            self._audit(
                EventTag.RECORD_BUNDLE_BATCH, outcome_of(plan.error), None, "-", detail=detail
            )
            raise plan.error
        outcomes = {
            entry.index: self._batch_entry(plan, entry)
            for entry in sorted(plan.entries, key=lambda e: e.order)
        }
        return BundleResult("batch", tuple(outcomes[e.index] for e in plan.entries))

    def _match_ids(self, resource_type: str, params: SearchParams) -> list[str]:
        """Ids of (at most two) resources matching ``params`` that the caller may see."""
        return self.match(resource_type, params, limit=2)

    # --- transaction ----------------------------------------------------------------------------

    def _run_transaction(self, plan: BundlePlan) -> tuple[EntryOutcome, ...]:
        if plan.error is not None:
            raise plan.error
        for entry in plan.entries:
            if entry.error is not None:
                raise EntryFailed(entry.index, entry.full_url, entry.error)
        resolve(
            plan,
            plan.entries,
            match=self._match_ids,
            prepare=self._record.prepare,
            transaction=True,
        )
        _check_overlaps(plan.entries)
        outcomes = self._execute(plan.entries)
        return tuple(outcomes[entry.index] for entry in plan.entries)

    def _audit_success(self, plan: BundlePlan, buffer: list[AuditRecord]) -> None:
        """One event per chain (and outcome) for all the entries of a committed transaction."""
        groups: dict[tuple[str | None, Outcome], list[AuditRecord]] = {}
        for record in buffer:
            groups.setdefault((record.patient_id, record.outcome), []).append(record)
        events = []
        for (chain, outcome), records in groups.items():
            counts = Counter(str(record.tag).rsplit(":", 1)[-1] for record in records)
            detail: dict[str, int] = {"entries": len(plan.entries), **counts}
            events.append(
                AuditRecord(
                    tag=EventTag.RECORD_BUNDLE_TRANSACTION,
                    outcome=outcome,
                    actor=self.ctx.actor,
                    patient_id=chain,
                    entity=" ".join(record.entity for record in records),
                    mode=self.ctx.mode.value,
                    detail=detail,
                )
            )
        # One statement per table for all the chains: a bundle over a thousand patients (spaces
        # opened in a batch) would otherwise cost five round trips per patient.
        self._audit_many(events)

    def _audit_failure(
        self, plan: BundlePlan, error: ClientError, buffer: list[AuditRecord]
    ) -> None:
        """After the rollback: the failures the entries met (refusals keep their chain and rule),
        or one event saying why the transaction was refused."""
        where: dict[str, str | int] = {"bundle": "transaction", "entries": len(plan.entries)}
        if isinstance(error, EntryFailed):
            where["entry"] = error.index
        failures = [record for record in buffer if record.outcome is not Outcome.SUCCESS]
        for record in failures:
            detail = {**record.detail, **where}
            self._audit(record.tag, record.outcome, record.patient_id, record.entity, detail=detail)
        if not failures:
            cause = error.cause if isinstance(error, EntryFailed) else error
            tag = EventTag.RECORD_BUNDLE_TRANSACTION
            self._audit(tag, outcome_of(cause), None, "-", detail=where)

    # --- batch ----------------------------------------------------------------------------------

    def _batch_entry(self, plan: BundlePlan, entry: PlannedEntry) -> EntryOutcome:
        buffer: list[AuditRecord] = []
        self._audit_buffer = buffer
        try:
            with self._db.begin_nested():
                if entry.error is not None:
                    raise entry.error
                resolve(
                    plan,
                    [entry],
                    match=self._match_ids,
                    prepare=self._record.prepare,
                    transaction=False,
                )
                outcome = self._execute([entry])[entry.index]
        except (ClientError, IntegrityError) as exc:
            self._audit_buffer = None
            cause = exc.cause if isinstance(exc, EntryFailed) else exc
            error = cause if isinstance(cause, ClientError) else VersionConflict()
            failures = [record for record in buffer if record.outcome is not Outcome.SUCCESS]
            for record in failures:
                self._record.audit.record(self._db, record)
            if not failures:
                detail: dict[str, str | int] = {"bundle": "batch", "entry": entry.index}
                tag = _TAGS.get(entry.method, EventTag.RECORD_BUNDLE_BATCH)
                self._audit(tag, outcome_of(error), None, entry.resource_type, detail=detail)
            return EntryOutcome("failed", error=error)
        finally:
            self._audit_buffer = None
        for record in buffer:
            self._record.audit.record(self._db, record)
        return outcome

    # --- entries --------------------------------------------------------------------------------

    def _execute(self, entries: list[PlannedEntry]) -> dict[int, EntryOutcome]:
        """The entries in FHIR's processing order; creations written together."""
        outcomes: dict[int, EntryOutcome] = {}
        for entry in entries:
            if entry.method == "DELETE":
                outcomes[entry.index] = self._delete_entry(entry)
        outcomes.update(self._write_entries([e for e in entries if e.method in ("POST", "PUT")]))
        for entry in entries:
            if entry.method == "PATCH":
                with self._entry_guard(entry):
                    written = self.patch(
                        entry.resource_type,
                        str(entry.resource_id),
                        entry.patch,
                        if_match=entry.if_match,
                    )
                outcomes[entry.index] = EntryOutcome("updated", resource=written.resource)
        for entry in entries:
            if entry.method in ("GET", "HEAD"):
                with self._entry_guard(entry):
                    outcomes[entry.index] = self._read_entry(entry)
        return outcomes

    def _delete_entry(self, entry: PlannedEntry) -> EntryOutcome:
        if entry.resource_id is None:  # a conditional delete that matched nothing
            return EntryOutcome("deleted")
        with self._entry_guard(entry):
            if entry.if_match is not None:
                row = store.current(self._db, entry.resource_type, entry.resource_id)
                if row is None or row.version != entry.if_match:
                    entity = f"{entry.resource_type}/{entry.resource_id}"
                    owner = None if row is None else row.patient_id
                    raise Failure(VersionMismatch(), owner, entity, Outcome.CONFLICT)
            deleted = self.delete(entry.resource_type, entry.resource_id)
        return EntryOutcome("deleted", version=deleted.version)

    def _write_entries(self, entries: list[PlannedEntry]) -> dict[int, EntryOutcome]:
        outcomes: dict[int, EntryOutcome] = {}
        for entry in entries:
            if entry.existing:
                with self._entry_guard(entry):
                    found = self.read(entry.resource_type, str(entry.resource_id))
                outcomes[entry.index] = EntryOutcome("matched", resource=found)
        writes = [entry for entry in entries if not entry.existing]
        wanted = [(e.resource_type, str(e.resource_id)) for e in writes if e.method == "PUT"]
        rows = store.current_many(self._db, wanted) if wanted else {}
        fresh = [e for e in writes if (e.resource_type, e.resource_id) not in rows]
        outcomes.update(self._create_all(fresh))
        for entry in writes:
            row = rows.get((entry.resource_type, str(entry.resource_id)))
            if row is not None:
                outcomes[entry.index] = self._update_entry(entry, row)
        return outcomes

    def _create_all(self, entries: list[PlannedEntry]) -> dict[int, EntryOutcome]:
        """First versions of many resources: one INSERT, their index rows written together."""
        keys = self._data_keys(entries)
        staged: list[tuple[PlannedEntry, Staged]] = []
        for entry in entries:
            with self._entry_guard(entry):
                if entry.if_match is not None:
                    raise VersionMismatch
                assert entry.prepared is not None
                staged.append(
                    (
                        entry,
                        self._stage(str(entry.resource_id), entry.prepared, row=None, keys=keys),
                    )
                )
        if not staged:
            return {}
        bits = [
            store.index_bits(entry.prepared.entries if entry.prepared else None)
            for entry, _ in staged
        ]
        row_keys = store.insert_many(
            self._db,
            [
                (s.resource_type, s.resource_id, s.new, b)
                for (_, s), b in zip(staged, bits, strict=True)
            ],
        )
        self._index_new([(k, s, e) for (e, s), k in zip(staged, row_keys, strict=True)], bits)
        outcomes: dict[int, EntryOutcome] = {}
        for entry, one in staged:
            self._audit(_TAGS[entry.method], Outcome.SUCCESS, one.owner, one.entity)
            outcomes[entry.index] = EntryOutcome("created", resource=self._stored(one))
        return outcomes

    def _data_keys(self, entries: list[PlannedEntry]) -> dict[str, DataKey]:
        """The data keys of the compartments the entries write to, read in a few queries (a
        key destroyed or missing is left out: ``_stage`` then refuses or makes it, as for one
        write)."""
        owners = {
            self._owner(entry.resource_type, str(entry.resource_id), entry.prepared) or SYSTEM_OWNER
            for entry in entries
            if entry.prepared is not None and entry.resource_type != "Binary"
        }
        found = self._record.storage.data_keys(self._db, owner_ids=owners) if owners else {}
        return {owner: key for owner, key in found.items() if key is not None}

    def _index_new(self, written: list[tuple[int, Staged, PlannedEntry]], bits: list[int]) -> None:
        """The index rows of new resources, every table written once for all of them."""
        items = [
            store.IndexWrite(
                key,
                one.resource_type,
                one.owner,
                entry.prepared.entries if entry.prepared is not None else None,
                0,
                stored_bits,
            )
            for (key, one, entry), stored_bits in zip(written, bits, strict=True)
        ]
        store.write_indexes(
            self._db,
            items,
            blind_hash=self._record.storage.blind_index,
            patient_keys=self._record.patient_keys,
        )
        fulltext_store.on_create_many(
            self._db,
            self._record.storage,
            (
                (key, one.owner, entry.prepared.resource)
                for key, one, entry in written
                if entry.prepared is not None
            ),
        )

    def _update_entry(self, entry: PlannedEntry, row: store.AnyRow) -> EntryOutcome:
        with self._entry_guard(entry):
            self._require_writable(entry.resource_type, str(entry.resource_id), row, Action.UPDATE)
            if entry.if_match is not None and row.version != entry.if_match:
                entity = f"{entry.resource_type}/{entry.resource_id}"
                raise Failure(VersionMismatch(), row.patient_id, entity, Outcome.CONFLICT)
            assert entry.prepared is not None
            written = self._put(
                _TAGS["PUT"],
                str(entry.resource_id),
                entry.prepared,
                row=row,
                if_match=entry.if_match,
            )
        return EntryOutcome("updated", resource=written.resource)

    def _read_entry(self, entry: PlannedEntry) -> EntryOutcome:
        url = entry.url
        assert url is not None
        if url.resource_id is None:
            found = self.search(url.resource_type, criteria(url.query or "", {}))
            return EntryOutcome("read", searchset=found)
        if url.version is not None:
            return EntryOutcome(
                "read", resource=self.vread(url.resource_type, url.resource_id, url.version)
            )
        if url.history:
            history = tuple(self.history(url.resource_type, url.resource_id))
            return EntryOutcome("read", history=history)
        return EntryOutcome("read", resource=self.read(url.resource_type, url.resource_id))

    @contextmanager
    def _entry_guard(self, entry: PlannedEntry) -> Iterator[None]:
        """Failures of one entry, audited when their context is known, named by the entry."""
        try:
            yield
        except Failure as failure:
            tag = _TAGS.get(entry.method, EventTag.RECORD_BUNDLE_TRANSACTION)
            self._audit(
                tag, failure.outcome, failure.patient_id, failure.entity, detail=failure.detail
            )
            raise EntryFailed(entry.index, entry.full_url, failure.error) from None
        except EntryFailed:
            raise
        except ClientError as exc:
            raise EntryFailed(entry.index, entry.full_url, exc) from None


def _check_overlaps(entries: list[PlannedEntry]) -> None:
    """FHIR: a transaction whose writes overlap (two entries on one resource) fails."""
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        if entry.method not in WRITE_METHODS or entry.resource_id is None or entry.existing:
            continue
        key = (entry.resource_type, entry.resource_id)
        if key in seen:
            message = f"Entries {seen[key]} and {entry.index} change the same resource."
            error = InvalidBundle(message, f"Bundle.entry[{entry.index}].request.url")
            raise EntryFailed(entry.index, entry.full_url, error)
        seen[key] = entry.index
