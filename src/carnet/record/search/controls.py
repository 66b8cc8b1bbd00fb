"""The result parameters of a search: _count, _sort, _include, _revinclude, _summary,
_elements, _total.

- ``_count``: 0 to the configured maximum; 0 asks for the total alone (as ``_summary=count``).
- ``_sort``: comma-separated keys, ``-`` for descending; on ``_id``, ``_lastUpdated`` and the
  parameters whose index keeps an order (``catalog.SORTABLE``). A resource with several values
  sorts by its lowest (ascending) or highest (descending); one without sorts last.
- ``_include=Type:param[:Target]`` (Type: the searched type; ``Type:*`` for every reference
  parameter), ``_revinclude=Type:param[:Target]`` (the referencing type), each with
  ``:iterate`` to apply again to what was included.
- ``_summary``: true, text, data, count or false; ``_elements``: top-level element names;
  ``_total``: none, estimate or accurate.
"""

from __future__ import annotations

from collections.abc import Mapping

from carnet.record.definitions import Definitions
from carnet.record.errors import InvalidSearch, UnsupportedSearch
from carnet.record.search import catalog
from carnet.record.search.model import Controls, Include, SearchLimits, SortKey
from carnet.record.search.summary import parse_elements, parse_summary

_TOTALS = {"none": "none", "estimate": "estimate", "accurate": "accurate"}
_SINGLE = frozenset({"_count", "_sort", "_summary", "_elements", "_total"})
_NAMES = frozenset(
    {"_count", "_sort", "_summary", "_elements", "_total"}
    | {f"{base}{suffix}" for base in ("_include", "_revinclude") for suffix in ("", ":iterate")}
)


class ControlParser:
    """Collects the result parameters of one search (see the module docstring)."""

    def __init__(self, definitions: Definitions, resource_type: str, limits: SearchLimits) -> None:
        self._definitions = definitions
        self._type = resource_type
        self._default = min(limits.default_count, limits.max_count)
        self._max = limits.max_count
        self._seen: set[str] = set()
        self._count: int | None = None
        self._sort: tuple[SortKey, ...] = ()
        self._includes: list[Include] = []
        self._summary: str | None = None
        self._elements: tuple[str, ...] = ()
        self._total: str | None = None

    def accepts(self, name: str) -> bool:
        return name in _NAMES or name.startswith(("_include:", "_revinclude:"))

    def add(self, name: str, value: str) -> None:
        base = name.split(":", 1)[0]
        if base in _SINGLE:
            if base in self._seen:
                raise InvalidSearch(name, "given more than once")
            self._seen.add(base)
        if base in ("_include", "_revinclude"):
            modifier = name.partition(":")[2]
            if modifier not in ("", "iterate"):
                raise InvalidSearch(name, "the only modifier of includes is :iterate")
            self._includes.extend(self._include(name, value, modifier == "iterate"))
        elif base == "_count":
            self._count = self._parse_count(value)
        elif base == "_sort":
            self._sort = tuple(self._sort_key(part) for part in value.split(","))
        elif base == "_summary":
            self._summary = parse_summary(name, value)
        elif base == "_elements":
            self._elements = parse_elements(value)
        else:
            self._total = _choice(name, value, _TOTALS, "none, estimate or accurate")

    def result(self) -> Controls:
        count = self._default if self._count is None else self._count
        return Controls(
            count=count,
            sort=self._sort,
            includes=tuple(self._includes),
            summary="count" if count == 0 else self._summary,
            elements=self._elements,
            total=self._total,
        )

    def _parse_count(self, value: str) -> int:
        if not value.isascii() or not value.isdigit() or int(value) > self._max:
            raise InvalidSearch("_count", f"_count must be a whole number from 0 to {self._max}")
        return int(value)

    def _sort_key(self, text: str) -> SortKey:
        descending = text.startswith("-")
        code = text[1:] if descending else text
        if code == "_id":
            return SortKey(code, descending, column="id")
        if code == "_lastUpdated":
            return SortKey(code, descending, column="last_updated")
        offered = catalog.offered(self._type).get(code)
        if offered is None:
            raise InvalidSearch("_sort", f"not a search parameter of {self._type}")
        if not offered.sortable:
            raise UnsupportedSearch(
                "_sort", "sorting is offered on dates, numbers, quantities, strings and uris"
            )
        ids = catalog.stored_ids(self._definitions, self._type, code)
        return SortKey(code, descending, table=offered.param.type, param_ids=ids)

    def _include(self, name: str, value: str, iterate: bool) -> list[Include]:
        reverse = name.startswith("_revinclude")
        parts = value.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidSearch(name, "an include is Type:parameter[:TargetType]")
        source, code = parts[0], parts[1]
        if source not in self._definitions.resource_types:
            raise InvalidSearch(name, "not a resource type")
        if not reverse and not iterate and source != self._type:
            raise InvalidSearch(name, f"_include starts from {self._type} (or use :iterate)")
        codes = self._reference_codes(name, source, code)
        found = []
        for each in codes:
            param = catalog.offered(source)[each].param
            targets = param.resolve_types or param.targets
            if len(parts) == 3:
                if parts[2] not in targets:
                    if code != "*":
                        raise InvalidSearch(name, "not a target type of this parameter")
                    continue
                targets = (parts[2],)
            ids = catalog.stored_ids(self._definitions, source, each)
            found.append(Include(source, ids, targets, iterate, reverse, value))
        return found

    def _reference_codes(self, name: str, source: str, code: str) -> list[str]:
        offered = catalog.offered(source)
        if code == "*":
            return sorted(c for c, o in offered.items() if o.param.type == "reference")
        if code not in offered or offered[code].param.type != "reference":
            raise InvalidSearch(name, f"not a reference parameter of {source}")
        return [code]


def _choice(name: str, value: str, choices: Mapping[str, str | None], allowed: str) -> str | None:
    if value not in choices:
        raise InvalidSearch(name, f"{name} takes {allowed}")
    return choices[value]
