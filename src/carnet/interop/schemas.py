"""Values crossing the interop area's boundary: what a directory import reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ImportMode = Literal["full", "partial"]
RunStatus = Literal["running", "interrupted", "finished", "removals-held", "abandoned"]
DIRECTORY_TYPES = ("Organization", "Practitioner", "PractitionerRole")


@dataclass(frozen=True, slots=True)
class LineError:
    """Why one line of an extract was rejected: its number, the column (as the file names it)
    and the rule it broke. Never the value: it may identify a person."""

    line: int
    field: str
    reason: str


@dataclass
class TypeCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0


@dataclass
class ImportReport:
    """The outcome of ``import_directory`` (a resumed run reports its whole work)."""

    run: int
    mode: ImportMode
    status: RunStatus = "running"
    lines_read: int = 0
    lines_rejected: int = 0
    legacy_encoded_lines: int = 0
    repeated: int = 0
    """Resources met again later in the file than their first group (an unsorted extract):
    their first occurrence in the run was kept."""
    held_deactivations: int = 0
    """Resources a full import would have made inactive, held back because they were too many
    (see ``max_deactivation_share``)."""
    resumed: bool = False
    counts: dict[str, TypeCounts] = field(
        default_factory=lambda: {name: TypeCounts() for name in DIRECTORY_TYPES}
    )
    report_path: Path | None = None
    unknown_columns: tuple[str, ...] = ()

    def total(self, what: str) -> int:
        return sum(getattr(counts, what) for counts in self.counts.values())
