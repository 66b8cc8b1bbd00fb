"""FHIR search parameters (name, value pairs) to a ``ParsedSearch``.

Repeated parameters are ANDed, comma-separated values ORed. A name is ``code[:modifier]``,
``reference[:Type].code[:modifier]`` (one level of chaining), ``_has:Type:reference:code``
(one level of reverse chaining), or a control (``_count``, ``_sort``, ``_include``...).

An unknown or unsupported parameter is an error (``UnsupportedSearch``), or with ``lenient``
is ignored and reported (``ParsedSearch.ignored``); a malformed one is always an error
(``InvalidSearch``). Every error names the parameter and never repeats a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from carnet.record.definitions import Definitions
from carnet.record.errors import InvalidSearch, UnsupportedSearch
from carnet.record.search import catalog
from carnet.record.search.conditions import Built, ConditionBuilder, safe_name
from carnet.record.search.controls import ControlParser
from carnet.record.search.model import Chain, Has, InList, ParsedSearch, SearchLimits
from carnet.record.search.values import unescape

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_COLUMNS = ("_id", "_lastUpdated")
IGNORED = frozenset({"_format", "_pretty", "_cursor"})
"""Handled by the HTTP surface (format, pretty printing, paging), not by search."""


class SearchParser:
    """Parses searches against the official definitions; one per process, thread-safe."""

    def __init__(
        self,
        definitions: Definitions,
        *,
        blind_hash: Callable[[str, str], str],
        limits: SearchLimits,
    ) -> None:
        self._definitions = definitions
        self._blind_hash = blind_hash
        self._limits = limits

    def parse(
        self,
        resource_type: str,
        params: Sequence[tuple[str, str]],
        *,
        lenient: bool = False,
        now: int,
    ) -> ParsedSearch:
        """The typed search; ``now`` (microseconds since the epoch) anchors ``ap``."""
        builder = ConditionBuilder(self._definitions, blind_hash=self._blind_hash, now=now)
        controls = ControlParser(self._definitions, resource_type, self._limits)
        conditions: list[object] = []
        owners: set[str] = set()
        names: list[str] = []
        ignored: list[str] = []
        identifying = False
        for name, value in params:
            if name in IGNORED:
                continue
            try:
                if name.startswith("_") and controls.accepts(name):
                    controls.add(name, value)
                    names.append(name)
                    continue
                built = self._condition(builder, resource_type, name, value)
            except UnsupportedSearch as exc:
                if not lenient or not exc.ignorable:
                    raise
                ignored.append(exc.message)
                continue
            conditions.append(built.condition)
            names.append(safe_name(name))
            owners.update([built.owner] if built.owner else [])
            identifying = identifying or built.identifying
        owner = next(iter(owners)) if len(owners) == 1 else None
        return ParsedSearch(
            resource_type=resource_type,
            conditions=tuple(conditions),
            controls=controls.result(),
            owner_hint=owner,
            names=tuple(names),
            ignored=tuple(ignored),
            identifying=identifying,
        )

    def _condition(
        self, builder: ConditionBuilder, resource_type: str, name: str, value: str
    ) -> Built:
        shown = safe_name(name)
        if name in catalog.UNSUPPORTED_CONTROLS:
            raise UnsupportedSearch(shown, catalog.UNSUPPORTED_CONTROLS[name])
        if name.startswith("_has:"):
            return self._has(builder, resource_type, shown, name, value)
        if name == "_list":
            return self._list(shown, value)
        if "." in name:
            return self._chain(builder, resource_type, name, value)
        code, _, modifier = name.partition(":")
        built = builder.build(resource_type, code, modifier or None, value)
        if resource_type == "Patient" and code == "_id" and not modifier and "," not in value:
            return Built(built.condition, owner=unescape(value).strip(), identifying=False)
        return built

    def _chain(self, builder: ConditionBuilder, resource_type: str, name: str, value: str) -> Built:
        shown = safe_name(name)
        head, _, rest = name.partition(".")
        code, _, modifier = head.partition(":")
        offered = catalog.offered(resource_type).get(code)
        if offered is None:
            raise UnsupportedSearch(shown, f"not a search parameter of {resource_type}")
        param = offered.param
        if param.type != "reference":
            raise InvalidSearch(shown, "only reference parameters can be chained")
        if "." in rest or rest.startswith("_has:"):
            raise UnsupportedSearch(shown, "chains of more than one level are not offered")
        allowed = param.resolve_types or param.targets
        if modifier:
            if modifier not in allowed:
                raise InvalidSearch(shown, "the modifier is not a target type of this parameter")
            allowed = (modifier,)
        inner_code, _, inner_modifier = rest.partition(":")
        targets = []
        identifying = False
        for target in allowed:
            if inner_code not in catalog.offered(target) and inner_code not in _COLUMNS:
                continue
            inner = _renamed(shown, builder.build, target, (inner_code, inner_modifier), value)
            targets.append((target, inner.condition))
            identifying = identifying or inner.identifying
        if not targets:
            raise UnsupportedSearch(shown, "no target type of the reference has this parameter")
        ids = catalog.stored_ids(self._definitions, resource_type, code)
        return Built(Chain(ids, tuple(targets)), identifying=identifying)

    def _has(
        self, builder: ConditionBuilder, resource_type: str, shown: str, name: str, value: str
    ) -> Built:
        parts = name.split(":")
        if len(parts) < 4 or not all(parts[1:4]):
            raise InvalidSearch(shown, "_has is _has:Type:reference:parameter")
        source, reference, inner = parts[1], parts[2], ":".join(parts[3:])
        if inner.startswith("_has") or "." in inner:
            raise UnsupportedSearch(shown, "_has of more than one level is not offered")
        if source not in self._definitions.resource_types:
            raise InvalidSearch(shown, "not a resource type")
        offered = catalog.offered(source).get(reference)
        if offered is None or offered.param.type != "reference":
            raise InvalidSearch(shown, f"not a reference parameter of {source}")
        if resource_type not in (offered.param.resolve_types or offered.param.targets):
            raise InvalidSearch(shown, f"that parameter does not reference {resource_type}")
        inner_code, _, inner_modifier = inner.partition(":")
        built = _renamed(shown, builder.build, source, (inner_code, inner_modifier), value)
        ids = catalog.stored_ids(self._definitions, source, reference)
        return Built(Has(source, ids, built.condition), identifying=built.identifying)

    def _list(self, shown: str, value: str) -> Built:
        list_id = unescape(value).strip()
        if list_id.startswith("$"):
            raise UnsupportedSearch(shown, "functional lists are not offered")
        if not _ID.fullmatch(list_id):
            raise InvalidSearch(shown, "_list takes the id of a List")
        return Built(InList(list_id, catalog.stored_ids(self._definitions, "List", "item")))


def _renamed(
    shown: str,
    build: Callable[[str, str, str | None, str], Built],
    resource_type: str,
    inner: tuple[str, str],
    value: str,
) -> Built:
    """The inner condition of a chain or _has; its errors name the whole parameter."""
    code, modifier = inner
    try:
        return build(resource_type, code, modifier or None, value)
    except UnsupportedSearch as exc:
        raise UnsupportedSearch(shown, exc.problem, ignorable=exc.ignorable) from None
    except InvalidSearch as exc:
        raise InvalidSearch(shown, exc.problem) from None
