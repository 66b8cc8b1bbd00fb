"""Plain paths in search expressions: walkers equal to fhirpathpy's results, and the keys a
path needs present to find anything (pure).

Most official expressions are member paths: ``Observation.code``, ``Patient.address.city``,
``Observation.value.ofType(Quantity)``, ``Patient.telecom.where(system='email')``. fhirpathpy
spends some 13 µs on each (parsing context, node objects, reductions); walking the JSON directly
costs a fraction of that. ``compile_walker`` decides once per expression, when a type's plan is
compiled, whether it is one of these forms:

    Type.member(.member | .ofType(T) | .where(member='literal'))*

and returns a walker for it, or None: every other expression (functions such as ``first()``,
indexers, operators, quoted names) stays with fhirpathpy, the explicit fallback. One expression
that is not a path has a walker of its own because every Patient written evaluates it:
``Patient.deceased.exists() and Patient.deceased != false`` (``DeceasedWalker``; its
evaluation by fhirpathpy cost a tenth of opening a space).

A walker reproduces fhirpathpy's own steps, not the FHIRPath specification's: the same R4 model
tables (elements defined elsewhere, choice types tried in the model's order, the first present
one winning, ``path2Type`` typing), the ``_member`` sibling of a primitive giving a node of its
own, a contained resource typed by its ``resourceType``, a result whose data is only
``{"extension": ...}`` dropped, and the result typed as ``indexing`` types fhirpathpy's nodes.
``ofType`` asks fhirpathpy's own type test (it reads the process-wide ``TypeInfo.model``, so the
answer is cached per model). Where a walker meets something it does not reproduce (data that is
not JSON, a ``where`` operand that is not a single string), it gives None for that resource and
the caller evaluates the expression with fhirpathpy instead. ``tests/record/test_index_fast_paths``
compares both, entry for entry, over the official examples, Synthea and the demo data.

For a plain path left to fhirpathpy, ``presence_steps`` reads the JSON keys each leading step
needs (typed with the same R4 model), and ``present`` tells whether a resource has a value
along them: the indexer does not evaluate a path over nothing.
"""

from __future__ import annotations

import re
from typing import Any

from fhirpathpy.engine.invocations.filtering import of_type_fn
from fhirpathpy.engine.nodes import ResourceNode, TypeInfo
from fhirpathpy.models import models

from carnet.record.index_values import guess_type

Node = tuple[Any, Any]
"""(data, fhirpathpy path) of one value: the path is the value's type name, or an element
path such as ``Observation.component`` for a backbone element."""
Typed = tuple[str | None, Any]

_R4 = models["r4"]
_PATH_TYPES: dict[str, str] = _R4["path2Type"]
_CHOICES: dict[str, list[str]] = _R4["choiceTypePaths"]
_ELSEWHERE: dict[str, str] = _R4["pathsDefinedElsewhere"]
_BACKBONES = frozenset(path.rsplit(".", 1)[0] for path in _PATH_TYPES)
_PATH_FUNCTIONS = frozenset({"ofType", "where", "first", "last", "distinct"})
_CHAIN = re.compile(r"\w+(?:\(\))?(?:\.\w+(?:\(\))?|\[\d+\])*")
_INNER_PARENTHESES = re.compile(r"\([^()]*\)")
_MEMBER = re.compile(r"[a-z][A-Za-z0-9_]*")
_OF_TYPE = re.compile(r"ofType\(([A-Za-z][A-Za-z0-9_]*)\)")
_EXISTS_NOT_FALSE = re.compile(
    r"([A-Z][A-Za-z]*)\.([a-z][A-Za-z]*)\.exists\(\) and \1\.\2 != false"
)
_WHERE = re.compile(r"where\(([a-z][A-Za-z0-9_]*)\s*=\s*'([^'\\]*)'\)")
_NOT_MEMBERS = frozenset({"length"})  # fhirpathpy answers ``length`` on strings itself
_LEAVES = (str, int, float)  # JSON scalars (bool is an int): a member of one is nothing
_SCALARS = frozenset({str, int, float, bool, type(None)})


class _Bail(Exception):
    """The walker meets a case it does not reproduce: evaluate with fhirpathpy."""


class _Member:
    """One member step; child paths are resolved once per parent path and cached."""

    __slots__ = ("_children", "key")

    def __init__(self, key: str) -> None:
        self.key = key
        self._children: dict[Any, tuple[tuple[str, str, str], ...] | str] = {}

    def children(self, path: Any) -> tuple[tuple[str, str, str], ...] | str:
        """The child's path, or for a choice element its (key, ``_key``, path) per type."""
        found = self._children.get(path)
        if found is None:
            found = self._children[path] = self._resolve(path)
        return found

    def _resolve(self, path: Any) -> tuple[tuple[str, str, str], ...] | str:
        key = self.key
        child = f"{path}.{key}" if path else f"_.{key}"
        child = _ELSEWHERE.get(child, child)
        choices = _CHOICES.get(child)
        if choices:
            return tuple(
                (key + kind, f"_{key}{kind}", _PATH_TYPES.get(child + kind, child + kind))
                for kind in choices
            )
        child = "Extension" if key == "extension" else child
        return _PATH_TYPES.get(child, child)

    def apply(self, nodes: list[Node]) -> list[Node]:
        found: list[Node] = []
        key = self.key
        for data, path in nodes:
            if type(data) is not dict:
                if data is None or isinstance(data, _LEAVES):
                    continue
                raise _Bail
            children = self.children(path)
            if isinstance(children, str):
                value, extra, child = data.get(key), data.get("_" + key), children
            else:
                for name, extra_name, child in children:  # noqa: B007 - child is used below
                    value, extra = data.get(name), data.get(extra_name)
                    if value is not None or extra is not None:
                        break
                else:
                    continue
            _add(found, value, child)
            _add(found, extra, child)
        return found


def _add(found: list[Node], value: Any, path: str) -> None:
    """fhirpathpy's nodes for one member value: one per list item; a resource is its type."""
    if value is None:
        return
    for item in value if type(value) is list else (value,):
        kind = type(item)
        if kind is dict and "resourceType" in item:
            resource_type = item["resourceType"]
            if type(resource_type) is not str:
                raise _Bail  # an odd contained resource: its path would be odd too
            found.append((item, resource_type))
        elif kind is dict or kind in _SCALARS:
            found.append((item, path))
        else:
            raise _Bail  # not what JSON parsing gives (a list in a list, a Mapping...)


class _OfType:
    """``ofType(T)``: fhirpathpy's own type test, cached by path for the current model."""

    __slots__ = ("_cache", "_type")

    def __init__(self, name: str) -> None:
        self._type = TypeInfo(name=name, namespace=None)  # type: ignore[no-untyped-call]
        self._cache: dict[tuple[str, bool], bool] = {}

    def apply(self, nodes: list[Node]) -> list[Node]:
        model: Any = TypeInfo.model  # set by fhirpathpy's ``is``/``as``, else None
        cacheable = model is None or model is _R4
        kept: list[Node] = []
        for node in nodes:
            data, path = node
            if cacheable and isinstance(path, str) and "." not in path:
                # Without a dot, fhirpathpy types a node by its path alone (not its data).
                key = (path, model is None)
                keep = self._cache.get(key)
                if keep is None:
                    keep = self._cache[key] = self._test(data, path)
            else:
                keep = self._test(data, path)
            if keep:
                kept.append(node)
        return kept

    def _test(self, data: Any, path: Any) -> bool:
        node = ResourceNode(data, path)  # type: ignore[no-untyped-call]
        return bool(of_type_fn(None, [node], self._type))  # type: ignore[no-untyped-call]


class _Where:
    """``where(member='literal')``: keeps the nodes whose member is that one string."""

    __slots__ = ("_literal", "_member")

    def __init__(self, member: str, literal: str) -> None:
        self._member = _Member(member)
        self._literal = literal

    def apply(self, nodes: list[Node]) -> list[Node]:
        kept: list[Node] = []
        for node in nodes:
            found = self._member.apply([node])
            if len(found) != 1:
                continue  # fhirpathpy: empty is not true, and sizes that differ are unequal
            data, path = found[0]
            if type(data) is not str or path == "Quantity":
                raise _Bail  # compared after fhirpathpy's own conversions: leave it to it
            if data == self._literal:
                kept.append(node)
        return kept


Step = _Member | _OfType | _Where


def compile_walker(branch: str, resource_type: str) -> Walker | DeceasedWalker | None:
    """A walker for ``branch`` when it is a plain path over ``resource_type`` (or the
    ``deceased`` test), else None."""
    if (match := _EXISTS_NOT_FALSE.fullmatch(branch)) is not None:
        if match.group(1) == resource_type and match.group(2) in _members_of(resource_type):
            return DeceasedWalker(resource_type, match.group(2))
        return None
    prefix = resource_type + "."
    if not branch.startswith(prefix):
        return None
    steps: list[Step] = []
    for token in split_steps(branch[len(prefix) :]):
        if (match := _OF_TYPE.fullmatch(token)) is not None:
            steps.append(_OfType(match.group(1)))
        elif (match := _WHERE.fullmatch(token)) is not None:
            steps.append(_Where(match.group(1), match.group(2)))
        elif _MEMBER.fullmatch(token) and token not in _NOT_MEMBERS:
            steps.append(_Member(token))
        else:
            return None
    if not steps or not isinstance(steps[0], _Member):
        return None
    return Walker(resource_type, tuple(steps))


class Walker:
    """A compiled plain path: called on a resource, its typed values (None: ask fhirpathpy)."""

    __slots__ = ("_first", "_rest", "_type", "roots")

    def __init__(self, resource_type: str, steps: tuple[Step, ...]) -> None:
        first = steps[0]
        assert isinstance(first, _Member)
        self._type = resource_type
        self._first = first
        self._rest = steps[1:]
        children = first.children(resource_type)
        self.roots: frozenset[str] = frozenset(
            (first.key, "_" + first.key)
            if isinstance(children, str)
            else (key for name, extra, _ in children for key in (name, extra))
        )
        """The top-level keys of which one must be present for the path to find anything."""

    def __call__(self, resource: dict[str, Any]) -> list[Typed] | None:
        if resource.get("resourceType") != self._type:
            return []
        try:
            nodes = self._first.apply([(resource, self._type)])
            for step in self._rest:
                if not nodes:
                    return []
                nodes = step.apply(nodes)
        except _Bail:
            return None
        return [typed for typed in map(_typed, nodes) if typed is not None]


class DeceasedWalker:
    """``T.e.exists() and T.e != false`` for a boolean-or-other choice element ``e``
    (``Patient.deceased``): false when the element is absent or ``false``, true when it is
    ``true``; anything else (a date, an extension-only primitive, data that is not JSON's
    boolean) is handed back to fhirpathpy."""

    __slots__ = ("_boolean", "_keys", "_type", "roots")

    def __init__(self, resource_type: str, element: str) -> None:
        self._type = resource_type
        choices = _CHOICES.get(f"{resource_type}.{element}", [])
        names = [element + choice for choice in choices] or [element]
        self._keys = frozenset(key for name in names for key in (name, "_" + name))
        self._boolean = element + "Boolean" if "Boolean" in choices else element
        # The result is never empty: the indexer must not skip a resource without the element.
        self.roots: frozenset[str] | None = None

    def __call__(self, resource: dict[str, Any]) -> list[Typed] | None:
        if resource.get("resourceType") != self._type:
            return [("boolean", False)]
        present = self._keys.intersection(resource)
        if not present:
            return [("boolean", False)]
        value = resource.get(self._boolean)
        if present == {self._boolean} and isinstance(value, bool):
            return [("boolean", value)]
        return None


def _members_of(resource_type: str) -> frozenset[str]:
    """The element names (choice elements without their type suffix) the R4 model knows."""
    prefix = resource_type + "."
    return frozenset(
        path[len(prefix) :]
        for path in (*_PATH_TYPES, *_CHOICES)
        if path.startswith(prefix) and "." not in path[len(prefix) :]
    )


def _typed(node: Node) -> Typed | None:
    """As ``indexing`` types a fhirpathpy result node, after fhirpathpy's raw-data filter."""
    data, path = node
    if data is None:
        return None  # a primitive present only as an extension (``_given``)
    if isinstance(data, dict) and list(data) == ["extension"]:
        return None  # fhirpathpy leaves these out of raw results
    if isinstance(path, str) and "." not in path:
        return path, data
    if isinstance(path, str) and path.startswith("System."):
        return path.removeprefix("System.").lower(), data
    return guess_type(data), data


def split_steps(rest: str) -> list[str]:
    """``value.ofType(Quantity).where(a='b.c')`` → ``['value', 'ofType(Quantity)', ...]``."""
    steps: list[str] = []
    depth, quoted, start = 0, False, 0
    for index, char in enumerate(rest):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ".":
            steps.append(rest[start:index])
            start = index + 1
    steps.append(rest[start:])
    return steps


def presence_steps(branch: str, resource_type: str) -> tuple[frozenset[str], ...] | None:
    """The JSON keys, step by step, that must exist for ``branch`` to find anything.

    Read from the leading member steps of a plain path (``Patient.meta.profile``,
    ``Observation.value.ofType(Quantity)``, ``Patient.telecom.where(...)``), typed with the same
    R4 model fhirpathpy uses, so that a choice step stands for its ``valueQuantity``... keys.
    Branches that are not plain paths give None and are always evaluated: a function such as
    ``exists()`` finds a value even in an empty input.
    """
    prefix = resource_type + "."
    if not branch.startswith(prefix) or not _is_plain_path(branch[len(prefix) :]):
        return None
    tokens = split_steps(branch[len(prefix) :])
    steps: list[frozenset[str]] = []
    type_path: str | None = resource_type
    index = 0
    while index < len(tokens) and type_path is not None and tokens[index].isidentifier():
        name = tokens[index]
        full = _ELSEWHERE.get(f"{type_path}.{name}", f"{type_path}.{name}")
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        cast = _OF_TYPE.fullmatch(following)
        if full in _CHOICES:
            suffixes = (cast.group(1),) if cast else _CHOICES[full]
            keys = {name + suffix[0].upper() + suffix[1:] for suffix in suffixes}
            type_path = cast.group(1) if cast else None
            index += 2 if cast else 1
        elif full in _PATH_TYPES or full in _BACKBONES:
            keys = {name}
            declared = _PATH_TYPES.get(full, "BackboneElement")
            type_path = full if declared in ("BackboneElement", "Element") else declared
            index += 1
        else:
            break  # not in the model: stop reading, the rest may still find something
        steps.append(frozenset(keys | {f"_{key}" for key in keys}))
    return tuple(steps) or None


def _is_plain_path(rest: str) -> bool:
    flat = rest
    while True:
        reduced = _INNER_PARENTHESES.sub("()", flat)
        if reduced == flat:
            break
        flat = reduced
    if not _CHAIN.fullmatch(flat):
        return False
    return all(name in _PATH_FUNCTIONS for name in re.findall(r"(\w+)\(\)", flat))


def present(resource: dict[str, Any], steps: tuple[frozenset[str], ...]) -> bool:
    """Whether some value exists along ``steps`` (each a set of alternative keys)."""
    current: list[Any] = [resource]
    for keys in steps:
        found: list[Any] = []
        for node in current:
            if isinstance(node, dict):
                for key in node.keys() & keys:
                    value = node[key]
                    if isinstance(value, list):
                        found.extend(value)
                    elif value is not None:
                        found.append(value)
        if not found:
            return False
        current = found
    return True
