"""``_summary`` and ``_elements``: the subset of a resource a search returns (pure).

- ``_summary=true``: the top-level elements the base definition flags ``isSummary``, with the
  mandatory ones; ``text``: ``text``, ``id``, ``meta`` and the mandatory elements; ``data``:
  everything but ``text``.
- ``_elements=a,b``: those top-level elements, with the mandatory ones.

``resourceType``, ``id`` and ``meta`` always stay; a subset is marked with the ``SUBSETTED`` tag
in ``meta.tag``. A primitive's extension sibling (``_birthDate``) follows its element, and a
choice (``value[x]``) covers every ``valueQuantity``, ``valueString``...

The same parsing and reduction serve search (``controls``) and a read or vread
(``read_subset``), where ``count`` has no meaning and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from carnet.record.definitions import Definitions
from carnet.record.errors import InvalidSearch

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "Resource encoded in summary mode",
}
_ALWAYS = frozenset({"resourceType", "id", "meta"})
_ELEMENT = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_SUMMARIES = {"true": "true", "text": "text", "data": "data", "count": "count", "false": None}


@dataclass(frozen=True, slots=True)
class Subset:
    """What a read asks to keep of the resource (nothing asked: the whole of it)."""

    summary: str | None = None
    """``true``, ``text``, ``data`` or None."""
    elements: tuple[str, ...] = ()


def parse_summary(name: str, value: str) -> str | None:
    """``_summary``: true, text, data, count, or false (None)."""
    if value not in _SUMMARIES:
        raise InvalidSearch(name, f"{name} takes true, text, data, count or false")
    return _SUMMARIES[value]


def parse_elements(value: str) -> tuple[str, ...]:
    """``_elements``: comma-separated top-level element names."""
    names = tuple(part.strip() for part in value.split(","))
    if not all(_ELEMENT.fullmatch(part) for part in names):
        raise InvalidSearch("_elements", "_elements lists top-level element names")
    return names


def read_subset(params: Iterable[tuple[str, str]]) -> Subset:
    """The ``_summary`` and ``_elements`` of a read (other parameters are not its concern);
    each at most once, and ``_summary=count`` refused: a read has no total."""
    summary: str | None = None
    elements: tuple[str, ...] = ()
    seen: set[str] = set()
    for name, value in params:
        if name not in ("_summary", "_elements"):
            continue
        if name in seen:
            raise InvalidSearch(name, "given more than once")
        seen.add(name)
        if name == "_elements":
            elements = parse_elements(value)
            continue
        summary = parse_summary(name, value)
        if summary == "count":
            raise InvalidSearch(
                name, "a read takes true, text, data or false (count is a search's)"
            )
    return Subset(summary, elements)


def subset(
    definitions: Definitions,
    resource_type: str,
    body: bytes,
    *,
    summary: str | None,
    elements: tuple[str, ...],
) -> bytes:
    """The body reduced as ``summary``/``elements`` ask; unchanged when they ask nothing."""
    keep = _wanted(definitions, resource_type, summary, elements)
    if keep is None:
        return body
    resource = orjson.loads(body)
    if summary == "data":
        resource.pop("text", None)
        resource.pop("_text", None)
    else:
        keep = _with_choices(definitions, resource_type, keep)
        resource = {key: value for key, value in resource.items() if key.lstrip("_") in keep}
    meta = dict(resource.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    resource["meta"] = meta
    return orjson.dumps(resource)


def _wanted(
    definitions: Definitions, resource_type: str, summary: str | None, elements: tuple[str, ...]
) -> frozenset[str] | None:
    mandatory = definitions.mandatory_elements(resource_type)
    if summary == "true":
        return definitions.summary_elements(resource_type) | mandatory | _ALWAYS
    if summary == "text":
        return mandatory | _ALWAYS | {"text"}
    if summary == "data":
        return frozenset()
    if elements:
        return frozenset(elements) | mandatory | _ALWAYS
    return None


def _with_choices(
    definitions: Definitions, resource_type: str, keep: frozenset[str]
) -> frozenset[str]:
    """``value[x]`` (or ``value``) kept as every JSON name of the choice."""
    rules = definitions.structure.get(resource_type)
    choices = rules.choices if rules is not None else {}
    names = {name.removesuffix("[x]") for name in keep}
    for group, suffixes in choices.items():
        if group in names:
            names.update(group + suffix for suffix in suffixes)
    return frozenset(names)
