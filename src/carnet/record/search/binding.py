"""Searches of the same shape share their SQL statement; only the bound values change.

Building a statement with SQLAlchemy (and its cache key) cost about a third of a search's CPU.
A search's *shape* is everything that decides the SQL text: the type, the conditions' kinds,
parameters, prefixes, modifiers and number of values, the sort, the actor's kind of scope. Its
*values* are the rest: codes' hashes, dates, ids, patient keys... ``Binder.shape`` walks the
typed conditions (model fields marked ``VALUE``, ``EACH`` or ``LIST`` are values, the others
shape) and names every value by its position in the walk, so that two searches of one shape
name their values alike; ``Binder.bind`` then gives the compiler a bound parameter of that
name. A statement built once per shape is run with each search's values.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import BindParameter, bindparam

VALUE = {"bind": "value"}
"""One value (None is shape: it means no condition on that part)."""
EACH = {"bind": "each"}
"""A tuple of values, each bound on its own (the count is shape)."""
LIST = {"bind": "list"}
"""A tuple of values bound as one expanding list (``IN``)."""


class Binder:
    """The values of one search and their names (see the module docstring)."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._names: dict[tuple[int, str, int | None], str] = {}
        self._expanding: set[str] = set()

    def shape(self, node: Any) -> Hashable:
        """The shape of a condition tree; registers its values."""
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            parts = (self._field(node, field) for field in dataclasses.fields(node))
            return (type(node).__name__, *parts)
        if isinstance(node, tuple):
            return tuple(self.shape(item) for item in node)
        found: Hashable = node  # a structural scalar: a prefix, a mode, a table, a parameter id
        return found

    def _field(self, node: Any, field: dataclasses.Field[Any]) -> Hashable:
        kind = field.metadata.get("bind")
        value = getattr(node, field.name)
        if kind is None:
            return self.shape(value)
        if kind == "value":
            if value is None:
                return None
            self._register(node, field.name, None, value)
            return "?"
        if kind == "list":
            name = self._register(node, field.name, None, list(value))
            self._expanding.add(name)
            return "[?]"
        for index, item in enumerate(value):
            self._register(node, field.name, index, item)
        return ("?",) * len(value)

    def _register(self, node: Any, name: str, index: int | None, value: Any) -> str:
        key = (id(node), name, index)
        bound = self._names.get(key)
        if bound is None:
            bound = self._names[key] = f"v{len(self.params)}"
            self.params[bound] = value
        return bound

    def bind(self, node: Any, name: str, index: int | None = None) -> BindParameter[Any]:
        """The bound parameter of a value registered by ``shape``."""
        bound = self._names[(id(node), name, index)]
        return bindparam(bound, self.params[bound], expanding=bound in self._expanding)

    def fixed(self, name: str, value: Any, *, expanding: bool = False) -> None:
        """Register a value outside the conditions (a scope's patients, a position, the page
        size), under a name of its own."""
        self.params[name] = list(value) if expanding else value
        if expanding:
            self._expanding.add(name)

    def named(self, name: str) -> BindParameter[Any]:
        """The bound parameter of a value registered by ``fixed``."""
        return bindparam(name, self.params[name], expanding=name in self._expanding)


class StatementCache:
    """Statements by shape, the most recently used kept (thread-safe)."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        built = build()
        with self._lock:
            self._entries[key] = built
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return built
