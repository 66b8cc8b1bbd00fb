"""Rows of composite search parameters (pure): pairs of values taken from one element.

A composite parameter (``Observation.code-value-quantity``) is an expression giving elements
(the Observation itself, each ``component``...) and components evaluated on each element
(``code``, ``value.ofType(Quantity)``), each typed by a parameter of the resource. A row pairs
the values found in the same element, so that ``code-value-quantity=loinc|8480-6$gt100`` never
matches a systolic code with a diastolic value. The row is stored in the table of the second
component (its quantity, token, date or string), with the first component as context: a token's
code and system, or a reference's target.

Supported: two components whose first is a token or a reference, evaluated relative to the
element. Not supported (``unsupported_reason``): three-component composites and components that
reach outside the element with ``%resource`` (MolecularSequence coordinates).

Two repairs of the official R4 definitions, both as R5 later wrote them: ``ofType(DateTime)``
(the FHIRPath system type, which no FHIR value is) is read as ``ofType(dateTime)``; and the
components of ``DocumentReference.relationship`` have their expressions swapped (the reference
``relatesto`` is ``target``, the token ``relation`` is ``code``), so a search reads
``relationship=DocumentReference/123$replaces``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import fhirpathpy
from fhirpathpy.engine.nodes import FP_Type, ResourceNode
from fhirpathpy.models import models

from carnet.record.definitions import Definitions, SearchParam, split_union
from carnet.record.index_values import (
    DateEntry,
    QuantityEntry,
    Sink,
    StringEntry,
    TokenEntry,
    add_date,
    add_quantity,
    add_reference,
    add_string,
    add_token,
)

_R4 = models["r4"]
_OPTIONS = {"returnRawData": True}
_PATH_TYPES: dict[str, str] = _R4["path2Type"]
_CHOICES: dict[str, list[str]] = _R4["choiceTypePaths"]
_MEMBER = re.compile(r"(\w+)(?:\.ofType\((\w+)\))?")
_PRIMITIVE_SUFFIXES = frozenset(
    {
        "Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id",
        "Instant", "Integer", "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt",
        "Uri", "Url", "Uuid",
    }
)  # fmt: skip
_SWAPPED = frozenset({("DocumentReference", "relationship")})
_FIRST_TYPES = frozenset({"token", "reference"})
_SECOND_ADDERS: dict[str, Callable[[Sink, SearchParam, str | None, Any], None]] = {
    "token": add_token,
    "quantity": add_quantity,
    "date": add_date,
    "string": add_string,
}

Second = TokenEntry | QuantityEntry | DateEntry | StringEntry


class CompositeEntry(NamedTuple):
    """One pair: the first component as context (hashed when stored), the second as a row."""

    param: str
    ctx_code: str
    """A token's code, or a reference target (``Type/id``, or an absolute URL)."""
    ctx_system: str | None
    second: Second
    """The second component's row, named after the composite parameter."""


@dataclass(frozen=True, slots=True)
class _Part:
    param: SearchParam
    evaluate: Callable[..., list[Any]]
    direct: tuple[tuple[str, str | None], ...] | None
    """For the plain forms (``code``, ``value.ofType(Quantity)``, ``value``): the JSON keys to
    read and the FHIR type of each, so that no FHIRPath evaluation is needed; None otherwise."""


@dataclass(frozen=True, slots=True)
class CompiledComposite:
    """A composite parameter ready to evaluate: its element branches and its two parts."""

    param: SearchParam
    elements: tuple[tuple[Callable[..., list[Any]], str], ...]
    """Each branch's evaluator and the type path its elements are read with."""
    first: _Part
    second: _Part


def unsupported_reason(definitions: Definitions, resource_type: str, param: SearchParam) -> str:
    """Why a composite parameter cannot be searched here ("" when it can)."""
    parts = [definitions.search_param(resource_type, part.param) for part in param.components]
    if len(parts) != 2 or any(part is None for part in parts):
        return "composites of more than two components are not supported"
    if any("%" in part.expression for part in param.components):
        return "components reaching outside their element (%resource) are not supported"
    first, second = parts
    assert first is not None
    assert second is not None
    if first.type not in _FIRST_TYPES or second.type not in _SECOND_ADDERS:
        return f"a composite of {first.type} and {second.type} is not supported"
    return ""


def compile_composite(
    definitions: Definitions, resource_type: str, param: SearchParam
) -> CompiledComposite | None:
    """The evaluators of a supported composite parameter; None for an unsupported one."""
    if unsupported_reason(definitions, resource_type, param):
        return None
    expressions = [
        part.expression.replace("ofType(DateTime)", "ofType(dateTime)") for part in param.components
    ]
    if (resource_type, param.code) in _SWAPPED:
        expressions.reverse()
    parts = []
    for part, expression in zip(param.components, expressions, strict=True):
        typed = definitions.search_param(resource_type, part.param)
        assert typed is not None
        parts.append(_Part(typed, fhirpathpy.compile(expression, _R4, _OPTIONS), None))
    elements = tuple((_element_reader(branch), _element_type(branch)) for branch in param.branches)
    first, second = (
        replace(part, direct=_direct_keys(expression, elements[0][1]))
        if len({element_type for _, element_type in elements}) == 1
        else part
        for part, expression in zip(parts, expressions, strict=True)
    )
    return CompiledComposite(param, elements, first, second)


def _element_reader(branch: str) -> Callable[..., list[Any]]:
    """Elements of a plain path (``Observation``, ``Observation.component``) read from the
    JSON directly; anything else through FHIRPath."""
    steps = branch.split(".")
    if not all(step.isidentifier() for step in steps):
        return fhirpathpy.compile(branch, _R4, _OPTIONS)

    def read(resource: dict[str, Any]) -> list[Any]:
        if resource.get("resourceType") != steps[0]:
            return []
        found: list[Any] = [resource]
        for step in steps[1:]:
            found = [item for node in found for item in _as_list(node.get(step))]
            found = [item for item in found if isinstance(item, dict)]
        return found

    return read


def _direct_keys(expression: str, element_type: str) -> tuple[tuple[str, str | None], ...] | None:
    keys: list[tuple[str, str | None]] = []
    for branch in split_union(expression):
        match = _MEMBER.fullmatch(branch)
        if match is None:
            return None
        name, cast = match.groups()
        path = f"{element_type}.{name}"
        choices = _CHOICES.get(path)
        if choices:
            typed = [(name + suffix, _suffix_type(suffix)) for suffix in choices]
            keys.extend((key, kind) for key, kind in typed if cast in (None, kind))
        elif cast is None:
            keys.append((name, _PATH_TYPES.get(path)))
        else:
            return None
    return tuple(keys)


def _suffix_type(suffix: str) -> str:
    """``DateTime`` → ``dateTime`` (a primitive), ``Quantity`` stays."""
    return suffix[0].lower() + suffix[1:] if suffix in _PRIMITIVE_SUFFIXES else suffix


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _element_type(branch: str) -> str:
    """The type path an element found by ``branch`` is read with (``UsageContext`` for
    ``Questionnaire.useContext``, the backbone path itself for ``Observation.component``)."""
    declared = _PATH_TYPES.get(branch)
    if declared is None or declared in ("BackboneElement", "Element"):
        return branch
    return declared


def composite_entries(
    compiled: CompiledComposite, resource: dict[str, Any], resource_types: frozenset[str]
) -> list[CompositeEntry]:
    """The pairs of one resource for one composite parameter."""
    found: list[CompositeEntry] = []
    code = compiled.param.code
    for read, element_type in compiled.elements:
        for node in read(resource):
            data = getattr(node, "data", node)
            if not isinstance(data, dict):
                continue
            element = ResourceNode.create_node(data, element_type)  # type: ignore[no-untyped-call]
            firsts = _first_values(compiled.first, element, resource_types)
            seconds = _second_values(compiled.second, element, resource_types, code)
            found.extend(
                CompositeEntry(code, ctx_code, ctx_system, second)
                for (ctx_code, ctx_system), second in itertools.product(firsts, seconds)
            )
    return found


def _first_values(
    part: _Part, element: Any, resource_types: frozenset[str]
) -> list[tuple[str, str | None]]:
    sink = Sink(resource_types)
    for type_name, data in _typed(part, element):
        if part.param.type == "token":
            add_token(sink, part.param, type_name, data)
        else:
            add_reference(sink, part.param, type_name, data)
    if part.param.type == "token":
        return [(row.code, row.system) for row in sink.token if row.param == part.param.code]
    return [
        (row.url or f"{row.target_type}/{row.target_id}", None)
        for row in sink.reference
        if row.url or row.target_id
    ]


def _second_values(
    part: _Part, element: Any, resource_types: frozenset[str], code: str
) -> list[Second]:
    sink = Sink(resource_types)
    add = _SECOND_ADDERS[part.param.type]
    for type_name, data in _typed(part, element):
        add(sink, part.param, type_name, data)
    rows: list[Second] = [
        *sink.token,
        *sink.quantity,
        *sink.date,
        *sink.string,
    ]
    return [row._replace(param=code) for row in rows if row.param == part.param.code]


def _typed(part: _Part, element: Any) -> list[tuple[str | None, Any]]:
    """(type name, value) of what a component finds; an untyped value is left to its adder,
    which reads it by the shape its parameter type expects."""
    typed: list[tuple[str | None, Any]] = []
    if part.direct is not None:
        data = element.data
        for key, type_name in part.direct:
            typed.extend((type_name, item) for item in _as_list(data.get(key)))
        return typed
    for node in part.evaluate(element):
        data = getattr(node, "data", node)
        if data is None:
            continue
        if isinstance(data, FP_Type):
            data = str(data)
        path = getattr(node, "path", None)
        type_name = path if isinstance(path, str) and "." not in path else None
        typed.append((type_name, data))
    return typed
