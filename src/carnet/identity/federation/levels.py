"""eIDAS assurance levels as OpenID Connect ``acr`` values, and their order.

FranceConnect (standard) signs in at ``eidas1`` (low); FranceConnect+ at ``eidas2``
(substantial) or ``eidas3`` (high); Pro Santé Connect returns ``eidas1``. The returned level
must reach the required one: a higher level satisfies a lower requirement, never the reverse.
The eIDAS URIs name the same levels.
"""

from __future__ import annotations

from typing import Final

LEVELS: Final[dict[str, int]] = {
    "eidas1": 1,
    "eidas2": 2,
    "eidas3": 3,
    "http://eidas.europa.eu/LoA/low": 1,
    "http://eidas.europa.eu/LoA/substantial": 2,
    "http://eidas.europa.eu/LoA/high": 3,
}


def level_of(acr: object) -> int | None:
    """The eIDAS level (1–3) an ``acr`` value names, or None (absent, unknown, not a string)."""
    return LEVELS.get(acr) if isinstance(acr, str) else None


def satisfies(returned: object, required: str) -> bool:
    """Whether the returned ``acr`` reaches the required level (unknown values never do)."""
    have, need = level_of(returned), level_of(required)
    if need is None:
        raise ValueError("the required acr is not an eIDAS level")
    return have is not None and have >= need
