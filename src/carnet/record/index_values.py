"""From FHIR values to index rows, one function per search parameter type (pure).

Each ``add_*`` function receives one value found by a parameter's expression, with its FHIR type
name (``CodeableConcept``, ``dateTime``...; None when the evaluator could not tell, and the shape
decides), and appends rows to a ``Sink``. Values that cannot be indexed (an invalid date, a
quantity without a number) are skipped, never raised: indexing must not fail on a resource the
validator accepted.

What each type gives:

- token: Coding, CodeableConcept (every coding), Identifier (system, value), ContactPoint
  (system, value), code/boolean/string/id/uri primitives (no system). ``<code>:text`` string
  rows carry CodeableConcept.text, Coding.display and Identifier.type.text (the ``:text``
  modifier); ``<code>:of-type`` token rows carry Identifier.type codings as
  ``(type system, "<type code>|<value>")``.
- string: normalised (``blind.normalise_text``) and exact, both cut at 255 characters; HumanName
  gives family, given, prefix, suffix, text; Address its lines, city, district, state, postal
  code, country, text.
- date: the half-open UTC range ``[low, high)`` the value covers (see ``carnet.record.dates``):
  date, dateTime, instant, Period, Timing.
- reference: relative ``Type/id`` (a ``/_history/n`` suffix dropped), absolute URLs (kept whole,
  with type and id when the path ends in ``Type/id``), canonicals (``|version`` dropped);
  contained ``#id`` references are skipped; Reference.identifier gives ``<code>:identifier``
  token rows. A ``resolve()`` filter keeps only references known to be of its types.
- quantity: Quantity and its profiles (Age, Duration, Distance, Count...), Money (currency as
  an ISO 4217 code), Range as two rows (low and high), plain numbers; SampledData is skipped.
- number: decimal and integer values; Range as its low and high values.
- uri: uri, url, canonical, oid, uuid values, as given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from carnet.record.blind import MAX_LENGTH, normalise_text
from carnet.record.dates import date_range, period_range, timing_range
from carnet.record.definitions import SearchParam

ISO_4217 = "urn:iso:std:iso:4217"
_REFERENCE = re.compile(
    r"(?:(?P<base>.*)/)?(?P<type>[A-Z][A-Za-z]{1,63})/(?P<id>[A-Za-z0-9\-.]{1,64})"
    r"(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
_QUANTITY_TYPES = frozenset(
    {"Quantity", "Age", "Duration", "Distance", "Count", "SimpleQuantity", "MoneyQuantity"}
)
_NUMBER_TYPES = (int, float, Decimal)


class TokenEntry(NamedTuple):
    param: str
    system: str | None
    code: str


class StringEntry(NamedTuple):
    param: str
    value: str
    exact: str


class DateEntry(NamedTuple):
    param: str
    low: datetime
    high: datetime


class ReferenceEntry(NamedTuple):
    param: str
    target_type: str | None
    target_id: str | None
    url: str | None


class QuantityEntry(NamedTuple):
    param: str
    value: float
    system: str | None
    code: str | None
    unit: str | None


class NumberEntry(NamedTuple):
    param: str
    value: float


class UriEntry(NamedTuple):
    param: str
    value: str


class BlindEntry(NamedTuple):
    param: str
    key: str


class Sink:
    """The rows found so far for one resource, by index table."""

    __slots__ = (
        "blind", "composite", "date", "number", "quantity", "reference", "resource_types",
        "string", "token", "uri",
    )  # fmt: skip

    def __init__(self, resource_types: frozenset[str]) -> None:
        self.resource_types = resource_types
        """The known resource types, to recognise ``Type/id`` in references."""
        self.token: list[TokenEntry] = []
        self.string: list[StringEntry] = []
        self.date: list[DateEntry] = []
        self.reference: list[ReferenceEntry] = []
        self.quantity: list[QuantityEntry] = []
        self.number: list[NumberEntry] = []
        self.uri: list[UriEntry] = []
        self.blind: list[BlindEntry] = []
        self.composite: list[Any] = []
        """``composites.CompositeEntry`` rows (typed there: that module builds on this one)."""


def guess_type(data: Any) -> str | None:
    """The FHIR type of a value the evaluator left untyped, from its shape."""
    if isinstance(data, bool):
        return "boolean"
    if isinstance(data, str):
        return "string"
    if isinstance(data, _NUMBER_TYPES):
        return "decimal"
    if not isinstance(data, dict):
        return None
    for keys, name in _SHAPES:
        if not keys.isdisjoint(data):
            return name
    return None


_SHAPES = (
    (frozenset({"coding"}), "CodeableConcept"),
    (frozenset({"reference", "identifier", "display"}), "Reference"),
    (frozenset({"start", "end"}), "Period"),
    (frozenset({"event", "repeat"}), "Timing"),
    (frozenset({"family", "given", "prefix", "suffix"}), "HumanName"),
    (frozenset({"line", "city", "postalCode", "country", "district"}), "Address"),
    (frozenset({"currency"}), "Money"),
    (frozenset({"low", "high"}), "Range"),
    (frozenset({"unit", "comparator"}), "Quantity"),
    (frozenset({"code"}), "Coding"),
    (frozenset({"value"}), "Identifier"),
    (frozenset({"text"}), "CodeableConcept"),
)


# --- token ----------------------------------------------------------------------------------------
def add_token(sink: Sink, param: SearchParam, type_name: str | None, data: Any) -> None:
    """Token rows (and ``:text`` / ``:of-type`` rows) of one value."""
    code = param.code
    if isinstance(data, dict):
        if type_name == "CodeableConcept":
            for coding in _list(data.get("coding")):
                _add_coding(sink, code, coding)
            _add_text(sink, f"{code}:text", data.get("text"))
        elif type_name == "Coding":
            _add_coding(sink, code, data)
        elif type_name == "Identifier":
            _add_identifier(sink, code, data)
        elif type_name == "ContactPoint" and isinstance(data.get("value"), str):
            sink.token.append(TokenEntry(code, _str(data.get("system")), data["value"]))
    elif isinstance(data, bool):
        sink.token.append(TokenEntry(code, None, "true" if data else "false"))
    elif isinstance(data, str):
        sink.token.append(TokenEntry(code, None, data))


def _add_coding(sink: Sink, param: str, coding: Any) -> None:
    if not isinstance(coding, dict):
        return
    value = coding.get("code")
    if isinstance(value, str):
        sink.token.append(TokenEntry(param, _str(coding.get("system")), value))
    _add_text(sink, f"{param}:text", coding.get("display"))


def _add_identifier(sink: Sink, param: str, identifier: dict[str, Any]) -> None:
    value = identifier.get("value")
    if not isinstance(value, str):
        return
    sink.token.append(TokenEntry(param, _str(identifier.get("system")), value))
    kind = identifier.get("type")
    if isinstance(kind, dict):
        for coding in _list(kind.get("coding")):
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                typed = f"{coding['code']}|{value}"
                sink.token.append(TokenEntry(f"{param}:of-type", _str(coding.get("system")), typed))
        _add_text(sink, f"{param}:text", kind.get("text"))


def _add_text(sink: Sink, param: str, text: Any) -> None:
    if isinstance(text, str) and text.strip():
        sink.string.append(StringEntry(param, normalise_text(text), text[:MAX_LENGTH]))


# --- string ---------------------------------------------------------------------------------------
_STRING_PARTS = {
    "HumanName": ("family", "given", "prefix", "suffix", "text"),
    "Address": ("line", "city", "district", "state", "postalCode", "country", "text"),
}


def add_string(sink: Sink, param: SearchParam, type_name: str | None, data: Any) -> None:
    """String rows of one value (each part of a name or an address)."""
    if isinstance(data, str):
        _add_text(sink, param.code, data)
        return
    parts = _STRING_PARTS.get(type_name or "")
    if parts is None or not isinstance(data, dict):
        return
    for name in parts:
        for text in _list(data.get(name)):
            _add_text(sink, param.code, text)


# --- date -----------------------------------------------------------------------------------------
def add_date(sink: Sink, param: SearchParam, type_name: str | None, data: Any) -> None:
    """The date range row of one value."""
    span: tuple[datetime, datetime] | None = None
    if isinstance(data, str):
        span = date_range(data)
    elif isinstance(data, dict) and type_name == "Period":
        span = period_range(data)
    elif isinstance(data, dict) and type_name == "Timing":
        span = timing_range(data)
    if span is not None:
        sink.date.append(DateEntry(param.code, span[0], span[1]))


# --- reference ------------------------------------------------------------------------------------
def add_reference(sink: Sink, param: SearchParam, type_name: str | None, data: Any) -> None:
    """Reference rows (and ``:identifier`` token rows) of one Reference or canonical."""
    if isinstance(data, str):
        if type_name in ("canonical", "uri", "url") or "://" in data or data.startswith("urn:"):
            _add_canonical(sink, param, data)
        return
    if not isinstance(data, dict) or "resourceType" in data:
        return  # Bundle.entry[0].resource: a resource, not a reference to one
    declared = _declared_type(data.get("type"))
    reference = data.get("reference")
    if isinstance(reference, str) and not reference.startswith("#"):
        target_type, target_id, url = parse_reference(reference, sink.resource_types)
        if (target_id or url) and _kept(param, target_type or declared):
            sink.reference.append(ReferenceEntry(param.code, target_type, target_id, url))
    identifier = data.get("identifier")
    if isinstance(identifier, dict) and _kept(param, declared):
        value = identifier.get("value")
        if isinstance(value, str) and value:
            system = _str(identifier.get("system"))
            sink.token.append(TokenEntry(f"{param.code}:identifier", system, value))


def parse_reference(
    reference: str, resource_types: frozenset[str]
) -> tuple[str | None, str | None, str | None]:
    """``(type, id, url)`` of a literal reference; ``url`` only for absolute ones.

    ``Type/id`` is recognised only when ``Type`` is one of ``resource_types``.
    """
    text = reference.strip()
    absolute = "://" in text or text.startswith("urn:")
    match = _REFERENCE.fullmatch(text)
    if match is None or match.group("type") not in resource_types:
        return None, None, text if absolute else None
    if match.group("base") is not None and not absolute:
        return None, None, None  # a relative path that is not Type/id
    return match.group("type"), match.group("id"), text if absolute else None


def _add_canonical(sink: Sink, param: SearchParam, value: str) -> None:
    url = value.split("|", 1)[0].strip()
    if url and not param.resolve_types:
        sink.reference.append(ReferenceEntry(param.code, None, None, url))


def _declared_type(value: Any) -> str | None:
    """Reference.type, as a type name (``Patient`` or its StructureDefinition URL)."""
    if not isinstance(value, str):
        return None
    return value.rsplit("/", 1)[-1] or None


def _kept(param: SearchParam, target_type: str | None) -> bool:
    return not param.resolve_types or target_type in param.resolve_types


# --- quantity, number, uri ------------------------------------------------------------------------
def add_quantity(sink: Sink, param: SearchParam, type_name: str | None, data: Any) -> None:
    """Quantity rows of one value (a Range gives its low and its high)."""
    for value, system, code, unit in _quantities(type_name, data):
        sink.quantity.append(QuantityEntry(param.code, value, system, code, unit))


def _quantities(
    type_name: str | None, data: Any
) -> Iterator[tuple[float, str | None, str | None, str | None]]:
    if isinstance(data, _NUMBER_TYPES) and not isinstance(data, bool):
        yield float(data), None, None, None
    elif not isinstance(data, dict):
        return
    elif type_name == "Range" or (type_name is None and ("low" in data or "high" in data)):
        for bound in (data.get("low"), data.get("high")):
            yield from _quantities("Quantity", bound)
    elif type_name == "Money" or (type_name is None and "currency" in data):
        value = _number(data.get("value"))
        if value is not None:
            currency = _str(data.get("currency"))
            yield value, ISO_4217 if currency else None, currency, None
    elif type_name in _QUANTITY_TYPES or type_name is None:
        value = _number(data.get("value"))
        if value is not None:
            system, code, unit = data.get("system"), data.get("code"), data.get("unit")
            yield value, _str(system), _str(code), _str(unit)


def add_number(sink: Sink, param: SearchParam, type_name: str | None, data: Any) -> None:
    """Number rows of one value (a Range gives its low and its high values)."""
    if isinstance(data, dict) and (type_name == "Range" or "low" in data or "high" in data):
        values = [_number(_dict(data.get(bound)).get("value")) for bound in ("low", "high")]
    elif isinstance(data, dict):
        values = [_number(data.get("value"))]
    else:
        values = [_number(data)]
    for value in values:
        if value is not None:
            sink.number.append(NumberEntry(param.code, value))


def add_uri(sink: Sink, param: SearchParam, _type_name: str | None, data: Any) -> None:
    """The uri row of one value."""
    if isinstance(data, str) and data.strip():
        sink.uri.append(UriEntry(param.code, data.strip()))


# --- small readers --------------------------------------------------------------------------------
def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
        return None
    return float(value)
