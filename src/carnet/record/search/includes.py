"""``_include`` and ``_revinclude`` (with ``:iterate``): the row keys of resources to add.

Forward: the resources the page's references point at (reference rows of the page's
resources, joined to resources by ``ref_hash``). Reverse: the resources whose references point
at the page's resources (reference rows by the hashes of the page's ``Type/id``). ``:iterate``
applies a spec again to what the previous round added, for at most ``MAX_ROUNDS`` rounds, and
at most ``MAX_INCLUDED`` resources are added to a page. Access is decided by the caller, one
resource at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, bindparam, select

from carnet.record import models
from carnet.record.hashes import reference_hash
from carnet.record.search.binding import StatementCache
from carnet.record.search.model import Include

MAX_ROUNDS = 4
MAX_INCLUDED = 1000
_REF = models.INDEX_TABLES["reference"]
_R = models.resource

_STATEMENTS = StatementCache(1024)
Source = tuple[int, str, str]
"""A resource the includes start from: (row key, type, id)."""


def included_keys(db: Connection, specs: Sequence[Include], matches: Sequence[Source]) -> list[int]:
    """Row keys to include for ``matches``, in a stable order, without the matches."""
    seen = {key for key, _, _ in matches}
    found: list[int] = []
    sources = list(matches)
    for round_number in range(MAX_ROUNDS):
        active = [spec for spec in specs if round_number == 0 or spec.iterate]
        if not active or not sources:
            break
        added: list[int] = []
        for spec in active:
            for key in _one(db, spec, sources, MAX_INCLUDED - len(found) - len(added)):
                if key not in seen:
                    seen.add(key)
                    added.append(key)
        found.extend(added)
        if len(found) >= MAX_INCLUDED or not added or not any(s.iterate for s in specs):
            break
        sources = _sources(db, added)
    return found[:MAX_INCLUDED]


def _one(db: Connection, spec: Include, sources: Sequence[Source], limit: int) -> list[int]:
    if limit <= 0:
        return []
    if spec.reverse:
        values: list[Any] = [reference_hash(kind, resource_id) for _, kind, resource_id in sources]
    else:
        values = [key for key, kind, _ in sources if kind == spec.source_type]
        if not values:
            return []
    statement = _STATEMENTS.get((spec.reverse, spec.source_type, spec.param_ids, spec.target_types),
                                lambda: _statement(spec))  # fmt: skip
    params = {"sources": values, "limit": limit}
    return [int(key) for key in db.execute(statement, params).scalars()]


def _statement(spec: Include) -> Select[Any]:
    """The keys an include spec adds (``sources``: the hashes or keys it starts from)."""
    sources: BindParameter[Any] = bindparam("sources", expanding=True)
    if spec.reverse:
        referencing = select(_REF.c.resource_key).where(
            _REF.c.param_id.in_(spec.param_ids), _REF.c.ref_hash.in_(sources)
        )
        stmt = select(_R.c.key).where(
            _R.c.key.in_(referencing), _R.c.resource_type == spec.source_type
        )
    else:
        targets = select(_REF.c.ref_hash).where(
            _REF.c.resource_key.in_(sources), _REF.c.param_id.in_(spec.param_ids)
        )
        stmt = select(_R.c.key).where(
            _R.c.ref_hash.in_(targets), _R.c.resource_type.in_(spec.target_types)
        )
    return stmt.where(_R.c.deleted.is_(False)).order_by(_R.c.key).limit(bindparam("limit"))


def _sources(db: Connection, keys: Sequence[int]) -> list[Source]:
    rows = db.execute(select(_R.c.key, _R.c.resource_type, _R.c.id).where(_R.c.key.in_(keys))).all()
    return [(int(row.key), row.resource_type, row.id) for row in rows]
