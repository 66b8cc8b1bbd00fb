"""External systems the enrollment area talks to, behind protocols (DESIGN.md §8.5).

``DmpMerge``: when a space opens, a shared medical record (DMP) the person had before is merged
into it, unless they opposed the merge. The interop area plugs the real adapter; until then
``NothingToMerge`` answers that there is nothing to merge.
"""

from __future__ import annotations

from typing import Literal, Protocol

from sqlalchemy import Connection

MergeResult = Literal["merged", "none"]


class DmpMerge(Protocol):
    """Merges a person's old DMP into their newly opened space, in the caller's transaction.

    Called once per space, after its Patient is written; ``"merged"`` when documents came over,
    ``"none"`` when the person had no old DMP. A failure raises (the opening rolls back and is
    tried again by the next run)."""

    def merge(self, db: Connection, *, patient_id: str) -> MergeResult: ...


class NothingToMerge:
    """The default adapter: no old DMP is known, so nothing is merged."""

    def merge(self, db: Connection, *, patient_id: str) -> MergeResult:
        del db, patient_id
        return "none"
