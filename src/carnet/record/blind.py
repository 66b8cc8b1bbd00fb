"""Identifying search values, reduced to the normalised keys of a blind index (DESIGN.md §4).

Names, birth dates, identifiers (the INS among them), phone numbers, e-mail and postal addresses
of the persons of a record are never indexed in clear. For the parameters of ``BLIND_PARAMS``
the indexer emits only ``BlindEntry(param, key)`` rows; the repository turns each key into a keyed
HMAC (domain ``f"{resource_type}.{param}"``). This module only normalises: ``blind_keys`` for
stored values and ``blind_query_keys`` for search values use the same functions, so an exact
search finds what was stored. Searches needing clear text (``:contains``, ranges) are not
possible on these parameters, by design.

Keys by kind of parameter:

- identifier: ``"<system>|<value>"`` (``"|<value>"`` without a system) and ``"*|<value>"`` (any
  system); the value is kept exact (identifiers are case-sensitive). For ``:of-type``, each
  coding of the identifier's type gives ``"<type system>|<type code>|<value>"`` (when the coding
  has a system) and ``"*|<type code>|<value>"`` (any type system), under the pseudo-parameter
  ``identifier:of-type`` (``of_type_keys``, ``of_type_query_key``);
- names and addresses: each normalised part (family, each given, text; each line, city,
  district, state, postal code, country, text), normalised like string search values;
- dates (birthdate, death-date): ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` as far as the value is
  precise (the local date as written, time and zone dropped);
- telecom: e-mail in lower case; phone numbers as digits with a leading ``+`` kept, ``00`` read
  as ``+``, and a French national number ``0X…`` also as ``+33X…``.

``phonetic`` is indexed like ``name``: a blind index cannot match sounds unless a phonetic code
is computed before hashing, which is left to the search work.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

_PERSON_PARAMS = (
    "identifier", "name", "family", "given", "phonetic", "birthdate", "telecom", "phone",
    "email", "address", "address-city", "address-postalcode", "address-state", "address-country",
)  # fmt: skip
_BLIND_BY_TYPE = {
    "Patient": (*_PERSON_PARAMS, "death-date"),
    "RelatedPerson": tuple(p for p in _PERSON_PARAMS if p not in ("family", "given")),
    "Person": tuple(p for p in _PERSON_PARAMS if p not in ("family", "given")),
    # Coverage.subscriberId has no R4 search parameter; beneficiary is a reference.
    "Coverage": ("identifier",),
}
BLIND_PARAMS: frozenset[tuple[str, str]] = frozenset(
    (resource_type, param) for resource_type, params in _BLIND_BY_TYPE.items() for param in params
)
"""(resource type, parameter) pairs indexed only as blind keys, never in clear."""

MAX_LENGTH = 255
ANY_SYSTEM = "*"
"""The system part of a key that stands for any system (a search value written without one)."""
_IDENTIFIER_PARAMS = frozenset({"identifier"})
_DATE_PARAMS = frozenset({"birthdate", "death-date"})
_TELECOM_PARAMS = frozenset({"telecom", "phone", "email"})
_NAME_PARAMS = frozenset({"name", "phonetic"})
_NAME_PARTS = ("family", "given", "text")
_ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")
_WHITESPACE = re.compile(r"\s+")
_PHONE = re.compile(r"\+?[0-9 .\-()/]{3,}")
_DATE_PREFIX = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def is_blind(resource_type: str, param: str) -> bool:
    """Whether the parameter of the type is indexed only as blind keys."""
    return (resource_type, param) in BLIND_PARAMS


def normalise_text(value: str) -> str:
    """Lower case, accents removed, whitespace collapsed, at most 255 characters."""
    if not value.isascii():
        decomposed = unicodedata.normalize("NFKD", value)
        value = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WHITESPACE.sub(" ", value).strip().lower()[:MAX_LENGTH]


def blind_keys(param: str, type_name: str | None, value: Any) -> Iterator[str]:
    """The keys of one stored value (a FHIR datatype instance) of a blind parameter."""
    if value is None:
        return
    if param in _IDENTIFIER_PARAMS:
        if isinstance(value, dict):
            yield from _identifier_keys(value.get("system"), value.get("value"))
    elif param in _DATE_PARAMS:
        if isinstance(value, str):
            yield from _date_keys(value)
    elif param in _TELECOM_PARAMS:
        text = value.get("value") if isinstance(value, dict) else value
        if isinstance(text, str):
            yield from _telecom_keys(text)
    elif isinstance(value, dict):
        is_name = type_name == "HumanName" or param in _NAME_PARAMS
        yield from _text_keys(_parts(value, _NAME_PARTS if is_name else _ADDRESS_PARTS))
    elif isinstance(value, str):
        yield from _text_keys((value,))


def blind_query_keys(resource_type: str, param: str, query_value: str) -> list[str]:
    """The keys a search value must match, normalised like stored values (empty if none).

    ``query_value`` is one value of the parameter, without modifier or prefix: ``system|value``,
    ``|value`` or ``value`` for identifiers; a date (``1980``, ``1980-05``, ``1980-05-12``);
    ``[system|]value`` for telecom; text otherwise.
    """
    if not is_blind(resource_type, param):
        return []
    if param in _IDENTIFIER_PARAMS:
        system, bar, value = query_value.partition("|")
        if not bar:
            return [f"{ANY_SYSTEM}|{query_value.strip()}"] if query_value.strip() else []
        return list(_identifier_keys(system or None, value))[:1]
    if param in _DATE_PARAMS:
        keys = list(_date_keys(query_value.strip()))
        return keys[-1:]  # the query's own precision
    if param in _TELECOM_PARAMS:
        system, bar, value = query_value.partition("|")
        return list(_telecom_keys(value if bar else system))
    return list(_text_keys((query_value,)))


def of_type_keys(param: str, value: Any) -> Iterator[str]:
    """The ``:of-type`` keys of one stored Identifier of a blind identifier parameter."""
    if param not in _IDENTIFIER_PARAMS or not isinstance(value, dict):
        return
    exact = value.get("value")
    kind = value.get("type")
    if not isinstance(exact, str) or not exact.strip() or not isinstance(kind, dict):
        return
    codings = kind.get("coding")
    for coding in codings if isinstance(codings, list) else ():
        code = coding.get("code") if isinstance(coding, dict) else None
        if not isinstance(code, str) or not code:
            continue
        system = coding.get("system")
        if isinstance(system, str) and system:
            yield f"{system}|{code}|{exact.strip()}"
        # As on the clear ``:of-type`` rows, a search without a type system matches any.
        yield f"{ANY_SYSTEM}|{code}|{exact.strip()}"


def of_type_query_key(system: str | None, code: str, value: str) -> str | None:
    """The key an ``identifier:of-type=system|code|value`` search must match (None: nothing
    can match, the value being blank)."""
    if not value.strip():
        return None
    return f"{system or ANY_SYSTEM}|{code}|{value.strip()}"


def _identifier_keys(system: Any, value: Any) -> Iterator[str]:
    if not isinstance(value, str) or not value.strip():
        return
    exact = value.strip()
    yield f"{system}|{exact}" if isinstance(system, str) and system else f"|{exact}"
    yield f"{ANY_SYSTEM}|{exact}"


def _date_keys(value: str) -> Iterator[str]:
    match = _DATE_PREFIX.match(value)
    if match is None:
        return
    year, month, day = match.groups()
    yield year
    if month:
        yield f"{year}-{month}"
        if day:
            yield f"{year}-{month}-{day}"


def _telecom_keys(value: str) -> Iterator[str]:
    """E-mail in lower case; phone numbers as digits (``+`` kept); anything else as text."""
    text = value.strip()
    if "@" in text:
        yield text.lower()[:MAX_LENGTH]
    elif _PHONE.fullmatch(text):
        yield from _phone_keys(text)
    elif text:
        yield normalise_text(text)


def _phone_keys(text: str) -> Iterator[str]:
    # "+33 (0)6 12…": the bracketed trunk prefix is not dialled from abroad.
    digits = "".join(char for char in text.replace("(0)", "") if char.isdigit())
    if text.startswith("+"):
        number = "+" + digits
    elif digits.startswith("00"):
        number = "+" + digits[2:]  # international call prefix
    else:
        number = digits
    yield number
    if len(number) == 10 and number[0] == "0" and number[1] != "0":
        yield "+33" + number[1:]  # a French national number, as dialled from abroad
    elif number.startswith("+33") and len(number) == 12:
        yield "0" + number[3:]


def _parts(value: Any, names: tuple[str, ...]) -> Iterator[str]:
    if not isinstance(value, dict):
        return
    for name in names:
        part = value.get(name)
        for item in part if isinstance(part, list) else (part,):
            if isinstance(item, str):
                yield item


def _text_keys(values: Iterable[str]) -> Iterator[str]:
    for value in values:
        key = normalise_text(value)
        if key:
            yield key
