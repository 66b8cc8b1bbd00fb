"""Public face of the interop area.

``import_directory`` loads an Annuaire Santé extract into the record (see
``interop.directory_import`` for its guarantees); ``write_extract`` writes synthetic extracts in
the same format; ``SAMPLE_EXTRACT`` is the small synthetic extract shipped for tests and demos.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from carnet.interop.directory.columns import COLUMNS, CURRENT_KEYS, LEGACY_KEYS
from carnet.interop.directory.writer import write_extract
from carnet.interop.directory_import import STALE_AFTER, content_hash, import_directory
from carnet.interop.schemas import (
    DIRECTORY_TYPES,
    ImportMode,
    ImportReport,
    LineError,
    RunStatus,
    TypeCounts,
)

SAMPLE_EXTRACT: Final = (
    Path(__file__).parent / "data" / "PS_LibreAcces_Personne_activite_sample.txt"
)
"""A synthetic extract (current 56-column layout, 503 lines): the demo directory of seed 1, then
350 lines of synthetic professionals. No real person: RPPS numbers are in the 999 range.
Regenerate it with ``carnet directory sample <this file> --demo-directory --lines 350`` (a test
checks that it is exactly that output)."""

__all__ = [
    "COLUMNS",
    "CURRENT_KEYS",
    "DIRECTORY_TYPES",
    "LEGACY_KEYS",
    "SAMPLE_EXTRACT",
    "STALE_AFTER",
    "ImportMode",
    "ImportReport",
    "LineError",
    "RunStatus",
    "TypeCounts",
    "content_hash",
    "import_directory",
    "write_extract",
]
