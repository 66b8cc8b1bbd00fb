"""Links between the entries of a Bundle, rewritten to the identities the server assigns (pure).

FHIR R4 (http.html, transaction processing rules): when the server gives a created entry its
id, it updates every link to that entry elsewhere in the bundle: resource references, elements of
type uri or url, and ``<a href>`` / ``<img src>`` in the narrative; canonicals are left alone.
Carnet rewrites:

- every ``reference`` member (``Reference.reference``), where the links are;
- every ``url`` member equal to a link of the bundle (``Attachment.url`` pointing at a Binary of
  the same bundle; an extension's ``url`` is a canonical and never equals one);
- ``href`` and ``src`` attributes of narrative ``div``s.

Identifier values are not rewritten even when they spell a fullUrl (a document's
``identifier.value`` is often its own ``urn:uuid``): they identify, they do not link.

A ``reference`` in the ``urn:uuid:``/``urn:oid:`` form that no entry defines cannot be resolved,
and a ``Type?query`` reference is a conditional reference, resolved by search in a transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_URN_PREFIXES = ("urn:uuid:", "urn:oid:")
_CONDITIONAL = re.compile(r"^[A-Z][A-Za-z]{1,63}\?")
_NARRATIVE_LINK = re.compile(r'(\b(?:href|src)=")([^"]*)(")')


@dataclass(frozen=True, slots=True)
class Rewritten:
    resource: dict[str, Any]
    """A new resource with its links rewritten (the original is untouched)."""
    unresolved: tuple[str, ...]
    """Paths of ``urn:`` references that no entry of the bundle defines."""
    conditional: tuple[str, ...]
    """Conditional references (``Type?query``) still to resolve, as written."""
    used: frozenset[str]
    """The links of ``targets`` found (and replaced) in the resource."""


def is_urn(value: str) -> bool:
    return value.startswith(_URN_PREFIXES)


def is_conditional(value: str) -> bool:
    """Whether ``value`` is a conditional reference (``Patient?identifier=…``)."""
    return _CONDITIONAL.match(value) is not None


def rewrite(resource: dict[str, Any], targets: Mapping[str, str]) -> Rewritten:
    """``resource`` with every link found in ``targets`` replaced by its ``Type/id``."""
    walker = _Walker(targets)
    rewritten = walker.object(resource)
    root = str(resource.get("resourceType", "Resource"))
    unresolved = tuple(_path_of(resource, value, root) for value in walker.unresolved)
    return Rewritten(rewritten, unresolved, tuple(walker.conditional), frozenset(walker.used))


class _Walker:
    """Rewrites copy on write: objects without a link to rewrite are returned as they are (a
    bundle's resources are mostly left unchanged below their references)."""

    def __init__(self, targets: Mapping[str, str]) -> None:
        self.targets = targets
        self.unresolved: list[str] = []
        self.conditional: list[str] = []
        self.used: set[str] = set()

    def object(self, node: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] | None = None
        for key, value in node.items():
            if isinstance(value, str):
                new: Any = self.string(key, value)
            elif isinstance(value, dict):
                new = self.object(value)
            elif isinstance(value, list):
                new = self.array(key, value)
            else:
                continue
            if new is not value:
                if result is None:
                    result = dict(node)
                result[key] = new
        return node if result is None else result

    def array(self, key: str, items: list[Any]) -> list[Any]:
        result: list[Any] | None = None
        for index, item in enumerate(items):
            if isinstance(item, dict):
                new: Any = self.object(item)
            elif isinstance(item, list):
                new = self.array(key, item)
            elif isinstance(item, str):
                new = self.string(key, item)
            else:
                continue
            if new is not item:
                if result is None:
                    result = list(items)
                result[index] = new
        return items if result is None else result

    def string(self, key: str, value: str) -> str:
        if key == "reference":
            target = self.targets.get(value)
            if target is not None:
                self.used.add(value)
                return target
            if is_urn(value):
                self.unresolved.append(value)
            elif is_conditional(value):
                self.conditional.append(value)
            return value
        if key == "url" and value in self.targets:
            self.used.add(value)
            return self.targets[value]
        if key == "div" and ("href=" in value or "src=" in value):
            rewritten = _NARRATIVE_LINK.sub(self._narrative_link, value)
            return value if rewritten == value else rewritten
        return value

    def _narrative_link(self, match: re.Match[str]) -> str:
        target = self.targets.get(match.group(2))
        if target is None:
            return match.group(0)
        self.used.add(match.group(2))
        return f"{match.group(1)}{target}{match.group(3)}"


def _path_of(node: Any, value: str, path: str) -> str:
    """Where ``reference`` ``value`` sits (for the error naming it; found again, rarely)."""
    if isinstance(node, dict):
        for key, item in node.items():
            if key == "reference" and item == value:
                return f"{path}.reference"
            found = _path_of(item, value, f"{path}.{key}")
            if found:
                return found
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found = _path_of(item, value, f"{path}[{index}]")
            if found:
                return found
    return ""
