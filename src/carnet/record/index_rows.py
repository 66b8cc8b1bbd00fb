"""From a resource's index entries to the compact rows of the index tables (pure).

Each row names its parameter by ``hashes.param_id`` and its compartment owner by a patient key;
values that search compares only for equality are 64-bit hashes (``hashes.value_hash``):
token codes and systems, reference targets, quantity units, exact strings. Dates become
microseconds since the epoch. Identifying values arrive as normalised keys and leave as the
storage's 128-bit keyed hash, as bytes. Composite pairs go to the table of their second
component, with the first in the ``ctx_*`` columns. Rows are deduplicated per table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from carnet.record.hashes import param_id, value_hash
from carnet.record.index_values import (
    DateEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
)

if TYPE_CHECKING:
    from carnet.record.store import IndexWrite

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TEXT_SUFFIX = ":text"
SECOND_TABLES: dict[type, str] = {
    TokenEntry: "token",
    QuantityEntry: "quantity",
    DateEntry: "date",
    StringEntry: "string",
}
"""The table a composite row goes to, by the type of its second component's entry."""
_NO_CONTEXT = {"ctx_code": None, "ctx_system": None}


def micros(instant: datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z (negative before)."""
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def optional_hash(text: str | None) -> int | None:
    return None if text is None else value_hash(text)


def token_values(entry: TokenEntry) -> dict[str, Any]:
    return {"code_hash": value_hash(entry.code), "system_hash": optional_hash(entry.system)}


def string_values(entry: StringEntry) -> dict[str, Any]:
    # ``:text`` rows are only searched by their normalised value: no exact hash.
    exact = None if entry.param.endswith(TEXT_SUFFIX) else value_hash(entry.exact)
    return {"value": entry.value, "exact_hash": exact}


def date_values(entry: DateEntry) -> dict[str, Any]:
    return {"low": micros(entry.low), "high": micros(entry.high)}


def quantity_values(entry: QuantityEntry) -> dict[str, Any]:
    unit = entry.unit if entry.unit and entry.unit != entry.code else None
    return {
        "value": entry.value,
        "code_hash": optional_hash(entry.code),
        "system_hash": optional_hash(entry.system),
        "unit_hash": optional_hash(unit),
    }


def reference_target(entry: ReferenceEntry) -> str:
    """What a reference row's hash is taken over: the absolute URL, or ``Type/id``."""
    return entry.url or f"{entry.target_type}/{entry.target_id}"


_SECOND_VALUES: dict[type, Callable[[Any], dict[str, Any]]] = {
    TokenEntry: token_values,
    QuantityEntry: quantity_values,
    DateEntry: date_values,
    StringEntry: string_values,
}


def index_rows(
    item: IndexWrite, patient_key: int | None, blind_hash: Callable[[str, str], str]
) -> dict[str, list[dict[str, Any]]]:
    """The rows of one resource, by index table name."""
    entries = item.entries
    assert entries is not None
    resource_type = item.resource_type
    base = {"resource_key": item.key, "patient_key": patient_key}

    def rows(values: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        unique = dict.fromkeys(
            (param_id(resource_type, param), tuple(sorted(extra.items())))
            for param, extra in values
        )
        return [{**base, "param_id": pid, **dict(extra)} for pid, extra in unique]

    found = {
        "token": rows((e.param, {**token_values(e), **_NO_CONTEXT}) for e in entries.token),
        "string": rows((e.param, {**string_values(e), **_NO_CONTEXT}) for e in entries.string),
        "date": rows((e.param, {**date_values(e), **_NO_CONTEXT}) for e in entries.date),
        "reference": rows(
            (e.param, {"ref_hash": value_hash(reference_target(e))}) for e in entries.reference
        ),
        "quantity": rows(
            (e.param, {**quantity_values(e), **_NO_CONTEXT}) for e in entries.quantity
        ),
        "number": rows((e.param, {"value": e.value}) for e in entries.number),
        "uri": rows((e.param, {"value": e.value}) for e in entries.uri),
        "blind": rows(
            # Identifying values arrive normalised and leave as keyed hashes, never in clear.
            (e.param, {"hash": bytes.fromhex(blind_hash(f"{resource_type}.{e.param}", e.key))})
            for e in entries.blind
        ),
    }
    for entry in entries.composite:
        second = entry.second
        context = {
            "ctx_code": value_hash(entry.ctx_code),
            "ctx_system": optional_hash(entry.ctx_system),
        }
        values = {**_SECOND_VALUES[type(second)](second), **context}
        found[SECOND_TABLES[type(second)]].extend(rows([(entry.param, values)]))
    return found
