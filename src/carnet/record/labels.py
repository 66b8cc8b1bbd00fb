"""Visibility labels kept beside each current row, so that access is decided before decrypting.

A document's visibility lives in its ``meta.security`` codes (``INVISIBLE_PATIENT``,
``INVISIBLE_REPRESENTANTS_LEGAUX``, ``MASQUE_PS``: JDV_J08 / TRE_A07). Deciding on them from the
encrypted body would mean opening every candidate row, and a search could no longer count what
the actor may see in SQL. So each current row carries them as a small bit set
(``record_resource.held``), written with the version that sets them. The current labels govern
every version of the resource: lifting ``INVISIBLE_PATIENT`` makes the earlier versions readable
too, and masking a document masks its history.

The codes are matched whatever their system: the decision rules look at codes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

HELD_CODES = ("INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX", "MASQUE_PS")
"""The codes kept as bits, in bit order (append only: the bits are stored)."""
_BITS = {code: 1 << position for position, code in enumerate(HELD_CODES)}
INVISIBLE_TO_PATIENT = _BITS["INVISIBLE_PATIENT"]


def held_bits(resource: dict[str, Any]) -> int:
    """The bit set of the visibility codes in a resource's ``meta.security``."""
    meta = resource.get("meta")
    security = meta.get("security") if isinstance(meta, dict) else None
    if not isinstance(security, list):
        return 0
    bits = 0
    for coding in security:
        if isinstance(coding, dict):
            bits |= _BITS.get(coding.get("code"), 0)  # type: ignore[arg-type]
    return bits


def bits_of(codes: Iterable[str]) -> int:
    """The bit set of some codes (those that are not held codes are ignored)."""
    bits = 0
    for code in codes:
        bits |= _BITS.get(code, 0)
    return bits


@cache
def labels_of(bits: int | None) -> frozenset[str]:
    """The codes a stored bit set stands for (a handful of combinations: cached)."""
    if not bits:
        return frozenset()
    return frozenset(code for code, bit in _BITS.items() if bits & bit)
