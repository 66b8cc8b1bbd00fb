"""Running a parsed search: the WHERE clause, a page of rows, the total.

Access is part of the SQL: every resource row the search reads, the matches and those reached
through chains, ``_has`` and ``_list``, must satisfy the actor's scope for its type, so that
totals and pages never count what the actor may not see. When the scope or the search itself
confines the matches to patients, their keys confine every index lookup too.

Statements are built once per shape (``binding``) and kept in ``STATEMENTS``; each search binds
its own values: the conditions', its scope's patients and keys, its snapshot and position.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    FromClause,
    and_,
    false,
    func,
    literal,
    select,
    true,
)

from carnet.access.schemas import SearchScope
from carnet.record import models, store
from carnet.record.labels import bits_of
from carnet.record.search.binding import Binder, StatementCache
from carnet.record.search.compile import Clause, Context, where
from carnet.record.search.model import Chain, Has, InList, ParsedSearch
from carnet.record.search.paging import Position, page_statement, position_of

_R = models.resource
STATEMENTS = StatementCache()
"""Page and count statements by shape, shared by every search of the process."""


@dataclass(frozen=True, slots=True)
class Scoping:
    """The actor's access: the scope of each type, and the patient keys confining a type's
    index rows (None: no confinement; empty: a patient without index rows)."""

    scope_of: Callable[[str], SearchScope]
    keys_of: Callable[[str], tuple[int, ...] | None]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A search ready to run: its values bound, its shape known, its WHERE clause on demand."""

    parsed: ParsedSearch
    binder: Binder
    shape: Hashable
    where: Callable[[], Clause]
    empty: bool
    """True when nothing can match (no need to ask the database)."""


def prepare(
    parsed: ParsedSearch,
    scoping: Scoping,
    *,
    owner_keys: tuple[int, ...] | None,
    snapshot: int | None,
) -> Prepared:
    """Bind a search's values and describe its shape.

    ``owner_keys``: the keys of the owner ``parsed.owner_hint`` proves (empty when that patient
    has no key: then nothing can match); None without a hint.
    """
    binder = Binder()
    conditions = binder.shape(parsed.conditions)
    resource_type = parsed.resource_type
    keys = scoping.keys_of(resource_type)
    if owner_keys is not None:
        keys = owner_keys if keys is None else tuple(set(keys) & set(owner_keys))
    scopes = {t: _bind_scope(binder, t, scoping) for t in _touched(parsed)}
    if keys is not None:
        binder.fixed("keys_outer", keys, expanding=True)
    if snapshot is not None:
        binder.fixed("snapshot", snapshot)
    shape = (resource_type, conditions, tuple(sorted(scopes.items())), keys is not None,
             snapshot is not None)  # fmt: skip

    def build() -> Clause:
        def visible(type_: str, r: FromClause) -> Clause:
            return _scope_clause(binder, type_, scopes[type_], r)

        def keys_for(type_: str) -> BindParameter[Any] | None:
            name = f"keys_{type_}"
            return binder.named(name) if name in binder.params else None

        outer = binder.named("keys_outer") if keys is not None else None
        ctx = Context(binder=binder, keys=outer, visible=visible, keys_for=keys_for)
        clauses = [
            _R.c.resource_type == resource_type,
            _R.c.deleted.is_(False),
            visible(resource_type, _R),
            *(where(condition, _R, ctx) for condition in parsed.conditions),
        ]
        if snapshot is not None:
            clauses.append(_R.c.key <= binder.named("snapshot"))
        return and_(*clauses)

    return Prepared(parsed, binder, shape, build, empty=keys == ())


def _touched(parsed: ParsedSearch) -> set[str]:
    """Every resource type the search reads rows of: its own, and those its chains, _has and
    _list reach."""
    found = {parsed.resource_type}

    def visit(node: Any) -> None:
        if isinstance(node, Chain):
            found.update(target for target, _ in node.targets)
        elif isinstance(node, Has):
            found.add(node.source_type)
        elif isinstance(node, InList):
            found.add("List")
        if isinstance(node, tuple):
            for item in node:
                visit(item)
        elif is_dataclass(node) and not isinstance(node, type):
            for field in fields(node):
                visit(getattr(node, field.name))

    visit(parsed.conditions)
    return found


def _bind_scope(binder: Binder, resource_type: str, scoping: Scoping) -> Hashable:
    """Register a type's scope values; its shape: nothing, everything, or patients (and shared)."""
    scope = scoping.scope_of(resource_type)
    if scope.nothing:
        return "nothing"
    if scope.everything:
        return "everything"
    if scope.patient_ids:
        binder.fixed(f"scope_{resource_type}", sorted(scope.patient_ids), expanding=True)
    keys = scoping.keys_of(resource_type)
    if keys is not None:
        binder.fixed(f"keys_{resource_type}", keys, expanding=True)
    hidden = bits_of(scope.hidden)
    return ("patients", bool(scope.patient_ids), scope.include_shared, keys is not None, hidden)


def _scope_clause(binder: Binder, resource_type: str, shape: Hashable, r: FromClause) -> Clause:
    if shape == "nothing":
        return false()
    if shape == "everything":
        return true()
    parts = []
    name = f"scope_{resource_type}"
    if name in binder.params:
        parts.append(r.c.patient_id.in_(binder.named(name)))
    assert isinstance(shape, tuple)
    if shape[2]:  # shared resources too
        parts.append(r.c.patient_id.is_(None))
    if not parts:
        return false()
    scoped: Clause = parts[0] if len(parts) == 1 else parts[0] | parts[1]
    hidden = shape[4]
    if hidden:
        # Rows labelled with what hides them from this actor are left out here, so that pages,
        # totals and everything reached through chains never count them (record.labels).
        scoped = and_(scoped, r.c.held.op("&")(literal(hidden)) == 0)
    return scoped


def run_page(
    db: Connection, prepared: Prepared, position: Position | None, count: int
) -> tuple[list[store.AnyRow], Position | None]:
    """The rows of one page (``store.ROW_COLUMNS``) and, when more follow, the position of
    its last row."""
    if prepared.empty or count == 0:
        return [], None
    sort = prepared.parsed.controls.sort
    binder = prepared.binder
    missing: tuple[bool, ...] | None = None
    if position is not None:
        missing = tuple(value is None for value in position.values)
        for index, value in enumerate(position.values):
            if value is not None:
                binder.fixed(f"after_{index}", value)
        binder.fixed("after_key", position.key)
    binder.fixed("limit", count + 1)
    statement = STATEMENTS.get(
        ("page", prepared.shape, sort, missing),
        lambda: page_statement(_R, prepared.where(), sort, missing, binder),
    )
    rows = list(db.execute(statement, binder.params).all())
    more = len(rows) > count
    rows = rows[:count]
    following = position_of(rows[-1], sort) if more and rows else None
    return rows, following


def run_count(db: Connection, prepared: Prepared) -> int:
    if prepared.empty:
        return 0
    statement = STATEMENTS.get(
        ("count", prepared.shape),
        lambda: select(func.count()).select_from(_R).where(prepared.where()),
    )
    return int(db.execute(statement, prepared.binder.params).scalar_one())


def run_ids(db: Connection, prepared: Prepared, limit: int) -> list[Any]:
    """(id, patient_id) of the first ``limit`` matches (conditional operations)."""
    if prepared.empty or limit <= 0:
        return []
    prepared.binder.fixed("limit", limit)
    statement = STATEMENTS.get(
        ("ids", prepared.shape),
        lambda: (
            select(_R.c.id, _R.c.patient_id)
            .where(prepared.where())
            .order_by(_R.c.key)
            .limit(prepared.binder.named("limit"))
        ),
    )
    return list(db.execute(statement, prepared.binder.params).all())


def highest_key(db: Connection) -> int:
    """The snapshot bound of a search starting now."""
    found: Any = db.execute(select(func.max(_R.c.key))).scalar_one()
    return int(found or 0)
