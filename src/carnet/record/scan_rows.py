"""Row queries of the scans ($everything, type and system history, export), for the repository.

Like ``store``, nothing here decides or audits. Statements are built once per shape (the flags
of each builder) and cached, so SQLAlchemy reuses their compiled form. They are portable SQL
(row-value comparisons work on SQLite 3.15+ and PostgreSQL) and page by keyset, never by offset:
a page starts strictly after the last row of the previous one, so rows written meanwhile are
neither skipped nor repeated. Queries of one patient's data are filtered by ``patient_id``
(DESIGN.md §9).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    false,
    func,
    select,
    tuple_,
)

from carnet.core.db import UTCDateTime
from carnet.record import models
from carnet.record.store import AnyRow
from carnet.storage import service as storage_service

PatientFilter = Literal["all", "any", "one"]
"""Which compartments an export segment reads: every row, rows of any patient, one patient's."""

_R = models.resource
_V = models.resource_version
_STREAM_BATCH = 1_000
_IN_CHUNK = 500

_CURRENT_WITH_KEY, _CURRENT_KEY_COLUMNS = storage_service.join_data_key(
    _R, func.coalesce(_R.c.patient_id, storage_service.SYSTEM_OWNER)
)
_VERSION_WITH_KEY, _VERSION_KEY_COLUMNS = storage_service.join_data_key(
    _V.join(_R, _R.c.key == _V.c.resource_key),
    func.coalesce(_V.c.patient_id, storage_service.SYSTEM_OWNER),
)
_ROW_COLUMNS = (
    _R.c.key,
    _R.c.resource_type,
    _R.c.id,
    _R.c.patient_id,
    _R.c.version,
    _R.c.last_updated,
    _R.c.deleted,
    _R.c.body,
    _R.c.blob_id,
    _R.c.held,
)


def _since() -> Any:
    return bindparam("since", type_=UTCDateTime())


# --- a patient's compartment ($everything) -----------------------------------------------------


@cache
def _compartment_page(*, typed: bool, since: bool) -> Select[Any]:
    stmt = (
        select(*_ROW_COLUMNS)
        .where(_R.c.patient_id == bindparam("patient_id"))
        .where(_R.c.deleted == false())
        .where(
            tuple_(_R.c.resource_type, _R.c.key)
            > tuple_(
                bindparam("after_type", type_=String()), bindparam("after_key", type_=BigInteger())
            )
        )
        .order_by(_R.c.resource_type, _R.c.key)
        .limit(bindparam("limit", type_=Integer()))
    )
    if typed:
        stmt = stmt.where(_R.c.resource_type.in_(bindparam("types", expanding=True)))
    if since:
        stmt = stmt.where(_R.c.last_updated > _since())
    return stmt


def compartment_page(
    db: Connection,
    patient_id: str,
    *,
    after: tuple[str, int],
    limit: int,
    types: Sequence[str] | None,
    since: datetime | None,
) -> Sequence[AnyRow]:
    """Current, undeleted rows of one compartment after ``after`` in (type, key) order."""
    params: dict[str, Any] = {
        "patient_id": patient_id,
        "after_type": after[0],
        "after_key": after[1],
        "limit": limit,
    }
    if types is not None:
        params["types"] = list(types)
    if since is not None:
        params["since"] = since
    stmt = _compartment_page(typed=types is not None, since=since is not None)
    return db.execute(stmt, params).all()


_COMPARTMENT_BODIES = (
    select(_R.c.resource_type, _R.c.id, _R.c.version, _R.c.body, _R.c.blob_id, _R.c.held)
    .where(_R.c.patient_id == bindparam("patient_id"))
    .where(_R.c.deleted == false())
    .where(_R.c.resource_type.in_(bindparam("types", expanding=True)))
)


def compartment_bodies(db: Connection, patient_id: str, types: Sequence[str]) -> Iterator[AnyRow]:
    """Every current body of one compartment (of ``types``), streamed."""
    result = db.execute(
        _COMPARTMENT_BODIES.execution_options(yield_per=_STREAM_BATCH),
        {"patient_id": patient_id, "types": list(types)},
    )
    with result:
        yield from result


_SHARED = (
    select(*_ROW_COLUMNS)
    .where(_R.c.patient_id.is_(None))
    .where(_R.c.resource_type == bindparam("resource_type"))
    .where(_R.c.id.in_(bindparam("ids", expanding=True)))
)


def shared_rows(db: Connection, resource_type: str, ids: Sequence[str]) -> list[AnyRow]:
    """Rows outside every compartment among ``ids`` of one type (deleted ones included)."""
    rows: list[AnyRow] = []
    for start in range(0, len(ids), _IN_CHUNK):  # bounded lists: SQLite caps bound values
        chunk = list(ids[start : start + _IN_CHUNK])
        rows += db.execute(_SHARED, {"resource_type": resource_type, "ids": chunk}).all()
    return rows


# --- history of a type or of the system --------------------------------------------------------


@cache
def _history_page(
    *, archived: bool, typed: bool, one_type: bool, compartment: bool, since: bool, after: bool
) -> Select[Any]:
    """Versions newest first, from the current table or the archive (``archived``)."""
    if archived:
        stmt = select(
            _V.c.resource_key.label("key"),
            _R.c.resource_type,
            _R.c.id,
            _V.c.patient_id,
            _V.c.version,
            _V.c.last_updated,
            _V.c.deleted,
            _V.c.body,
            _V.c.blob_id,
            _R.c.held,
            *_VERSION_KEY_COLUMNS,
        ).select_from(_VERSION_WITH_KEY)
        table = _V
        order = (_V.c.last_updated, _V.c.resource_key, _V.c.version)
    else:
        stmt = select(*_ROW_COLUMNS, *_CURRENT_KEY_COLUMNS).select_from(_CURRENT_WITH_KEY)
        table = _R
        order = (_R.c.last_updated, _R.c.key, _R.c.version)
    if one_type:
        stmt = stmt.where(_R.c.resource_type == bindparam("resource_type"))
    if typed:
        stmt = stmt.where(_R.c.resource_type.in_(bindparam("types", expanding=True)))
    if compartment:
        stmt = stmt.where(table.c.patient_id == bindparam("patient_id"))
    if since:
        stmt = stmt.where(table.c.last_updated >= _since())
    if after:
        stmt = stmt.where(
            tuple_(*order)
            < tuple_(
                bindparam("after_updated", type_=UTCDateTime()),
                bindparam("after_key", type_=BigInteger()),
                bindparam("after_version", type_=Integer()),
            )
        )
    return stmt.order_by(*(column.desc() for column in order)).limit(
        bindparam("limit", type_=Integer())
    )


def history_page(
    db: Connection,
    *,
    archived: bool,
    limit: int,
    resource_type: str | None,
    types: Sequence[str] | None,
    patient_id: str | None,
    since: datetime | None,
    after: tuple[datetime, int, int] | None,
) -> Sequence[AnyRow]:
    """Up to ``limit`` versions (with their owners' keys) before ``after``, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if resource_type is not None:
        params["resource_type"] = resource_type
    if types is not None:
        params["types"] = list(types)
    if patient_id is not None:
        params["patient_id"] = patient_id
    if since is not None:
        params["since"] = since
    if after is not None:
        params.update(after_updated=after[0], after_key=after[1], after_version=after[2])
    stmt = _history_page(
        archived=archived,
        typed=types is not None,
        one_type=resource_type is not None,
        compartment=patient_id is not None,
        since=since is not None,
        after=after is not None,
    )
    return db.execute(stmt, params).all()


# --- export segments ---------------------------------------------------------------------------


@cache
def _segment(patients: PatientFilter, *, since: bool) -> Select[Any]:
    stmt = (
        select(*_ROW_COLUMNS, *_CURRENT_KEY_COLUMNS)
        .select_from(_CURRENT_WITH_KEY)
        .where(_R.c.resource_type == bindparam("resource_type"))
        .where(_R.c.id > bindparam("after_id", type_=String()))
        .order_by(_R.c.id)
        .limit(bindparam("limit", type_=Integer()))
    )
    if patients == "any":
        stmt = stmt.where(_R.c.patient_id.is_not(None))
    elif patients == "one":
        stmt = stmt.where(_R.c.patient_id == bindparam("patient_id"))
    if since:
        # A version as of the export's time is older than the current one: if the current one
        # is not after _since, neither is it.
        stmt = stmt.where(_R.c.last_updated > _since())
    return stmt


def segment_rows(
    db: Connection,
    resource_type: str,
    *,
    patients: PatientFilter,
    patient_id: str | None,
    after_id: str,
    limit: int,
    since: datetime | None,
) -> Iterator[AnyRow]:
    """Rows of one type (deleted and newer-than-the-export ones included) in id order, after
    ``after_id``, with their owners' keys; streamed (a server-side cursor on PostgreSQL) when
    they span compartments. One patient's rows of one type come in a single round trip: a
    cursor would cost three more, for each of the many small segments of a group export."""
    params: dict[str, Any] = {"resource_type": resource_type, "after_id": after_id, "limit": limit}
    if patients == "one":
        params["patient_id"] = patient_id
    if since is not None:
        params["since"] = since
    stmt = _segment(patients, since=since is not None)
    if patients == "one":
        yield from db.execute(stmt, params)
        return
    result = db.execute(stmt.execution_options(yield_per=_STREAM_BATCH), params)
    with result:
        yield from result


def present_types(
    db: Connection, candidates: Sequence[str], *, members: Sequence[str] | None, any_patient: bool
) -> set[str]:
    """Which of ``candidates`` have rows at all (in ``members``' compartments when given), so
    that an export does not visit a hundred empty types."""
    table = _R
    stmt = select(table.c.resource_type).distinct()
    stmt = stmt.where(table.c.resource_type.in_(bindparam("types", expanding=True)))
    if any_patient and members is None:
        stmt = stmt.where(table.c.patient_id.is_not(None))
    if members is None:
        return set(db.execute(stmt, {"types": list(candidates)}).scalars())
    stmt = stmt.where(table.c.patient_id.in_(bindparam("members", expanding=True)))
    found: set[str] = set()
    for start in range(0, len(members), _IN_CHUNK):
        chunk = list(members[start : start + _IN_CHUNK])
        found |= set(db.execute(stmt, {"types": list(candidates), "members": chunk}).scalars())
    return found


_AS_OF = (
    select(_V.c.version, _V.c.last_updated, _V.c.deleted, _V.c.body, _V.c.blob_id, _V.c.patient_id)
    .where(_V.c.resource_key == bindparam("key"))
    .where(_V.c.last_updated <= bindparam("at", type_=UTCDateTime()))
    .order_by(_V.c.version.desc())
    .limit(1)
)


def version_as_of(db: Connection, key: int, at: datetime) -> AnyRow | None:
    """The version that was current at ``at`` (None: the resource did not exist yet)."""
    return db.execute(_AS_OF, {"key": key, "at": at}).first()
