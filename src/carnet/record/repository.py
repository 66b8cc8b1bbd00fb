"""The Repository: the one door to health data.

Every call follows the same steps (DESIGN.md §4): decide (access) → act → audit (success or
refusal) → return. A refusal is indistinguishable from absence to the caller and is still
audited. The parts live in ``reads`` (read, vread, a resource's history), ``writes``,
``everything`` (Patient/$everything), ``history_scans`` (history of a type or the system),
``exports`` (bulk export), ``patches`` (JSON Patch) and ``transactions`` (bundles: batch and
transaction), ``searches`` (search, match and count), on the shared base of ``door``.
"""

from __future__ import annotations

from carnet.record.everything import Everything
from carnet.record.exports import Exports
from carnet.record.fulltext import Fulltext
from carnet.record.history_scans import HistoryScans
from carnet.record.reads import Reads
from carnet.record.searches import Searches
from carnet.record.transactions import Transactions
from carnet.record.writes import Writes


class Repository(
    Fulltext, Transactions, Exports, Reads, Writes, Everything, HistoryScans, Searches
):
    """Health data as one actor may see and change it. Made per request by ``Record``."""
