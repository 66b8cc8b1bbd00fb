"""Search-index values of a resource, from the official SearchParameter expressions (pure).

``Indexer.extract`` evaluates every search parameter of the resource's type with fhirpathpy and
the R4 model, and turns what it finds into rows for the index tables (``IndexEntries``, one
tuple per table, see ``index_values`` for what each type gives). Identifying parameters of the
persons of a record (``blind.BLIND_PARAMS``) give only blind keys, never clear rows (an
identifier's ``:of-type`` triple included, under ``<code>:of-type``).

Expressions are compiled once per (type, parameter), lazily per type (or by ``prepare``), and
shared by all threads: fhirpathpy's evaluation keeps no state between calls apart from
``TypeInfo.model``, which only ``is``/``as`` set (no stored expression uses them: ``as`` became
``ofType``), and the clock used by ``now()``, which no search expression calls. Each ``|``
branch is compiled and evaluated on its own, with
``returnRawData`` so that fhirpathpy hands back the resource's own values with their FHIR type
(``CodeableConcept``, ``dateTime``...) instead of copies. Simple paths (nearly all of them) are
walked in plain Python instead (``index_paths``, decided once per expression, equal to
fhirpathpy's result; a walker hands a case it does not reproduce back to fhirpathpy).
Shortcuts keep the cost down, none changing a result: a parameter none of whose branches'
first elements the resource has is skipped; a plain-path branch left to fhirpathpy whose leading
elements are absent is not evaluated (a path over nothing is empty; a corpus test checks it);
a branch shared by several parameters (``subject`` and ``patient``) is evaluated once per
resource. ``Indexer(fast_paths=False)`` evaluates everything with fhirpathpy: the reference the
walkers are tested against.

Composite parameters give pairs of values found in one element (``composites``). Parameters
whose values are exactly the union of other parameters' (``SearchParam.covered_by``:
``combo-code`` is ``code`` and ``component-code``) give no rows of their own: search reads the
others'. Not indexed here: ``_id`` and ``_lastUpdated`` (columns of the resource table) and the
``special`` parameter (``Location.near``).

Measured on one core of the 2-core dev machine over the 14,018 resources of the 50 Synthea
bundles, extraction and compartment owners: about 100 µs a resource (9,600 resources/s) with
the walkers, 233 µs with fhirpathpy and the presence shortcut alone
(``python bench/index_extraction.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import fhirpathpy
from fhirpathpy.engine.nodes import FP_Type
from fhirpathpy.models import models

from carnet.record.blind import blind_keys, is_blind, of_type_keys
from carnet.record.composites import (
    CompiledComposite,
    CompositeEntry,
    compile_composite,
    composite_entries,
)
from carnet.record.definitions import PATIENT_IS_SELF, Definitions, SearchParam
from carnet.record.index_paths import (
    DeceasedWalker,
    Walker,
    compile_walker,
    presence_steps,
    present,
)
from carnet.record.index_values import (
    BlindEntry,
    DateEntry,
    NumberEntry,
    QuantityEntry,
    ReferenceEntry,
    Sink,
    StringEntry,
    TokenEntry,
    UriEntry,
    add_date,
    add_number,
    add_quantity,
    add_reference,
    add_string,
    add_token,
    add_uri,
    guess_type,
)

__all__ = [
    "BlindEntry",
    "CompositeEntry",
    "DateEntry",
    "IndexEntries",
    "Indexer",
    "NumberEntry",
    "QuantityEntry",
    "ReferenceEntry",
    "StringEntry",
    "TokenEntry",
    "UriEntry",
]

log = logging.getLogger(__name__)

_R4 = models["r4"]
_OPTIONS = {"returnRawData": True}
_ADDERS: dict[str, Callable[[Sink, SearchParam, str | None, Any], None]] = {
    "token": add_token,
    "string": add_string,
    "date": add_date,
    "reference": add_reference,
    "quantity": add_quantity,
    "number": add_number,
    "uri": add_uri,
}
_COLUMNS = frozenset({"_id", "_lastUpdated"})


@dataclass(frozen=True, slots=True)
class IndexEntries:
    """The index rows of one resource, one tuple per index table, without duplicates."""

    token: tuple[TokenEntry, ...] = ()
    string: tuple[StringEntry, ...] = ()
    date: tuple[DateEntry, ...] = ()
    reference: tuple[ReferenceEntry, ...] = ()
    quantity: tuple[QuantityEntry, ...] = ()
    number: tuple[NumberEntry, ...] = ()
    uri: tuple[UriEntry, ...] = ()
    blind: tuple[BlindEntry, ...] = ()
    composite: tuple[CompositeEntry, ...] = ()

    @classmethod
    def from_sink(cls, sink: Sink) -> IndexEntries:
        """Freeze the rows of a sink, dropping repeats (first occurrence kept)."""
        return cls(
            token=tuple(dict.fromkeys(sink.token)),
            string=tuple(dict.fromkeys(sink.string)),
            date=tuple(dict.fromkeys(sink.date)),
            reference=tuple(dict.fromkeys(sink.reference)),
            quantity=tuple(dict.fromkeys(sink.quantity)),
            number=tuple(dict.fromkeys(sink.number)),
            uri=tuple(dict.fromkeys(sink.uri)),
            blind=tuple(dict.fromkeys(sink.blind)),
            composite=tuple(dict.fromkeys(sink.composite)),
        )


class _Branch(NamedTuple):
    expression: str
    evaluate: Callable[..., list[Any]]
    presence: tuple[frozenset[str], ...] | None
    """Keys that must exist for the branch to find anything (None: always evaluate)."""
    walk: Walker | DeceasedWalker | None
    """The plain-Python walker of a simple path (``index_paths``); None: fhirpathpy only."""


class _Compiled(NamedTuple):
    param: SearchParam
    branches: tuple[_Branch, ...]
    blind: bool
    roots: frozenset[str] | None
    """Top-level keys of which the resource must have one for any branch to find a value
    (None: not known, always evaluate)."""


class _Plan(NamedTuple):
    params: tuple[_Compiled, ...]
    """The parameters indexed under their own code (not those ``covered_by`` others)."""
    compartment: tuple[_Compiled, ...]
    composites: tuple[CompiledComposite, ...]
    narrowed: tuple[tuple[str, tuple[str, ...]], ...]
    """Reference parameters and their ``narrowed_by`` parameters, whose rows they must not
    repeat."""


class Indexer:
    """Extracts index rows from resources; thread-safe, share one per process."""

    def __init__(self, definitions: Definitions, *, fast_paths: bool = True) -> None:
        self._definitions = definitions
        self._fast_paths = fast_paths
        """False: every expression with fhirpathpy (the reference the fast paths are tested
        against)."""
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.Lock()

    def prepare(self, resource_type: str) -> None:
        """Compile the expressions of a type ahead of its first use."""
        self._plan(resource_type)

    def extract(self, resource: dict[str, Any]) -> IndexEntries:
        """The index rows of a (valid) resource; an unknown type gives no rows."""
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str):
            return IndexEntries()
        sink = Sink(self._definitions.resource_types)
        memo: dict[str, list[tuple[str | None, Any]]] = {}
        plan = self._plan(resource_type)
        keys = frozenset(resource)
        for compiled in plan.params:
            if not _live(compiled, keys):
                continue  # none of the elements its expression starts from: no value
            if compiled.blind:
                sink.blind.extend(_blind_entries(compiled, resource, memo))
                continue
            param = compiled.param
            add = _ADDERS[param.type]
            for type_name, data in _values(compiled, resource, memo):
                add(sink, param, type_name, data)
        for composite in plan.composites:
            sink.composite.extend(composite_entries(composite, resource, sink.resource_types))
        for wide, narrow in plan.narrowed:
            _drop_repeats(sink, wide, narrow)
        return IndexEntries.from_sink(sink)

    def patient_refs(self, resource: dict[str, Any]) -> tuple[str, ...]:
        """Ids of the Patients whose compartment holds the resource, in the official order.

        A Patient is its own compartment (its id). Only relative references (``Patient/123``)
        count: an absolute URL may name another server's patient, so it never makes an owner.
        """
        resource_type = resource.get("resourceType")
        if resource_type == PATIENT_IS_SELF:
            own = resource.get("id")
            return (own,) if isinstance(own, str) and own else ()
        if not isinstance(resource_type, str):
            return ()
        found: list[str] = []
        memo: dict[str, list[tuple[str | None, Any]]] = {}
        keys = frozenset(resource)
        for compiled in self._plan(resource_type).compartment:
            if not _live(compiled, keys):
                continue
            sink = Sink(self._definitions.resource_types)
            for type_name, data in _values(compiled, resource, memo):
                add_reference(sink, compiled.param, type_name, data)
            found.extend(
                entry.target_id
                for entry in sink.reference
                if entry.target_type == "Patient" and entry.target_id and entry.url is None
            )
        return tuple(dict.fromkeys(found))

    def _plan(self, resource_type: str) -> _Plan:
        plan = self._plans.get(resource_type)
        if plan is None:
            with self._lock:
                plan = self._plans.get(resource_type)
                if plan is None:
                    plan = self._compile(resource_type)
                    self._plans[resource_type] = plan
        return plan

    def _compile(self, resource_type: str) -> _Plan:
        compiled: dict[str, _Compiled] = {}
        shared: dict[str, _Branch] = {}
        composites: list[CompiledComposite] = []
        for param in self._definitions.search_params(resource_type):
            if param.type == "composite" and not param.covered_by:
                composite = compile_composite(self._definitions, resource_type, param)
                composites.extend([composite] if composite is not None else [])
            if param.type not in _ADDERS or param.code in _COLUMNS or not param.branches:
                continue  # composite, special, columns, parameters without expression
            for branch in param.branches:
                if branch not in shared:
                    evaluate = fhirpathpy.compile(branch, _R4, _OPTIONS)
                    walk = compile_walker(branch, resource_type) if self._fast_paths else None
                    presence = presence_steps(branch, resource_type) if self._fast_paths else None
                    shared[branch] = _Branch(branch, evaluate, presence, walk)
            branches = tuple(shared[branch] for branch in param.branches)
            compiled[param.code] = _Compiled(
                param, branches, is_blind(resource_type, param.code), _roots(branches)
            )
        compartment = tuple(
            compiled[code]
            for code in self._definitions.patient_compartment_params(resource_type)
            if code in compiled
        )
        own = tuple(entry for entry in compiled.values() if not entry.param.covered_by)
        narrowed = tuple(
            (entry.param.code, entry.param.narrowed_by) for entry in own if entry.param.narrowed_by
        )
        return _Plan(own, compartment, tuple(composites), narrowed)


def _roots(branches: tuple[_Branch, ...]) -> frozenset[str] | None:
    """The top-level keys a parameter's branches start from: a walker's first step, or the
    first presence step of a plain path; None when a branch may find values without any."""
    roots: set[str] = set()
    for branch in branches:
        if branch.walk is not None and branch.walk.roots is not None:
            roots |= branch.walk.roots
        elif branch.walk is None and branch.presence is not None:
            roots |= branch.presence[0]
        else:
            return None
    return frozenset(roots)


def _live(compiled: _Compiled, keys: frozenset[str]) -> bool:
    """Whether the parameter may find a value in a resource with these top-level keys."""
    return compiled.roots is None or not compiled.roots.isdisjoint(keys)


def _drop_repeats(sink: Sink, wide: str, narrow: tuple[str, ...]) -> None:
    """Remove the rows of ``wide`` that a narrower parameter of the same expression holds."""
    targets = {row[1:] for row in sink.reference if row.param in narrow}
    identifiers = {f"{code}:identifier" for code in narrow}
    tokens = {row[1:] for row in sink.token if row.param in identifiers}
    sink.reference = [row for row in sink.reference if row.param != wide or row[1:] not in targets]
    sink.token = [
        row for row in sink.token if row.param != f"{wide}:identifier" or row[1:] not in tokens
    ]


def _blind_entries(
    compiled: _Compiled, resource: dict[str, Any], memo: dict[str, list[tuple[str | None, Any]]]
) -> Iterator[BlindEntry]:
    """The blind keys of an identifying parameter, and of an identifier's ``:of-type`` triple
    (under ``<code>:of-type``): identifying values never make clear rows."""
    code = compiled.param.code
    for type_name, data in _values(compiled, resource, memo):
        for key in blind_keys(code, type_name, data):
            yield BlindEntry(code, key)
        for key in of_type_keys(code, data):
            yield BlindEntry(f"{code}:of-type", key)


def _values(
    compiled: _Compiled, resource: dict[str, Any], memo: dict[str, list[tuple[str | None, Any]]]
) -> Iterator[tuple[str | None, Any]]:
    """The typed values a parameter's expression finds in the resource.

    ``memo`` keeps each branch's values for the resource: parameters often share a branch
    (``code`` and ``combo-code``, ``subject`` and ``patient``).
    """
    for branch in compiled.branches:
        found = memo.get(branch.expression)
        if found is None:
            found = memo[branch.expression] = _evaluate(branch, compiled.param.code, resource)
        yield from found


def _evaluate(branch: _Branch, code: str, resource: dict[str, Any]) -> list[tuple[str | None, Any]]:
    if branch.walk is not None:
        walked = branch.walk(resource)
        if walked is not None:
            return walked  # else a case the walker leaves to fhirpathpy
    if branch.presence is not None and not present(resource, branch.presence):
        return []
    try:
        nodes = branch.evaluate(resource)
    except Exception:
        # An evaluator failure on one expression must not refuse a valid resource; the
        # parameter is left unindexed for it. Names only: values never reach the logs.
        log.warning(
            "index expression failed",
            extra={"resource_type": resource.get("resourceType"), "param": code},
        )
        return []
    return [typed for typed in map(_typed, nodes) if typed is not None]


def _typed(node: Any) -> tuple[str | None, Any] | None:
    """(FHIR type name, value) of one evaluation result; None for an empty one."""
    data = getattr(node, "data", node)
    if data is None:
        return None  # a primitive present only as an extension (``_given``)
    if isinstance(data, FP_Type):
        return None if str(data) == "" else ("string", str(data))
    path = getattr(node, "path", None)
    if isinstance(path, str) and "." not in path:
        return path, data
    if isinstance(path, str) and path.startswith("System."):
        return path.removeprefix("System.").lower(), data
    return guess_type(data), data
