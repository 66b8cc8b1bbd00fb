"""Writing an extract in the PS_LibreAcces ``Personne_activite`` format (for synthetic files:
the test samples, the demo directory, the benchmark's million lines).

Values are given by column key (see ``columns.COLUMNS``); missing keys are written empty. The
header and every line end with ``|``, as in the files the ANS publishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TextIO

from carnet.interop.directory.columns import CURRENT_KEYS, LEGACY_KEYS, header_names


def write_extract(
    out: TextIO, activities: Iterable[Mapping[str, str]], *, current: bool = True
) -> int:
    """Write the header then one line per activity to ``out``; return the number of lines.

    ``current`` picks the 56-column layout (else the legacy 52-column one). A value holding
    ``|`` or a line break cannot be written in this unquoted format and raises ValueError.
    """
    keys = CURRENT_KEYS if current else LEGACY_KEYS
    out.write("|".join(header_names(keys, current=current)) + "|\n")
    count = 0
    for activity in activities:
        values = [activity.get(key, "") for key in keys]
        if any("|" in value or "\n" in value or "\r" in value for value in values):
            raise ValueError("a value contains the separator or a line break")
        out.write("|".join(values) + "|\n")
        count += 1
    return count
