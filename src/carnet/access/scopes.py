"""SMART on FHIR scopes (App Launch 2.x), v2 syntax with the v1 forms still accepted.

``system/Patient.cruds``, ``system/*.rs``, ``patient/Observation.r``, ``user/*.read`` (v1).
A scope with a query restriction (``patient/Observation.rs?category=…``) narrows access to what
matches; Carnet does not evaluate such restrictions yet, so it grants nothing for them rather
than more than asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SCOPE = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]+)\."
    r"(?P<perms>[cruds]+|read|write|\*)(?P<query>\?.*)?$"
)
_ORDER = "cruds"
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True, slots=True)
class ResourceScope:
    context: str
    resource_type: str
    permissions: str

    def __str__(self) -> str:
        return f"{self.context}/{self.resource_type}.{self.permissions}"


def parse_scope(scope: str) -> ResourceScope | None:
    """A resource scope, or None for anything else (``openid``, ``launch``…)."""
    match = _SCOPE.match(scope)
    if match is None or match["query"]:
        return None
    perms = match["perms"]
    perms = _V1.get(perms, perms)
    if perms not in _V1.values() and not _is_ordered(perms):
        return None
    return ResourceScope(
        match["context"], match["type"], "".join(sorted(set(perms), key=_ORDER.index))
    )


def _is_ordered(perms: str) -> bool:
    # SMART v2 requires the letters in c-r-u-d-s order, each at most once.
    positions = [_ORDER.index(p) for p in perms]
    return positions == sorted(set(positions))


@dataclass(frozen=True, slots=True)
class ScopeSet:
    scopes: tuple[ResourceScope, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, text: str) -> ScopeSet:
        parsed = (parse_scope(s) for s in text.split())
        return cls(tuple(s for s in parsed if s is not None))

    def permits(self, context: str, resource_type: str, letter: str) -> bool:
        return any(
            s.context == context
            and s.resource_type in ("*", resource_type)
            and letter in s.permissions
            for s in self.scopes
        )

    def __str__(self) -> str:
        return " ".join(str(s) for s in self.scopes)


def is_valid_scope(scope: str) -> bool:
    """Whether ``scope`` is a well-formed resource scope Carnet can grant."""
    return parse_scope(scope) is not None
