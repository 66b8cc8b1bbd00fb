"""Typed search conditions to SQLAlchemy Core, over the resource table and the index tables.

A condition becomes a boolean over a resource row ``r``: ``r.key IN (rows of an index table)``
for what must match, ``NOT IN`` for ``:not`` and ``:missing=true``. Index rows are looked up by
parameter id and value (the lookup indexes) and, when the search is confined to patients (the
actor's scope, or a ``patient=`` that proves the owner), by their patient keys too.

Matching rules (FHIR R4 search, ranges half-open ``[low, high)``):

- date, target range [l, h), search range [ql, qh): ``eq`` l ≥ ql and h ≤ qh; ``ne`` not eq;
  ``gt`` h > qh; ``lt`` l < ql; ``ge`` gt or eq; ``le`` lt or eq; ``sa`` l ≥ qh; ``eb`` h ≤ ql;
  ``ap`` overlaps [ql − d, qh + d) where d is 10 % of the distance from now to ql.
- number and quantity, stored value v, search value q of precision [ql, qh): ``eq`` ql ≤ v < qh;
  ``ne`` not eq; ``gt``/``sa`` v > q; ``lt``/``eb`` v < q; ``ge`` v ≥ q; ``le`` v ≤ q; ``ap``
  |v − q| ≤ 10 % of |q|. Units: ``system|code`` both; ``||code`` the code or the unit.
- _lastUpdated is an instant t: ``eq`` ql ≤ t < qh, ``gt``/``sa`` t ≥ qh, ``ge`` t ≥ ql, ``lt``/
  ``eb`` t < ql, ``le`` t < qh, ``ap`` as dates.
- strings: normalised starts-with (the index range [q, q + U+10FFFF)), ``:exact`` (the hash of
  the exact text), ``:contains`` (LIKE on the normalised text).

Every value is a bound parameter named by ``binding.Binder``, so that one statement serves
every search of its shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Select,
    and_,
    func,
    not_,
    or_,
    select,
    true,
)

from carnet.record import models
from carnet.record.search.binding import Binder
from carnet.record.search.model import (
    BlindMatch,
    Chain,
    CompositeMatch,
    DateMatch,
    Has,
    HashedToken,
    IdMatch,
    InList,
    InstantRange,
    LastUpdatedMatch,
    Missing,
    Negated,
    NumberMatch,
    ReferenceMatch,
    TextMatch,
    TextValue,
    TokenMatch,
    UnitMatch,
    UriMatch,
)
from carnet.record.search.values import DateValue

Clause = ColumnElement[bool]
_T = models.INDEX_TABLES


@dataclass(frozen=True, slots=True)
class Context:
    """What a condition needs besides itself."""

    binder: Binder
    keys: BindParameter[Any] | None
    """The patient keys (a bound list) the index rows of this type must carry; None: any."""
    visible: Callable[[str, FromClause], Clause]
    """The access condition on a resource row of a type (chains, _has, _list reach others)."""
    keys_for: Callable[[str], BindParameter[Any] | None]
    """The patient keys that confine another type's index rows (from the actor's scope)."""


def where(condition: object, r: FromClause, ctx: Context) -> Clause:
    """The SQL condition of one typed condition on resource rows ``r``."""
    handler = _HANDLERS.get(type(condition))
    if handler is None:
        raise TypeError(f"no SQL for {type(condition).__name__}")
    return handler(condition, r, ctx)


def _rows(
    table_name: str, param_ids: tuple[int, ...], ctx: Context, *clauses: Clause
) -> Select[Any]:
    table = _T[table_name]
    column = table.c.param_id
    ids = column == param_ids[0] if len(param_ids) == 1 else column.in_(param_ids)
    stmt = select(table.c.resource_key).where(ids, *clauses)
    if ctx.keys is not None:
        stmt = stmt.where(table.c.patient_key.in_(ctx.keys))
    return stmt


def _in(r: FromClause, stmt: Select[Any]) -> Clause:
    return r.c.key.in_(stmt)


def token_clause(code: Any, system: Any, value: HashedToken, ctx: Context) -> Clause:
    """A stored (code hash, system hash) pair against one token value."""
    bind = ctx.binder.bind
    parts = []
    if value.code_hash is not None:
        parts.append(code == bind(value, "code_hash"))
    if value.no_system:
        parts.append(system.is_(None))
    elif value.system_hash is not None:
        parts.append(system == bind(value, "system_hash"))
    return and_(true(), *parts)


def _token(condition: TokenMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T["token"]
    values = or_(*(token_clause(t.c.code_hash, t.c.system_hash, v, ctx) for v in condition.values))
    return _in(r, _rows("token", condition.param_ids, ctx, values))


def prefix_clause(column: Any, value: TextValue, ctx: Context) -> Clause:
    bind = ctx.binder.bind
    return and_(column >= bind(value, "value"), column < bind(value, "upper"))


def _text(condition: TextMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T["string"]
    bind = ctx.binder.bind
    if condition.mode == "exact":
        values = or_(
            *(
                and_(
                    t.c.value == bind(condition, "texts", i),
                    t.c.exact_hash == bind(condition, "exact_hashes", i),
                )
                for i in range(len(condition.texts))
            )
        )
    elif condition.mode == "contains":
        values = or_(
            *(
                t.c.value.like(bind(condition, "texts", i), escape="\\")
                for i in range(len(condition.texts))
            )
        )
    else:
        values = or_(
            *(
                prefix_clause(t.c.value, v, ctx)
                for v in condition.values
                if isinstance(v, TextValue)
            )
        )
    return _in(r, _rows("string", condition.param_ids, ctx, values))


_BEYOND = {
    "gt": ("high", "__gt__", "high"),  # h > qh
    "lt": ("low", "__lt__", "low"),  # l < ql
    "sa": ("low", "__ge__", "high"),  # l >= qh
    "eb": ("high", "__le__", "low"),  # h <= ql
}


def date_clause(low: Any, high: Any, value: DateValue, ctx: Context) -> Clause:
    """A stored range [low, high) against one date value (see the module docstring)."""
    prefix = value.prefix
    q_low, q_high = ctx.binder.bind(value, "low"), ctx.binder.bind(value, "high")
    if prefix == "ap":  # the range was widened when parsed: overlap it
        return and_(low < q_high, high > q_low)
    if prefix in _BEYOND:
        side, operator, bound = _BEYOND[prefix]
        column = high if side == "high" else low
        return getattr(column, operator)(q_high if bound == "high" else q_low)  # type: ignore[no-any-return]
    equal = and_(low >= q_low, high <= q_high)
    if prefix == "ne":
        return not_(equal)
    if prefix == "ge":
        return or_(high > q_high, equal)
    if prefix == "le":
        return or_(low < q_low, equal)
    return equal


def _date(condition: DateMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T["date"]
    values = or_(*(date_clause(t.c.low, t.c.high, v, ctx) for v in condition.values))
    return _in(r, _rows("date", condition.param_ids, ctx, values))


_COMPARE = {"gt": "__gt__", "sa": "__gt__", "lt": "__lt__", "eb": "__lt__", "ge": "__ge__",
            "le": "__le__"}  # fmt: skip


def number_clause(column: Any, value: UnitMatch, ctx: Context) -> Clause:
    number = value.number
    prefix = number.prefix
    bind = ctx.binder.bind
    if prefix in ("eq", "ne", "ap"):
        low, high = bind(number, "low"), bind(number, "high")
        if prefix == "ap":
            return and_(column >= low, column <= high)
        equal = and_(column >= low, column < high)
        return equal if prefix == "eq" else not_(equal)
    return getattr(column, _COMPARE[prefix])(bind(number, "value"))  # type: ignore[no-any-return]


def unit_clause(table: Any, value: UnitMatch, ctx: Context) -> Clause:
    bind = ctx.binder.bind
    if value.system_hash is not None:
        code = true() if value.code_hash is None else table.c.code_hash == bind(value, "code_hash")
        return and_(table.c.system_hash == bind(value, "system_hash"), code)
    if value.code_hash is not None:
        unit = bind(value, "code_hash")
        return or_(table.c.code_hash == unit, table.c.unit_hash == unit)
    return true()


def _number(condition: NumberMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T[condition.table]
    clauses = []
    for value in condition.values:
        units = unit_clause(t, value, ctx) if condition.table == "quantity" else true()
        clauses.append(and_(number_clause(t.c.value, value, ctx), units))
    return _in(r, _rows(condition.table, condition.param_ids, ctx, or_(*clauses)))


def _reference(condition: ReferenceMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T["reference"]
    hashes = t.c.ref_hash.in_(ctx.binder.bind(condition, "hashes"))
    return _in(r, _rows("reference", condition.param_ids, ctx, hashes))


def _uri(condition: UriMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T["uri"]
    clauses = []
    for index in range(len(condition.values)):
        value = ctx.binder.bind(condition, "values", index)
        if condition.mode == "below":
            clauses.append(func.substr(t.c.value, 1, func.length(value)) == value)
        elif condition.mode == "above":
            clauses.append(func.substr(value, 1, func.length(t.c.value)) == t.c.value)
        else:
            clauses.append(t.c.value == value)
    return _in(r, _rows("uri", condition.param_ids, ctx, or_(*clauses)))


def _blind(condition: BlindMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T["blind"]
    hashes = t.c.hash.in_(ctx.binder.bind(condition, "hashes"))
    return _in(r, _rows("blind", condition.param_ids, ctx, hashes))


def _second(table: Any, second: object, ctx: Context) -> Clause:
    if isinstance(second, HashedToken):
        return token_clause(table.c.code_hash, table.c.system_hash, second, ctx)
    if isinstance(second, UnitMatch):
        return and_(number_clause(table.c.value, second, ctx), unit_clause(table, second, ctx))
    if isinstance(second, DateValue):
        return date_clause(table.c.low, table.c.high, second, ctx)
    assert isinstance(second, TextValue)
    return prefix_clause(table.c.value, second, ctx)


def _composite(condition: CompositeMatch, r: FromClause, ctx: Context) -> Clause:
    t = _T[condition.table]
    pairs = or_(
        *(
            and_(
                token_clause(t.c.ctx_code, t.c.ctx_system, pair.first, ctx),
                _second(t, pair.second, ctx),
            )
            for pair in condition.pairs
        )
    )
    return _in(r, _rows(condition.table, condition.param_ids, ctx, pairs))


def _missing(condition: Missing, r: FromClause, ctx: Context) -> Clause:
    present = or_(*(_in(r, _rows(table, ids, ctx)) for table, ids in condition.sources if ids))
    return not_(present) if condition.missing else present


def _negated(condition: Negated, r: FromClause, ctx: Context) -> Clause:
    return not_(where(condition.inner, r, ctx))


def _id(condition: IdMatch, r: FromClause, ctx: Context) -> Clause:
    match = r.c.id.in_(ctx.binder.bind(condition, "ids"))
    return not_(match) if condition.negated else match


def _instant_clause(column: Any, value: InstantRange, ctx: Context) -> Clause:
    low, high = ctx.binder.bind(value, "low"), ctx.binder.bind(value, "high")
    prefix = value.prefix
    if prefix in ("eq", "ap"):  # ap: a range widened when parsed
        return and_(column >= low, column < high)
    if prefix == "ne":
        return or_(column < low, column >= high)
    if prefix in ("gt", "sa"):
        return column >= high  # type: ignore[no-any-return]
    if prefix == "ge":
        return column >= low  # type: ignore[no-any-return]
    if prefix in ("lt", "eb"):
        return column < low  # type: ignore[no-any-return]
    return column < high  # type: ignore[no-any-return]


def _last_updated(condition: LastUpdatedMatch, r: FromClause, ctx: Context) -> Clause:
    return or_(*(_instant_clause(r.c.last_updated, value, ctx) for value in condition.values))


def _resources(resource_type: str, ctx: Context, inner: object) -> tuple[FromClause, Clause]:
    """Resource rows of another type visible to the actor and matching ``inner``."""
    r2 = models.resource.alias()
    nested = replace(ctx, keys=ctx.keys_for(resource_type))
    clause = and_(
        r2.c.resource_type == resource_type,
        r2.c.deleted.is_(False),
        ctx.visible(resource_type, r2),
        where(inner, r2, nested),
    )
    return r2, clause


def _chain(condition: Chain, r: FromClause, ctx: Context) -> Clause:
    targets = []
    for resource_type, inner in condition.targets:
        r2, clause = _resources(resource_type, ctx, inner)
        targets.append(select(r2.c.ref_hash).where(clause))
    t = _T["reference"]
    union = targets[0] if len(targets) == 1 else targets[0].union_all(*targets[1:])
    return _in(r, _rows("reference", condition.param_ids, ctx, t.c.ref_hash.in_(union)))


def _has(condition: Has, r: FromClause, ctx: Context) -> Clause:
    r2, clause = _resources(condition.source_type, ctx, condition.inner)
    t = _T["reference"]
    sources = select(r2.c.key).where(clause)
    references = select(t.c.ref_hash).where(
        t.c.param_id.in_(condition.param_ids), t.c.resource_key.in_(sources)
    )
    return r.c.ref_hash.in_(references)


def _list(condition: InList, r: FromClause, ctx: Context) -> Clause:
    lists = models.resource.alias()
    t = _T["reference"]
    chosen = select(lists.c.key).where(
        lists.c.resource_type == "List",
        lists.c.id == ctx.binder.bind(condition, "list_id"),
        lists.c.deleted.is_(False),
        ctx.visible("List", lists),
    )
    items = select(t.c.ref_hash).where(
        t.c.param_id.in_(condition.item_param_ids), t.c.resource_key.in_(chosen)
    )
    return r.c.ref_hash.in_(items)


_HANDLERS: dict[type, Callable[[Any, FromClause, Context], Clause]] = {
    TokenMatch: _token,
    TextMatch: _text,
    DateMatch: _date,
    NumberMatch: _number,
    ReferenceMatch: _reference,
    UriMatch: _uri,
    BlindMatch: _blind,
    CompositeMatch: _composite,
    Missing: _missing,
    Negated: _negated,
    IdMatch: _id,
    LastUpdatedMatch: _last_updated,
    Chain: _chain,
    Has: _has,
    InList: _list,
}
