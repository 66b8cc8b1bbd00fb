"""Search values as FHIR R4 writes them: escapes, prefixes, numbers, dates, tokens, references.

Pure parsing; every failure raises ``InvalidSearch`` naming the parameter, never the value.

- Escapes: ``\\,`` ``\\$`` ``\\|`` ``\\\\`` stand for the character itself; an unescaped ``,``
  separates values (OR), ``$`` the parts of a composite, ``|`` system and code.
- Prefixes (number, date, quantity): ``eq ne gt lt ge le sa eb ap``; none means ``eq``.
- Numbers carry the precision they are written with: ``100`` stands for [99.5, 100.5),
  ``100.00`` for [99.995, 100.005), ``1e2`` for [50, 150) (one significant figure); ``ap``
  (approximately) is within 10 % of the value. A number (or bound) past a double's range is
  refused.
- Dates are the UTC range their precision covers (``2019`` is the whole year; a value without a
  zone is read as UTC, the server's zone), in microseconds since the epoch; ``ap`` widens the
  range by 10 % of the distance between now and the value, on each side.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from carnet.record.dates import date_range
from carnet.record.errors import InvalidSearch
from carnet.record.index_rows import micros
from carnet.record.search.binding import VALUE

_UNENCODED_ZONE = re.compile(r"^(\d{4}-\d{2}-\d{2}T[\d:.]+) (\d{2}:\d{2})$")

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_ESCAPABLE = frozenset(",$|\\")


def split_escaped(text: str, separator: str) -> list[str]:
    """Split on unescaped ``separator``; escapes are kept for the next level."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    """The value with its search escapes resolved (an unknown escape is kept as written)."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in _ESCAPABLE:
            out.append(text[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def split_prefix(parameter: str, text: str) -> tuple[str, str]:
    """``("ge", "2019")`` from ``ge2019``; a value without prefix is ``eq``."""
    head = text[:2]
    if len(head) == 2 and head.isascii() and head.isalpha():
        if head not in PREFIXES:
            raise InvalidSearch(
                parameter, "unknown prefix (use eq, ne, gt, lt, ge, le, sa, eb or ap)"
            )
        return head, text[2:]
    return "eq", text


@dataclass(frozen=True, slots=True)
class NumberValue:
    prefix: str
    value: float = field(metadata=VALUE)
    low: float = field(metadata=VALUE)
    """The bounds of the value's precision (``100`` is [99.5, 100.5)); for ``ap``, the value
    ± 10 %."""
    high: float = field(metadata=VALUE)


def parse_number(parameter: str, prefix: str, text: str) -> NumberValue:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidSearch(parameter, "not a number") from None
    if not number.is_finite() or not text.strip() or text.strip() != text:
        raise InvalidSearch(parameter, "not a number")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal(5) * Decimal(10) ** (exponent - 1)
    if prefix == "ap":
        half = abs(number) / 10
    bounds = (float(number), float(number - half), float(number + half))
    if not all(map(math.isfinite, bounds)):
        # Past a double's range (1e400, or the margin of ap1.7e308) a number becomes infinity:
        # stored values are doubles, so the search could not mean what was written.
        raise InvalidSearch(parameter, "the number is out of range")
    return NumberValue(prefix, *bounds)


@dataclass(frozen=True, slots=True)
class DateValue:
    prefix: str
    low: int = field(metadata=VALUE)
    """``[low, high)`` in microseconds since 1970-01-01T00:00:00Z; for ``ap``, widened on both
    sides by 10 % of the distance from now to the value."""
    high: int = field(metadata=VALUE)


def parse_date(parameter: str, prefix: str, text: str, now: int) -> DateValue:
    # A time zone's "+" sent unencoded in a query string arrives as a space: put it back
    # (2025-01-31T08:00:00 01:00), as ``_since`` does, rather than refuse a well-meant date.
    text = _UNENCODED_ZONE.sub(r"\1+\2", text)
    span = date_range(text) if text and text == text.strip() else None
    if span is None:
        raise InvalidSearch(
            parameter, "not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with a zone)"
        )
    low, high = micros(span[0]), micros(span[1])
    if prefix == "ap":
        delta = abs(now - low) // 10
        low, high = low - delta, high + delta
    return DateValue(prefix, low, high)


ANY = "*"
"""A token's system that matches any system (the value was written without ``|``)."""


@dataclass(frozen=True, slots=True)
class TokenValue:
    system: str | None
    """``ANY`` (no ``|`` written), None (``|code``: no system), or a system."""
    code: str | None
    """None for ``system|`` (any code of the system)."""


def parse_token(parameter: str, text: str) -> TokenValue:
    parts = split_escaped(text, "|")
    if len(parts) == 1:
        code = unescape(parts[0])
        if not code:
            raise InvalidSearch(parameter, "an empty token")
        return TokenValue(ANY, code)
    if len(parts) != 2:
        raise InvalidSearch(parameter, "a token is [system|]code")
    system, code = unescape(parts[0]), unescape(parts[1])
    if not system and not code:
        raise InvalidSearch(parameter, "an empty token")
    return TokenValue(system or None, code or None)


@dataclass(frozen=True, slots=True)
class OfTypeValue:
    """``system|code|value`` of ``identifier:of-type``: the Identifier's type coding and value."""

    system: str | None
    """None when left empty: any type system."""
    code: str
    value: str


def parse_of_type(parameter: str, text: str) -> OfTypeValue:
    parts = [unescape(part) for part in split_escaped(text, "|")]
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise InvalidSearch(parameter, ":of-type takes system|code|value")
    return OfTypeValue(parts[0] or None, parts[1], parts[2])


@dataclass(frozen=True, slots=True)
class QuantityValue:
    number: NumberValue
    system: str | None
    code: str | None
    """The unit: with a system, a code of it; without, a code or a unit as written."""


def parse_quantity(parameter: str, prefix: str, text: str) -> QuantityValue:
    parts = [unescape(part) for part in split_escaped(text, "|")]
    if len(parts) not in (1, 3):
        raise InvalidSearch(parameter, "a quantity is [prefix]number[|system|code]")
    number = parse_number(parameter, prefix, parts[0])
    if len(parts) == 1:
        return QuantityValue(number, None, None)
    return QuantityValue(number, parts[1] or None, parts[2] or None)
