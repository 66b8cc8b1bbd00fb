"""How many people each département has in each status, and how many notices in each state,
kept as they change: the operators' dashboard reads a few hundred rows, not the whole registry
(counting 65 million beneficiaries at every page view would take tens of seconds).

- **Written by the database.** Triggers on ``enrollment_beneficiary`` append signed deltas to
  ``enrollment_status_tally`` on every insert, delete and change of status or département,
  whatever code made it, bulk statements included; triggers on ``enrollment_notice`` do the
  same per (département of the person, channel, status) in ``enrollment_notice_tally``
  (letters printed, bounces). On PostgreSQL one trigger per statement (its transition tables:
  one INSERT of the net change per key), on SQLite one per row. Append-only: two writers never
  wait for each other on a counter row, so the opening job's workers and the campaigns keep
  their pace.
- **Read by summing.** ``counts`` sums the deltas per (département, status), ``notice_counts``
  per (département, channel, status).
- **Compacted.** ``compact`` (the hourly ``TALLY_COMPACT_JOB``) folds each table's rows into one
  per key. It deletes with ``DELETE … RETURNING`` and inserts the sums of what it deleted: a
  delta committed meanwhile is either among those rows or left for the next time, so nothing is
  counted twice or lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection, Table, delete, func, insert, select

from carnet.enrollment import models

TALLY_COMPACT_JOB: Final = "enrollment:tally-compact"
TALLY_COMPACT_EVERY: Final = timedelta(hours=1)
_TABLES: Final = (models.status_tally, models.notice_tally)


def counts(db: Connection) -> dict[tuple[str, str], int]:
    """People per (département, status), from the tally (zeros left out)."""
    return {(key[0], key[1]): number for key, number in _sums(db, models.status_tally).items()}


def notice_counts(db: Connection) -> dict[tuple[str, str, str], int]:
    """Notices per (département of their person, channel, status), from the tally (zeros left
    out)."""
    return {
        (key[0], key[1], key[2]): number for key, number in _sums(db, models.notice_tally).items()
    }


def _keys(table: Table) -> list[Any]:
    return [column for column in table.c if column.name not in {"id", "delta"}]


def _sums(db: Connection, table: Table) -> dict[tuple[str, ...], int]:
    keys = _keys(table)
    rows = db.execute(select(*keys, func.sum(table.c.delta)).group_by(*keys))
    return {tuple(row[:-1]): int(row[-1]) for row in rows if int(row[-1]) != 0}


def compact(db: Connection) -> int:
    """Fold each tally's rows into one per key; how many rows it folded."""
    taken = 0
    for table in _TABLES:
        keys = _keys(table)
        folded: dict[tuple[str, ...], int] = defaultdict(int)
        for row in db.execute(delete(table).returning(*keys, table.c.delta)):
            folded[tuple(row[:-1])] += int(row[-1])
            taken += 1
        rows = [
            {
                **{column.name: value for column, value in zip(keys, key, strict=True)},
                "delta": total,
            }
            for key, total in sorted(folded.items())
            if total != 0
        ]
        if rows:
            db.execute(insert(table), rows)
    return taken


def compact_job(db: Connection, payload: Mapping[str, Any]) -> None:
    """The periodic job's handler."""
    del payload
    compact(db)
