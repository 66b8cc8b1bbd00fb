"""What search offers, per resource type: the source of the parser and of the
CapabilityStatement, so that the two never disagree.

Every official R4 parameter of a type is offered, except the ``special`` ones (``Location.near``:
geographic distance) and the composites ``composites.unsupported_reason`` refuses. Identifying
parameters (``blind``) are offered for exact matching only, and ``:of-type`` on identifiers
(the type and value are matched exactly, through keyed hashes too). Sorting is offered on the
parameters whose index keeps an order (dates, numbers, quantities, normalised strings, uris):
tokens and references are stored as hashes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from carnet.record.blind import is_blind
from carnet.record.composites import unsupported_reason
from carnet.record.definitions import PATIENT_IS_SELF, Definitions, SearchParam, get_definitions
from carnet.record.hashes import param_id

MODIFIERS: dict[str, tuple[str, ...]] = {
    "token": ("missing", "not", "text", "of-type"),
    "string": ("missing", "exact", "contains"),
    "date": ("missing",),
    "number": ("missing",),
    "quantity": ("missing",),
    "reference": ("missing", "identifier", "[type]"),
    "uri": ("missing", "below", "above"),
    "composite": ("missing",),
}
"""The modifiers offered on each parameter type (``[type]``: ``subject:Patient``), narrowed per
parameter (``_modifiers``): ``:of-type`` only on the token parameters whose values are
Identifiers, ``:text`` only on those whose values may carry a text (``_TEXT_TYPES``)."""
UNSUPPORTED_MODIFIERS = frozenset({"above", "below", "in", "not-in", "iterate"})
"""Modifiers of R4 this server does not offer on tokens and references (terminology and
hierarchy services)."""
SORTABLE = frozenset({"date", "string", "number", "quantity", "uri"})
CONTROLS = (
    "_count", "_sort", "_include", "_revinclude", "_summary", "_elements", "_total", "_list",
    "_has",
)  # fmt: skip
UNSUPPORTED_CONTROLS: dict[str, str] = {
    "_text": "narrative search is not offered",
    "_content": "full-text search is not offered",
    "_query": "named queries are not offered",
    "_filter": "the _filter syntax is not offered",
    "_contained": "contained resources are not searched",
    "_containedType": "contained resources are not searched",
    "_type": "searches are per resource type",
}
BLIND_NOTE = (
    "Identifying value: exact match only (case and accents ignored); no modifiers, "
    "no prefixes other than eq, no :missing, no sorting."
)
BLIND_OF_TYPE_NOTE = (
    "Identifying value: exact match only; no modifier but :of-type (type system|type code|"
    "value, matched exactly), no :missing, no sorting."
)


_COLUMN_MODIFIERS: dict[str, tuple[str, ...]] = {"_id": ("not",), "_lastUpdated": ()}
"""Parameters read from the resource table's columns, always present: no :missing."""
_TEXT_TYPES = frozenset({"CodeableConcept", "Coding", "Identifier"})
"""The token values that give ``:text`` rows (``index_values``): a text, a display, a type's
text. A ``code``, a boolean, a string or a ContactPoint gives none."""
_AS_TYPE = re.compile(r"^(.+?)\s+as\s+([A-Za-z]+)$")
_CAST_STEP = re.compile(r"^(?:ofType|as)\(([A-Za-z]+)\)$")
_STEP_DOT = re.compile(r"\.(?![^(]*\))")  # a dot between steps, not inside where(...)


@dataclass(frozen=True, slots=True)
class Offered:
    param: SearchParam
    blind: bool
    sortable: bool
    documentation: str
    modifiers: tuple[str, ...] = ()
    """The modifiers this parameter accepts (``MODIFIERS`` narrowed to it)."""


def offered(resource_type: str) -> dict[str, Offered]:
    """The parameters search offers on ``resource_type``, by code."""
    return _offered(get_definitions(), resource_type)


def refused(resource_type: str) -> dict[str, str]:
    """Official parameters of the type that search does not offer, with the reason."""
    return _refused(get_definitions(), resource_type)


@functools.cache
def _offered(definitions: Definitions, resource_type: str) -> dict[str, Offered]:
    found = {}
    reasons = _refused(definitions, resource_type)
    for param in definitions.search_params(resource_type):
        if param.code in reasons:
            continue
        blind = is_blind(resource_type, param.code)
        sortable = not blind and (param.type in SORTABLE or param.code in ("_id", "_lastUpdated"))
        modifiers = (
            _blind_modifiers(definitions, param) if blind else _modifiers(definitions, param)
        )
        documentation = _documentation(param, blind, modifiers)
        found[param.code] = Offered(param, blind, sortable, documentation, modifiers)
    return found


def _modifiers(definitions: Definitions, param: SearchParam) -> tuple[str, ...]:
    if param.code in _COLUMN_MODIFIERS:
        return _COLUMN_MODIFIERS[param.code]
    modifiers = MODIFIERS.get(param.type, ())
    if param.type != "token":
        return modifiers
    types = _branch_types(definitions, param)
    # A modifier that could only ever find nothing on this parameter (:of-type on a code or a
    # Coding, :text on a plain code) is refused rather than answered with an empty page. A
    # branch whose type is not known keeps :text.
    if "Identifier" not in types:
        modifiers = tuple(m for m in modifiers if m != "of-type")
    if None not in types and types.isdisjoint(_TEXT_TYPES):
        modifiers = tuple(m for m in modifiers if m != "text")
    return modifiers


def _blind_modifiers(definitions: Definitions, param: SearchParam) -> tuple[str, ...]:
    """Identifying parameters match exactly, with no modifier but ``:of-type`` on identifiers
    (its triple is a blind key too)."""
    if param.type == "token" and "Identifier" in _branch_types(definitions, param):
        return ("of-type",)
    return ()


def _branch_types(definitions: Definitions, param: SearchParam) -> frozenset[str | None]:
    """The R4 types a parameter's branches end on (None: not known)."""
    return frozenset(_branch_type(definitions, branch) for branch in param.branches)


def _branch_type(definitions: Definitions, branch: str) -> str | None:
    """The R4 type a plain path (``Specimen.container.identifier``, ``(X.target as
    Identifier)``, ``X.value.ofType(Identifier)``) ends on, read from the schema; None when
    the path leaves it."""
    text = branch.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    cast = _AS_TYPE.match(text)
    if cast is not None:
        return cast.group(2)
    steps = _STEP_DOT.split(text)
    current: str | None = steps[0]
    schema = definitions.schema["definitions"]
    for step in steps[1:]:
        typed = _CAST_STEP.match(step)
        if typed is not None:
            current = typed.group(1)
        elif "(" not in step:  # where(...), first()...: the type stays
            # A choice (``target``) is not a property of the schema: its cast, next, types it.
            prop = schema.get(current, {}).get("properties", {}).get(step, {})
            item = prop.get("items", {})
            ref = prop.get("$ref") or item.get("$ref")
            if "enum" in prop or "enum" in item:
                current = "code"  # a code bound to a required value set: an enum, no $ref
            else:
                current = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None
    return current


@functools.cache
def _refused(definitions: Definitions, resource_type: str) -> dict[str, str]:
    reasons = {}
    for param in definitions.search_params(resource_type):
        if param.type == "special":
            reasons[param.code] = "special parameters (geographic distance) are not offered"
        elif param.type == "composite":
            reason = unsupported_reason(definitions, resource_type, param)
            if reason:
                reasons[param.code] = reason
        elif not param.branches and param.code not in ("_id", "_lastUpdated"):
            reasons[param.code] = "the official definition has no expression"
    return reasons


def _documentation(param: SearchParam, blind: bool, modifiers: tuple[str, ...]) -> str:
    if blind:
        return BLIND_OF_TYPE_NOTE if modifiers else BLIND_NOTE
    allowed = ", ".join(f":{name}" for name in modifiers)
    return f"{param.type} parameter; modifiers {allowed}" if allowed else f"{param.type} parameter"


def includes(resource_type: str) -> tuple[list[str], list[str]]:
    """``_include`` and ``_revinclude`` values offered for a type: its reference parameters
    (``Type:param``, and ``Type:*``), and the reference parameters of every type that may
    point at it."""
    forward = [
        f"{resource_type}:{code}"
        for code, offer in sorted(offered(resource_type).items())
        if offer.param.type == "reference"
    ]
    reverse = [
        f"{source}:{code}"
        for source in sorted(get_definitions().resource_types)
        for code, offer in sorted(offered(source).items())
        if offer.param.type == "reference"
        and resource_type in (offer.param.resolve_types or offer.param.targets)
    ]
    return ([*forward, f"{resource_type}:*"] if forward else []), reverse


def stored_codes(definitions: Definitions, resource_type: str, code: str) -> tuple[str, ...]:
    """The codes whose index rows hold a parameter's values (``covered_by``, ``narrowed_by``)."""
    param = definitions.search_param(resource_type, code)
    if param is None:
        return ()
    if param.covered_by:
        return tuple(
            found
            for part in param.covered_by
            for found in stored_codes(definitions, resource_type, part)
        )
    return (param.code, *param.narrowed_by)


def stored_ids(
    definitions: Definitions, resource_type: str, code: str, suffix: str = ""
) -> tuple[int, ...]:
    """``param_id``s of the rows holding a parameter (or its ``suffix`` pseudo-parameter)."""
    codes = stored_codes(definitions, resource_type, code)
    return tuple(sorted({param_id(resource_type, found + suffix) for found in codes}))


@functools.cache
def owner_codes(definitions: Definitions, resource_type: str) -> frozenset[str]:
    """Reference parameters whose ``Patient/x`` value makes ``x`` the owner of every match.

    The owner of a resource is the first Patient its compartment parameters reference, in the
    official order. When the first of them reads a single-valued element (``Observation.subject``),
    a resource whose element is ``Patient/x`` is in x's compartment and owned by x: parameters
    reading the same element (``subject``, ``patient``) imply it.
    """
    if resource_type == PATIENT_IS_SELF:
        return frozenset()
    codes = definitions.patient_compartment_params(resource_type)
    first = definitions.search_param(resource_type, codes[0]) if codes else None
    if first is None or not all(_single(definitions, branch) for branch in first.branches):
        return frozenset()
    return frozenset(
        param.code
        for param in definitions.search_params(resource_type)
        if param.type == "reference" and set(param.branches) == set(first.branches)
    )


def _single(definitions: Definitions, branch: str) -> bool:
    resource_type, _, element = branch.partition(".")
    if not element.isidentifier():
        return False
    schema = definitions.schema["definitions"].get(resource_type, {})
    prop = schema.get("properties", {}).get(element)
    return isinstance(prop, dict) and prop.get("type") != "array"
