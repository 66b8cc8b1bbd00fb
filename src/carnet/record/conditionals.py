"""Settling what only a search can: conditional entries and conditional references.

FHIR R4 (http.html): a conditional create (``ifNoneExist``) creates on no match and does nothing
on one (the response names the existing resource); a conditional update (``PUT Type?query``)
creates on no match and updates the one match; a conditional patch patches the one match; a
conditional delete deletes the one match, or nothing. More than one match is a 412 everywhere
(Carnet deletes one resource at a time: ``conditionalDelete: single``). A conditional reference
(``Patient?identifier=…``, transactions only) must match exactly one resource.

Criteria may name other entries by their fullUrl (``subject=urn:uuid:…``): they are settled in
dependency order, and criteria that depend on each other's results (circular conditional
references) fail the bundle. When a search gives an entry another identity than the one
planned, the entries linking to it are rewritten and prepared again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from carnet.core.errors import ClientError
from carnet.record.bundle_plan import BundlePlan, PlannedEntry, prepare_entry
from carnet.record.errors import (
    EntryFailed,
    InvalidBundle,
    MultipleMatches,
    ResourceNotFound,
)
from carnet.record.prepared import PreparedWrite

SearchParams = list[tuple[str, str]]
Matcher = Callable[[str, SearchParams], list[str]]
"""(resource type, search parameters) → ids of matching resources the caller may see (two are
enough to tell "several")."""


def resolve(
    plan: BundlePlan,
    entries: list[PlannedEntry],
    *,
    match: Matcher,
    prepare: Callable[[dict[str, Any]], PreparedWrite],
    transaction: bool,
) -> None:
    """Settle the conditional ``entries`` of ``plan`` (in place); raise EntryFailed."""
    changed: set[str] = set()
    for entry in _dependency_order([e for e in entries if e.conditional]):
        try:
            _settle(entry, plan, match, changed)
        except ClientError as exc:
            raise EntryFailed(entry.index, entry.full_url, exc) from None
    if not transaction:
        return
    for entry in entries:
        for reference in entry.conditional_refs:
            plan.links[reference] = _one_reference(entry, reference, plan, match)
    for entry in entries:
        if entry.conditional_refs or entry.links_used & changed:
            prepare_entry(entry, plan.links, prepare, transaction=True)
            if entry.error is not None:
                raise EntryFailed(entry.index, entry.full_url, entry.error)


def _settle(entry: PlannedEntry, plan: BundlePlan, match: Matcher, changed: set[str]) -> None:
    ids = match(entry.resource_type, criteria(_criteria_text(entry), plan.links))
    if len(ids) > 1:
        raise MultipleMatches
    found = ids[0] if ids else None
    if entry.method == "POST":
        if found is not None:
            entry.existing = True
            _retarget(entry, found, plan, changed)
    elif entry.method == "PUT":
        if found is not None:
            if entry.id_from_client and found != entry.resource_id:
                message = "The resource's id differs from the one the criteria found."
                raise InvalidBundle(message, f"Bundle.entry[{entry.index}].resource.id")
            _retarget(entry, found, plan, changed)
    elif found is None and entry.method == "PATCH":
        raise ResourceNotFound
    else:
        entry.resource_id = found  # DELETE: None when there is nothing to delete


def _retarget(entry: PlannedEntry, found: str, plan: BundlePlan, changed: set[str]) -> None:
    """Give ``entry`` the identity of the resource found, and repoint its links."""
    old = f"{entry.resource_type}/{entry.resource_id}"
    new = f"{entry.resource_type}/{found}"
    entry.resource_id = found
    if entry.resource is not None:
        entry.resource = {**entry.resource, "id": found}
    if old == new:
        return
    for link, target in plan.links.items():
        if target == old:
            plan.links[link] = new
            changed.add(link)


def _one_reference(entry: PlannedEntry, reference: str, plan: BundlePlan, match: Matcher) -> str:
    resource_type, _, query = reference.partition("?")
    try:
        ids = match(resource_type, criteria(query, plan.links))
        if len(ids) > 1:
            raise MultipleMatches
        if not ids:
            message = "A conditional reference matches no resource."
            raise InvalidBundle(message, f"Bundle.entry[{entry.index}].resource", "not-found")
    except ClientError as exc:
        raise EntryFailed(entry.index, entry.full_url, exc) from None
    return f"{resource_type}/{ids[0]}"


def criteria(query: str, links: dict[str, str]) -> SearchParams:
    """Search parameters from a query string, fullUrls of the bundle replaced by ``Type/id``."""
    return [
        (name, links.get(value, value)) for name, value in parse_qsl(query, keep_blank_values=True)
    ]


def _criteria_text(entry: PlannedEntry) -> str:
    if entry.method == "POST":
        return entry.if_none_exist or ""
    return (entry.url.query if entry.url is not None else None) or ""


def _dependency_order(entries: list[PlannedEntry]) -> list[PlannedEntry]:
    """Conditional entries, each after those its criteria name; circular criteria fail."""
    by_url = {e.full_url: e for e in entries if e.full_url}
    needs = {
        entry.index: [
            other for url, other in by_url.items() if url in unquote(_criteria_text(entry))
        ]
        for entry in entries
    }
    ordered: list[PlannedEntry] = []
    state: dict[int, str] = {}

    def visit(entry: PlannedEntry) -> None:
        if state.get(entry.index) == "done":
            return
        if state.get(entry.index) == "visiting":
            message = "Conditional entries whose criteria depend on each other's results."
            error = InvalidBundle(message, f"Bundle.entry[{entry.index}].request")
            raise EntryFailed(entry.index, entry.full_url, error)
        state[entry.index] = "visiting"
        for other in needs[entry.index]:
            visit(other)
        state[entry.index] = "done"
        ordered.append(entry)

    for entry in entries:
        visit(entry)
    return ordered
