"""Why a measure or a target is refused.

Each error carries a ``reason`` (a stable key the portal turns into a French sentence), the
``field`` it concerns, and the bounds when a value is out of range. Nothing is stored when one
is raised.
"""

from __future__ import annotations

from typing import Literal

from carnet.core.errors import InvalidInput, NotFound

Reason = Literal[
    "unknown-measure",
    "computed",
    "missing",
    "not-a-number",
    "out-of-range",
    "bad-date",
    "future",
    "systolic-not-above",
    "moment-required",
    "days-required",
    "bad-unit",
    "comment-too-long",
    "target-order",
]


class InvalidMeasure(InvalidInput):
    """A value, date, unit or context that cannot be recorded."""

    def __init__(
        self,
        reason: Reason,
        *,
        field: str = "value",
        low: float | None = None,
        high: float | None = None,
        unit: str = "",
    ) -> None:
        super().__init__(f"measure refused: {reason} ({field})")
        self.reason: Reason = reason
        self.field = field
        self.low = low
        self.high = high
        self.unit = unit


class MeasureNotFound(NotFound):
    """No such measure in this space (or not one the person may delete)."""

    def __init__(self) -> None:
        super().__init__("measure not found")
