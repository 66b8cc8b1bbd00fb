"""How many people each département has in each status, kept as statuses change: the operators'
dashboard reads a few hundred rows, not the whole registry (counting 65 million beneficiaries at
every page view would take tens of seconds).

- **Written by the database.** Triggers on ``enrollment_beneficiary`` (migration
  ``enrollment_status_tally``) append signed deltas to ``enrollment_status_tally`` on every
  insert, delete and change of status or département, whatever code made it, bulk statements
  included: on PostgreSQL one trigger per statement (its transition tables: one INSERT of the
  net change per département and status), on SQLite one per row. Append-only: two writers
  never wait for each other on a counter row, so the opening job's workers and the campaigns
  keep their pace.
- **Read by summing.** ``counts`` sums the deltas per (département, status).
- **Compacted.** ``compact`` (the hourly ``TALLY_COMPACT_JOB``) folds the rows into one per
  (département, status). It deletes with ``DELETE … RETURNING`` and inserts the sums of what it
  deleted: a delta committed meanwhile is either among those rows or left for the next time, so
  nothing is counted twice or lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection, delete, func, insert, select

from carnet.enrollment import models

TALLY_COMPACT_JOB: Final = "enrollment:tally-compact"
TALLY_COMPACT_EVERY: Final = timedelta(hours=1)
_tally = models.status_tally


def counts(db: Connection) -> dict[tuple[str, str], int]:
    """People per (département, status), from the tally (zeros left out)."""
    rows = db.execute(
        select(_tally.c.departement, _tally.c.status, func.sum(_tally.c.delta)).group_by(
            _tally.c.departement, _tally.c.status
        )
    )
    return {(row[0], row[1]): int(row[2]) for row in rows if int(row[2]) != 0}


def compact(db: Connection) -> int:
    """Fold the tally's rows into one per (département, status); how many rows it folded."""
    folded: dict[tuple[str, str], int] = defaultdict(int)
    taken = 0
    for row in db.execute(
        delete(_tally).returning(_tally.c.departement, _tally.c.status, _tally.c.delta)
    ):
        folded[(row.departement, row.status)] += int(row.delta)
        taken += 1
    rows = [
        {"departement": departement, "status": status, "delta": total}
        for (departement, status), total in sorted(folded.items())
        if total != 0
    ]
    if rows:
        db.execute(insert(_tally), rows)
    return taken


def compact_job(db: Connection, payload: Mapping[str, Any]) -> None:
    """The periodic job's handler."""
    del payload
    compact(db)
