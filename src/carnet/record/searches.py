"""Searching through the door: search (pages, includes), and match/count for conditional
operations.

Access is decided inside the SQL (``search.run``): every row a search reads must be in the
actor's scope for its type (``access_service.search_scope``), so totals and pages never count
what the actor may not see. Included resources are then decided one by one
(``access_service.decide``) and silently left out when refused. Only the returned page is
decrypted.

Audit: one event per search (``record:resource:search``) listing the returned ids, matches and
includes, never the searched values (the entity names the parameters only). A search confined
to one patient (the actor's scope, or a ``patient=`` that proves the owner) writes it in that
patient's chain. Any other search writes one event per patient chain whose resources it
returned, listing those, so that each patient's access history shows that their data went
out, plus one in the system chain when it returned resources outside every compartment or
nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from carnet.access import service as access_service
from carnet.access.schemas import SearchScope
from carnet.audit.tags import EventTag, Outcome
from carnet.core.errors import ClientError
from carnet.record import store
from carnet.record.door import RepositoryBase
from carnet.record.errors import InvalidCursor
from carnet.record.schemas import SearchResult, StoredResource
from carnet.record.search.includes import included_keys
from carnet.record.search.model import ParsedSearch, SearchLimits
from carnet.record.search.paging import CursorState, Position
from carnet.record.search.run import (
    Prepared,
    Scoping,
    highest_key,
    prepare,
    run_count,
    run_ids,
    run_page,
)
from carnet.record.search.summary import subset
from carnet.record.search_rows import open_rows

_TAG = EventTag.RECORD_RESOURCE_SEARCH


@dataclass(frozen=True, slots=True)
class _Asked:
    """A search as asked: its parameters (from the request or the cursor) and its page state."""

    params: tuple[tuple[str, str], ...]
    lenient: bool
    limits: SearchLimits
    state: CursorState | None


class Searches(RepositoryBase):
    def search(
        self,
        resource_type: str,
        params: Sequence[tuple[str, str]],
        *,
        lenient: bool = False,
        cursor: str | None = None,
        limits: SearchLimits | None = None,
    ) -> SearchResult:
        """One page of ``resource_type`` resources matching ``params`` (FHIR search syntax), or
        the page ``cursor`` (from an earlier result's ``next_cursor``) designates.

        Raises InvalidSearch or UnsupportedSearch (naming the parameter), InvalidCursor.
        """
        self._require_type(resource_type, _TAG)
        asked = _Asked(tuple(params), lenient, limits or SearchLimits(), None)
        if cursor is not None:
            state = self._open_cursor(cursor, resource_type)
            asked = _Asked(state.params, state.lenient, SearchLimits(*state.count_limits), state)
        parsed = self._parse(
            resource_type, asked.params, lenient=asked.lenient, limits=asked.limits
        )
        scope = access_service.search_scope(self.ctx, resource_type)
        if scope.nothing:
            self._audit(_TAG, Outcome.REFUSED, None, _entity(parsed), detail={"rule": scope.rule})
            return SearchResult(resource_type, (), total=0, warnings=parsed.ignored)
        snapshot = asked.state.snapshot if asked.state is not None else None
        prepared = self._prepare(parsed, snapshot)
        if parsed.controls.summary == "count":
            return self._count_only(prepared, asked)
        return self._page(prepared, asked)

    def match(
        self, resource_type: str, params: Sequence[tuple[str, str]] | str, *, limit: int = 2
    ) -> list[str]:
        """Ids of at most ``limit`` resources matching ``params`` (a query string or pairs) that
        the caller may see: the criteria of a conditional create, update or delete."""
        parsed, prepared = self._conditional(resource_type, params)
        if prepared is None:
            return []
        rows = run_ids(self._db, prepared, limit)
        returned = [(f"{resource_type}/{row.id}", row.patient_id) for row in rows]
        self._audit_returned(parsed, returned, self._confined(parsed))
        return [row.id for row in rows]

    def count(self, resource_type: str, params: Sequence[tuple[str, str]] | str) -> int:
        """How many resources the caller may see match ``params``."""
        parsed, prepared = self._conditional(resource_type, params)
        total = 0 if prepared is None else run_count(self._db, prepared)
        self._audit_returned(parsed, [], self._confined(parsed), total=total)
        return total

    # --- steps ----------------------------------------------------------------------------------

    def _conditional(
        self, resource_type: str, params: Sequence[tuple[str, str]] | str
    ) -> tuple[ParsedSearch, Prepared | None]:
        self._require_type(resource_type, _TAG)
        pairs = parse_qsl(params, keep_blank_values=True) if isinstance(params, str) else params
        parsed = self._parse(resource_type, pairs, lenient=False, limits=SearchLimits())
        scope = access_service.search_scope(self.ctx, resource_type)
        if scope.nothing:
            self._audit(_TAG, Outcome.REFUSED, None, _entity(parsed), detail={"rule": scope.rule})
            return parsed, None
        return parsed, self._prepare(parsed, None)

    def _parse(
        self,
        resource_type: str,
        params: Sequence[tuple[str, str]],
        *,
        lenient: bool,
        limits: SearchLimits,
    ) -> ParsedSearch:
        try:
            return self._record.search_parser(limits).parse(
                resource_type, params, lenient=lenient, now=self._record.clock_micros()
            )
        except ClientError as exc:
            self._refuse(_TAG, exc, self.ctx.patient_id, f"{resource_type}?")

    def _prepare(self, parsed: ParsedSearch, snapshot: int | None) -> Prepared:
        owner_keys = None
        if parsed.owner_hint is not None:
            key = self._record.patient_keys.get(self._db, parsed.owner_hint, create=False)
            owner_keys = () if key is None else (key,)
        return prepare(parsed, self._scoping(), owner_keys=owner_keys, snapshot=snapshot)

    def _scoping(self) -> Scoping:
        scopes: dict[str, SearchScope] = {}

        def scope_of(resource_type: str) -> SearchScope:
            if resource_type not in scopes:
                scopes[resource_type] = access_service.search_scope(self.ctx, resource_type)
            return scopes[resource_type]

        def keys_of(resource_type: str) -> tuple[int, ...] | None:
            scope = scope_of(resource_type)
            if scope.everything or scope.include_shared or not scope.patient_ids:
                return None
            keys = (
                self._record.patient_keys.get(self._db, patient, create=False)
                for patient in sorted(scope.patient_ids)
            )
            return tuple(key for key in keys if key is not None)

        return Scoping(scope_of=scope_of, keys_of=keys_of)

    def _count_only(self, prepared: Prepared, asked: _Asked) -> SearchResult:
        parsed = prepared.parsed
        total = run_count(self._db, prepared)
        self._audit_returned(parsed, [], self._confined(parsed), total=total)
        return SearchResult(
            parsed.resource_type,
            (),
            total=total,
            count_only=True,
            params=asked.params,
            identifying=parsed.identifying,
            warnings=parsed.ignored,
        )

    def _page(self, prepared: Prepared, asked: _Asked) -> SearchResult:
        parsed, state = prepared.parsed, asked.state
        controls = parsed.controls
        position = state.position if state is not None else None
        rows, following = run_page(self._db, prepared, position, controls.count)
        total = state.total if state is not None else None
        if total is None and controls.total in ("accurate", "estimate"):
            total = run_count(self._db, prepared)
        elif total is None and state is None and following is None:
            total = len(rows)  # a first page with nothing after it: the total is known
        snapshot = state.snapshot if state is not None else None
        if following is not None and snapshot is None:
            snapshot = highest_key(self._db)

        def sealed(at: Position | None) -> str:
            limits = (asked.limits.default_count, asked.limits.max_count)
            cursor = CursorState(
                parsed.resource_type, asked.params, asked.lenient, at, snapshot, total, limits
            )
            return self._record.cursors().seal(cursor, _actor_key(self))

        matches = self._open_matches(rows, parsed)
        included = self._included(parsed, [int(row.key) for row in rows], matches)
        returned = [(m.reference, m.patient_id) for m in (*matches, *included)]
        self._audit_returned(parsed, returned, self._confined(parsed), total=total)
        return SearchResult(
            resource_type=parsed.resource_type,
            matches=tuple(matches),
            included=tuple(included),
            total=total,
            next_cursor=None if following is None else sealed(following),
            self_cursor=sealed(position) if parsed.identifying else None,
            subsetted=bool(controls.summary in ("true", "text", "data") or controls.elements),
            identifying=parsed.identifying,
            params=asked.params,
            warnings=parsed.ignored,
        )

    def _open_matches(self, rows: list[store.AnyRow], parsed: ParsedSearch) -> list[StoredResource]:
        opened = open_rows(self, rows)
        controls = parsed.controls
        if controls.summary is None and not controls.elements:
            return opened
        definitions = self._record.definitions
        return [
            _with_body(
                stored,
                subset(
                    definitions,
                    stored.resource_type,
                    stored.body,
                    summary=controls.summary,
                    elements=controls.elements,
                ),
            )
            for stored in opened
        ]

    def _included(
        self, parsed: ParsedSearch, keys: list[int], matches: list[StoredResource]
    ) -> list[StoredResource]:
        specs = parsed.controls.includes
        if not specs or not matches:
            return []
        by_reference = {m.reference: key for key, m in zip(keys, matches, strict=False)}
        sources = [(by_reference[m.reference], m.resource_type, m.id) for m in matches]
        rows = store.rows_by_keys(self._db, included_keys(self._db, specs, sources))
        allowed = [
            row for row in rows if self._may_read(row.resource_type, row.patient_id, row.held)
        ]
        return open_rows(self, allowed)

    def _open_cursor(self, cursor: str, resource_type: str) -> CursorState:
        try:
            state = self._record.cursors().open(cursor, _actor_key(self))
        except InvalidCursor as exc:
            self._refuse(_TAG, exc, self.ctx.patient_id, f"{resource_type}?")
        if state.resource_type != resource_type:
            self._refuse(_TAG, InvalidCursor(), self.ctx.patient_id, f"{resource_type}?")
        return state

    def _confined(self, parsed: ParsedSearch) -> str | None:
        """The one patient the search is confined to, if any."""
        if parsed.owner_hint is not None:
            return parsed.owner_hint
        scope = access_service.search_scope(self.ctx, parsed.resource_type)
        if scope.everything or scope.include_shared or len(scope.patient_ids) != 1:
            return None
        return next(iter(scope.patient_ids))

    def _audit_returned(
        self,
        parsed: ParsedSearch,
        returned: list[tuple[str, str | None]],
        confined: str | None,
        *,
        total: int | None = None,
    ) -> None:
        """One event per patient chain whose data went out (see the module docstring)."""
        entity = _entity(parsed)
        extra: dict[str, int] = {} if total is None else {"total": total}
        if confined is not None:
            ids = [reference for reference, _ in returned]
            self._audit(_TAG, Outcome.SUCCESS, confined, entity, detail={"ids": ids, **extra})
            return
        chains: dict[str | None, list[str]] = {}
        for reference, patient in returned:
            chains.setdefault(patient, []).append(reference)
        if not returned:
            chains[None] = []
        for patient, ids in chains.items():
            self._audit(_TAG, Outcome.SUCCESS, patient, entity, detail={"ids": ids, **extra})


def _entity(parsed: ParsedSearch) -> str:
    """The search as the audit trail keeps it: the type and the parameter names, no values."""
    return f"{parsed.resource_type}?{'&'.join(parsed.names)}"


def _actor_key(repo: RepositoryBase) -> str:
    actor = repo.ctx.actor
    return f"{actor.kind}|{actor.id}|{repo.ctx.patient_id or ''}"


def _with_body(stored: StoredResource, body: bytes) -> StoredResource:
    return StoredResource(
        stored.resource_type,
        stored.id,
        stored.version,
        stored.last_updated,
        stored.patient_id,
        body,
    )
