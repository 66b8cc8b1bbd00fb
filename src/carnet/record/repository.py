"""The Repository: the one door to health data.

Every call follows the same steps (DESIGN.md §4): decide (access) → act → audit (success or
refusal) → return. A refusal is indistinguishable from absence to the caller and is still
audited. The parts live in ``reads`` and ``writes``, on the shared base of ``door``.
"""

from __future__ import annotations

from carnet.record.reads import Reads
from carnet.record.writes import Writes


class Repository(Reads, Writes):
    """Health data as one actor may see and change it. Made per request by ``Record``."""
