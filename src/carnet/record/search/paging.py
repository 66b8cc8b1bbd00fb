"""Sorting, keyset pages and their cursors.

A page is the next ``count`` resources after a position in a total order: the sort keys, then
the resource's row key (unique, and stable across updates). The next page starts strictly after
the last row returned, so rows are never repeated, and a page never depends on how many rows
came before, so a deletion or an insertion between pages skips nothing: the search's snapshot
bound (the highest row key when it started) keeps resources created later out of it.

One limit of keysets: an update that moves a resource's own sort value across the cursor while
a client pages (re-dating an Observation sorted by date) moves it in the order; it may then be
missed or seen twice. Unsorted searches and sorts on values that do not change are exact.

The cursor is sealed with AES-256-GCM (a key derived from the keyring for this purpose alone)
and bound to the actor: it carries the search parameters, identifying ones included, and the
position, all unreadable and unforgeable to the client.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ColumnElement, FromClause, Select, and_, false, func, or_, select

from carnet.record import models, store
from carnet.record.errors import InvalidCursor
from carnet.record.search.binding import Binder
from carnet.record.search.model import SortKey

_VERSION = 1
_NONCE = 12


@dataclass(frozen=True, slots=True)
class Position:
    values: tuple[Any, ...]
    """The last row's sort values (None where it had none)."""
    key: int


@dataclass(frozen=True, slots=True)
class CursorState:
    resource_type: str
    params: tuple[tuple[str, str], ...]
    lenient: bool
    position: Position | None
    snapshot: int | None
    """The highest row key when the search started: later resources are not part of it (None:
    a search that had a single page, when it was sealed to be asked again)."""
    total: int | None
    count_limits: tuple[int, int]
    """(default, maximum) page sizes the search started with."""


class CursorBox:
    """Seals and opens cursors (one per process; the key comes from ``Storage.derive_key``)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, state: CursorState, actor: str) -> str:
        payload = orjson.dumps(
            {
                "v": _VERSION,
                "t": state.resource_type,
                "q": state.params,
                "l": state.lenient,
                "p": None
                if state.position is None
                else [list(map(_encode, state.position.values)), state.position.key],
                "s": state.snapshot,
                "n": state.total,
                "c": list(state.count_limits),
            }
        )
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, payload, actor.encode())
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, token: str, actor: str) -> CursorState:
        """The state of a cursor this server sealed for ``actor``; InvalidCursor otherwise."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], actor.encode())
            data = orjson.loads(payload)
            position = None
            if data["p"] is not None:
                values, key = data["p"]
                position = Position(tuple(map(_decode, values)), int(key))
            return CursorState(
                resource_type=data["t"],
                params=tuple((str(name), str(value)) for name, value in data["q"]),
                lenient=bool(data["l"]),
                position=position,
                snapshot=None if data["s"] is None else int(data["s"]),
                total=data["n"],
                count_limits=(int(data["c"][0]), int(data["c"][1])),
            )
        except (InvalidTag, ValueError, KeyError, TypeError, IndexError, binascii.Error):
            raise InvalidCursor from None


def _encode(value: Any) -> Any:
    return {"dt": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    return datetime.fromisoformat(value["dt"]) if isinstance(value, dict) else value


def sort_expression(r: FromClause, key: SortKey) -> ColumnElement[Any]:
    """A resource's value for one sort key: its lowest (ascending) or highest (descending)."""
    if key.column is not None:
        return r.c[key.column]
    table = models.INDEX_TABLES[key.table]
    if key.table == "date":
        column = table.c.high if key.descending else table.c.low
    else:
        column = table.c.value
    aggregate = func.max(column) if key.descending else func.min(column)
    return (
        select(aggregate)
        .where(table.c.resource_key == r.c.key, table.c.param_id.in_(key.param_ids))
        .scalar_subquery()
    )


def page_statement(
    r: FromClause,
    base: ColumnElement[bool],
    sort: tuple[SortKey, ...],
    missing: tuple[bool, ...] | None,
    binder: Binder,
) -> Select[Any]:
    """The rows of one page (``store.ROW_COLUMNS``, and sort values ``s0``, ``s1``...), in
    order, in one statement. ``missing``: None on a first page; after a position, which of its
    sort values were missing (the position's values are bound as ``after_<i>`` and
    ``after_key``, the page size as ``limit``)."""
    limit = binder.named("limit")
    if not sort:
        stmt = select(*store.ROW_COLUMNS).select_from(store.ROWS_FROM).where(base)
        if missing is not None:
            stmt = stmt.where(r.c.key > binder.named("after_key"))
        return stmt.order_by(r.c.key).limit(limit)
    labelled = [sort_expression(r, key).label(f"s{i}") for i, key in enumerate(sort)]
    inner = select(r.c.key.label("sorted_key"), *labelled).where(base).subquery()
    columns = [(inner.c[f"s{i}"], key.descending) for i, key in enumerate(sort)]
    joined = store.ROWS_FROM.join(inner, r.c.key == inner.c.sorted_key)
    stmt = select(*store.ROW_COLUMNS, *(column for column, _ in columns)).select_from(joined)
    if missing is not None:
        stmt = stmt.where(_after(columns, missing, binder, inner.c.sorted_key))
    order: list[Any] = []
    for column, descending in columns:
        order += [column.is_(None), column.desc() if descending else column.asc()]
    return stmt.order_by(*order, inner.c.sorted_key).limit(limit)


def _after(
    columns: Sequence[tuple[ColumnElement[Any], bool]],
    missing: tuple[bool, ...],
    binder: Binder,
    key: ColumnElement[Any],
) -> ColumnElement[bool]:
    """Rows strictly after the position in the order (missing values last, either way)."""
    alternatives = []
    equal: list[ColumnElement[bool]] = []
    for index, ((column, descending), absent) in enumerate(zip(columns, missing, strict=True)):
        if absent:
            after: ColumnElement[bool] = false()
            same: ColumnElement[bool] = column.is_(None)
        else:
            value = binder.named(f"after_{index}")
            beyond = column < value if descending else column > value
            after = or_(column.is_(None), beyond)
            same = column == value
        alternatives.append(and_(*equal, after))
        equal.append(same)
    alternatives.append(and_(*equal, key > binder.named("after_key")))
    return or_(*alternatives)


def position_of(row: Any, sort: tuple[SortKey, ...]) -> Position:
    """The position of a page's last row (as ``page_statement`` selected it)."""
    return Position(tuple(getattr(row, f"s{i}") for i in range(len(sort))), int(row.key))
