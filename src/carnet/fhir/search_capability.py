"""The search part of the CapabilityStatement, from the record's search catalog: exactly the
parameters, includes and reverse includes search offers per type, and, in the resource's
documentation, the official parameters it does not offer and why."""

from __future__ import annotations

import functools
from typing import Any

from carnet.record.service import search_catalog

RESULT_PARAMETERS = (
    "_count (0 to the configured maximum), _sort (dates, numbers, quantities, strings, uris, "
    "_id, _lastUpdated; '-' descending), _include and _revinclude (with :iterate), "
    "_summary (true, text, data, count, false), _elements, _total (accurate, estimate, none)"
)
COMMON = (
    ("_list", "special", "The resources listed by a List (its id)."),
    ("_has", "special", "Reverse chaining, one level: _has:Type:reference:parameter=value."),
)


@functools.cache
def search_capability(resource_type: str) -> dict[str, Any]:
    """The keys search adds to one ``rest.resource`` entry."""
    offered = search_catalog.offered(resource_type)
    params = [
        {
            "name": code,
            "definition": offer.param.url,
            "type": offer.param.type,
            "documentation": offer.documentation,
        }
        for code, offer in sorted(offered.items())
    ]
    forward, reverse = search_catalog.includes(resource_type)
    refused = search_catalog.refused(resource_type)
    notes = [f"Search result parameters: {RESULT_PARAMETERS}."]
    notes += [f"Not offered: {code} ({reason})." for code, reason in sorted(refused.items())]
    found: dict[str, Any] = {
        "searchParam": params,
        "documentation": " ".join(notes),
    }
    if forward:
        found["searchInclude"] = forward
    if reverse:
        found["searchRevInclude"] = reverse
    return found


def common_search_params() -> list[dict[str, Any]]:
    """Parameters of every type (rest level): the Resource ones, ``_list`` and ``_has``."""
    # The Resource-level parameters are the same on every type; Basic has no others that start
    # with an underscore.
    offered = search_catalog.offered("Basic")
    found = [
        {
            "name": code,
            "definition": offer.param.url,
            "type": offer.param.type,
            "documentation": offer.documentation,
        }
        for code, offer in sorted(offered.items())
        if code.startswith("_")
    ]
    found += [{"name": name, "type": kind, "documentation": text} for name, kind, text in COMMON]
    return found
