"""The official FHIR R4 definitions the record works from, as compact tables.

The tables under ``data/`` are generated from HL7's packages by ``scripts/fhir_definitions.py``
(never edited by hand; ``--check`` verifies them): the R4 JSON schema without descriptions, the
SearchParameters reduced to one expression per resource type, the patient CompartmentDefinition
and the structural rules the schema cannot express. ``get_definitions()`` loads them once per
process; everything here is immutable, so it is shared freely between threads.

Expressions are stored ready for fhirpathpy: ``X as T`` became ``X.ofType(T)`` and
``.where(resolve() is T)`` became a ``resolve_types`` filter on the parameter (fhirpathpy has no
``resolve()``), and Resource-level expressions are rooted at the concrete type here, because
fhirpathpy does not match ``Resource.meta.tag`` against an Observation.

Parameters that are the union of others (``covered_by``, see ``_cover``) are not indexed
twice. Every (type, parameter) and modifier pseudo-parameter has a 31-bit id (``hashes.param_id``)
checked here for collisions, so that an index row names its parameter in 4 bytes.

The patient compartment: a resource type is in it when ``patient_compartment_params`` is not
empty, and the resource belongs to the patients those parameters reference. ``Patient`` is the
exception (see ``PATIENT_IS_SELF``): a Patient resource's compartment is its own id. Group is
listed by the official definition but kept shared (``SHARED_DESPITE_COMPARTMENT`` says why).
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, cast

import orjson

from carnet.record.blind import is_blind
from carnet.record.hashes import param_id

SearchParamType = Literal[
    "number", "date", "string", "token", "reference", "composite", "quantity", "uri", "special"
]
SEARCH_PARAMETER_URL = "http://hl7.org/fhir/SearchParameter/"
PATIENT_IS_SELF = "Patient"
"""The one type whose patient compartment is the resource itself (its own id), whatever its
``link`` parameter (listed by the CompartmentDefinition) says."""
SHARED_DESPITE_COMPARTMENT = frozenset({"Group"})
"""Types the official patient CompartmentDefinition lists that Carnet keeps outside every
compartment. A Group (by ``member``) names many patients: owned by its first member it would be
sealed under that one person's key (and erased with them), listed in their $everything and
export (showing them the other members), and refused to a reading scoped to any other member.
So it is a shared resource, like a Practitioner; a group export reads its members through it."""
_RESOURCE_ROOT = "Resource."
_NOT_A_TARGET = frozenset({"Parameters"})  # never stored, so never referenced
MODIFIER_ROWS = {"token": (":text", ":of-type"), "reference": (":identifier",)}
"""Pseudo-parameters holding the rows of a modifier, by parameter type (see ``index_values``)."""
_NOT_COVERABLE = frozenset({"_id", "_lastUpdated"})  # columns of the resource table


@dataclass(frozen=True, slots=True)
class Component:
    """One part of a composite parameter: the parameter it takes its type from, and the
    expression evaluated relative to the composite's own expression."""

    param: str
    expression: str


@dataclass(frozen=True, slots=True)
class SearchParam:
    """One official search parameter, as it applies to one resource type."""

    code: str
    type: SearchParamType
    expression: str | None
    """This type's branches of the official expression, rewritten for fhirpathpy."""
    url: str
    branches: tuple[str, ...] = ()
    """The top-level ``|`` branches of ``expression``, evaluated one by one by the indexer."""
    targets: tuple[str, ...] = ()
    resolve_types: tuple[str, ...] = ()
    """From ``.where(resolve() is T)``: keep only references to these types (empty: all)."""
    components: tuple[Component, ...] = ()
    comparators: tuple[str, ...] = ()
    covered_by: tuple[str, ...] = ()
    """Codes of the parameters whose values, together, are exactly this one's (``combo-code`` is
    ``code`` and ``component-code``): such a parameter has no index rows of its own, and a search
    on it looks at theirs. Empty for a parameter indexed under its own code."""
    narrowed_by: tuple[str, ...] = ()
    """For a reference parameter: the parameters with the same expression and a ``resolve()``
    filter (``Observation.subject`` and ``patient``). Their rows are not repeated under this
    one: a search on it looks at its own rows and theirs."""


@dataclass(frozen=True, slots=True)
class NodeRules:
    """What the JSON schema cannot check on one kind of JSON object (a type or backbone)."""

    path: str
    """The element path, e.g. ``Observation.component``."""
    definition: str
    """The JSON schema definition of those objects, e.g. ``Observation_Component``."""
    choices: Mapping[str, tuple[str, ...]]
    """Choice groups (``value`` for ``value[x]``) and their allowed type suffixes."""
    required: tuple[str, ...]
    """``min >= 1`` elements the schema leaves unchecked; choices end in ``[x]``."""


def split_union(expression: str) -> tuple[str, ...]:
    """The top-level ``|`` branches of a FHIRPath expression (quotes and parentheses kept)."""
    branches: list[str] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(expression):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == "|":
            branches.append(expression[start:index].strip())
            start = index + 1
    branches.append(expression[start:].strip())
    return tuple(branch for branch in branches if branch)


class Definitions:
    """The R4 tables, loaded from the package data (use ``get_definitions()``)."""

    def __init__(self) -> None:
        schema = cast("dict[str, Any]", orjson.loads(gzip.decompress(_read("fhir.schema.json.gz"))))
        self.schema: dict[str, Any] = schema
        """The compact R4 JSON schema (draft-06); treat as read-only."""
        self.resource_types: frozenset[str] = frozenset(schema["discriminator"]["mapping"])
        self._params = _load_params(orjson.loads(_read("search-parameters.json")), self)
        self.param_names: Mapping[int, tuple[str, str]] = MappingProxyType(_param_ids(self._params))
        """(resource type, parameter or pseudo-parameter name) by ``hashes.param_id``."""
        self._compartment: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {
                name: tuple(params)
                for name, params in orjson.loads(_read("compartment-patient.json")).items()
                if name not in SHARED_DESPITE_COMPARTMENT
            }
        )
        self._elements: Mapping[str, dict[str, frozenset[str]]] = MappingProxyType(
            {
                name: {kind: frozenset(names) for kind, names in row.items()}
                for name, row in orjson.loads(_read("elements.json")).items()
            }
        )
        structure = _load_structure(orjson.loads(_read("structure.json")))
        self.structure: Mapping[str, NodeRules] = MappingProxyType(structure)
        """Structural rules by element path (``Observation.component``)."""
        self.rules_by_definition: Mapping[str, NodeRules] = MappingProxyType(
            {rules.definition: rules for rules in structure.values()}
        )
        """The same rules by JSON schema definition name (``Observation_Component``)."""

    def search_params(self, resource_type: str) -> tuple[SearchParam, ...]:
        """Every search parameter of the type, Resource-level ones included (empty if unknown)."""
        return tuple(self._params.get(resource_type, {}).values())

    def search_param(self, resource_type: str, code: str) -> SearchParam | None:
        """One parameter of the type by its code, or None."""
        return self._params.get(resource_type, {}).get(code)

    def summary_elements(self, resource_type: str) -> frozenset[str]:
        """Top-level elements flagged ``isSummary`` (choices as ``value[x]``)."""
        return self._elements.get(resource_type, {}).get("summary", frozenset())

    def mandatory_elements(self, resource_type: str) -> frozenset[str]:
        """Top-level elements with ``min >= 1`` (choices as ``value[x]``)."""
        return self._elements.get(resource_type, {}).get("mandatory", frozenset())

    def patient_compartment_params(self, resource_type: str) -> tuple[str, ...]:
        """The parameters placing a resource in a patient's compartment, in the official order.

        Empty when the type is in no patient compartment. For ``Patient`` this is ``("link",)``,
        but a Patient's own compartment is its id (``PATIENT_IS_SELF``).
        """
        return self._compartment.get(resource_type, ())

    def in_patient_compartment(self, resource_type: str) -> bool:
        """Whether resources of this type belong to a patient's compartment."""
        return resource_type == PATIENT_IS_SELF or resource_type in self._compartment

    def any_target(self) -> tuple[str, ...]:
        """The targets of a reference parameter that may point at any resource type."""
        return tuple(sorted(self.resource_types - _NOT_A_TARGET))


def _read(name: str) -> bytes:
    return (resources.files(__package__) / "data" / name).read_bytes()


def _load_params(
    table: dict[str, dict[str, Any]], definitions: Definitions
) -> dict[str, dict[str, SearchParam]]:
    """Per type, its parameters keyed by code, with the Resource-level ones rooted at it."""
    any_target = definitions.any_target()
    common = table.get("Resource", {})
    loaded: dict[str, dict[str, SearchParam]] = {}
    for resource_type in sorted(definitions.resource_types):
        params = {
            code: _param(code, row, resource_type, any_target)
            for code, row in sorted(common.items())
        }
        for code, row in sorted(table.get(resource_type, {}).items()):
            params[code] = _param(code, row, resource_type, any_target)
        loaded[resource_type] = _cover(resource_type, params)
    return loaded


def _cover(resource_type: str, params: dict[str, SearchParam]) -> dict[str, SearchParam]:
    """Mark the parameters whose branches are exactly the union of other parameters' branches.

    Only parameters of the same type, components and no ``resolve()`` filter qualify (their
    rows are then the same rows); identifying parameters never do (blind keys are hashed with
    their own parameter's name). Larger unions are examined first, and a duplicate pair keeps
    the first code in sort order as the indexed one.
    """

    def candidate(param: SearchParam) -> bool:
        if not param.branches or param.type == "special" or param.resolve_types:
            return False
        return param.code not in _NOT_COVERABLE and not is_blind(resource_type, param.code)

    def signature(param: SearchParam) -> tuple[object, ...]:
        parts = tuple(
            (getattr(params.get(part.param), "type", None), part.expression)
            for part in param.components
        )
        return (param.type, parts)

    eligible = [param for param in params.values() if candidate(param)]
    covered: dict[str, tuple[str, ...]] = {}
    for param in sorted(eligible, key=lambda p: (len(p.branches), p.code), reverse=True):
        branches = set(param.branches)
        parts = [
            other
            for other in eligible
            if other.code != param.code
            and other.code not in covered
            and signature(other) == signature(param)
            and set(other.branches) <= branches
        ]
        if parts and set().union(*(set(other.branches) for other in parts)) == branches:
            covered[param.code] = tuple(sorted(other.code for other in parts))
    narrowed = {
        param.code: tuple(
            sorted(
                other.code
                for other in params.values()
                if other.type == "reference"
                and other.resolve_types
                and not is_blind(resource_type, other.code)
                and set(other.branches) == set(param.branches)
            )
        )
        for param in eligible
        if param.type == "reference"
    }
    return {
        code: replace(param, covered_by=covered.get(code, ()), narrowed_by=narrowed.get(code, ()))
        if code in covered or narrowed.get(code)
        else param
        for code, param in params.items()
    }


def _param_ids(params: dict[str, dict[str, SearchParam]]) -> dict[int, tuple[str, str]]:
    """Every parameter's id, and its modifier rows' ids; a collision refuses to load."""
    ids: dict[int, tuple[str, str]] = {}
    for resource_type, by_code in params.items():
        for code, param in by_code.items():
            names = [code, *(code + suffix for suffix in MODIFIER_ROWS.get(param.type, ()))]
            for name in names:
                key = param_id(resource_type, name)
                if ids.setdefault(key, (resource_type, name)) != (resource_type, name):
                    raise RuntimeError(f"search parameter id collision: {resource_type}.{name}")
    return ids


def _param(
    code: str, row: dict[str, Any], resource_type: str, any_target: tuple[str, ...]
) -> SearchParam:
    expression: str | None = row.get("expression")
    branches: tuple[str, ...] = ()
    if expression is not None:
        branches = tuple(
            resource_type + "." + branch.removeprefix(_RESOURCE_ROOT)
            if branch.startswith(_RESOURCE_ROOT)
            else branch
            for branch in split_union(expression)
        )
        expression = " | ".join(branches)
    targets = tuple(row.get("targets", ()))
    return SearchParam(
        code=code,
        type=row["type"],
        expression=expression,
        url=SEARCH_PARAMETER_URL + row["id"],
        branches=branches,
        targets=any_target if targets == ("*",) else targets,
        resolve_types=tuple(row.get("resolve", ())),
        components=tuple(
            Component(param=part["param"], expression=part["expression"])
            for part in row.get("components", ())
        ),
        comparators=tuple(row.get("comparators", ())),
    )


def _load_structure(table: dict[str, dict[str, Any]]) -> dict[str, NodeRules]:
    return {
        path: NodeRules(
            path=path,
            definition=row["definition"],
            choices=MappingProxyType(
                {group: tuple(suffixes) for group, suffixes in row.get("choices", {}).items()}
            ),
            required=tuple(row.get("required", ())),
        )
        for path, row in table.items()
    }


_lock = threading.Lock()
_loaded: Definitions | None = None


def get_definitions() -> Definitions:
    """The process-wide Definitions, loaded on first use (thread-safe)."""
    global _loaded  # noqa: PLW0603 - a load-once cache of immutable tables
    if _loaded is None:
        with _lock:
            if _loaded is None:
                _loaded = Definitions()
    return _loaded
