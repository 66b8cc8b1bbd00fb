"""Reaching the documents area's resources through the record's Repository (which decides and
audits every call): loading one, listing a patient's, writing one back.

A refusal by the record, an absent or a deleted resource all look the same here: not found.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from carnet.documents import errors
from carnet.record.errors import ResourceDeleted, ResourceNotFound, WriteRefused
from carnet.record.service import Repository

_PAGE: Final = "1000"
_MAX_PAGES: Final = 50
_HIDDEN: Final = (ResourceNotFound, ResourceDeleted, WriteRefused)


def load(repo: Repository, resource_type: str, resource_id: str) -> dict[str, Any]:
    """The resource's current body, or ``DocumentNotFound`` (or ``FolderNotFound``)."""
    try:
        stored = repo.read(resource_type, resource_id)
    except _HIDDEN:
        raise _missing(resource_type) from None
    body: dict[str, Any] = orjson.loads(stored.body)
    return body


def save(repo: Repository, body: dict[str, Any]) -> dict[str, Any]:
    """Write ``body`` as the resource's next version; return what was stored."""
    resource_type, resource_id = str(body["resourceType"]), str(body["id"])
    try:
        outcome = repo.update(resource_type, resource_id, body)
    except _HIDDEN:
        raise _missing(resource_type) from None
    stored: dict[str, Any] = orjson.loads(outcome.resource.body)
    return stored


def remove(repo: Repository, resource_type: str, resource_id: str) -> None:
    try:
        repo.delete(resource_type, resource_id)
    except _HIDDEN:
        raise _missing(resource_type) from None


def all_of(
    repo: Repository, resource_type: str, patient_id: str, extra: tuple[tuple[str, str], ...] = ()
) -> list[dict[str, Any]]:
    """Every ``resource_type`` of the patient the actor may see (the record leaves out, in
    SQL, what visibility labels hold back from them)."""
    return all_of_params(repo, resource_type, [("patient", f"Patient/{patient_id}"), *extra])


def all_of_params(
    repo: Repository, resource_type: str, params: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Every match of a search, page after page (a thousand at a time)."""
    result = repo.search(resource_type, [*params, ("_count", _PAGE)])
    bodies = [orjson.loads(m.body) for m in result.matches]
    pages = 1
    while result.next_cursor is not None and pages < _MAX_PAGES:
        result = repo.search(resource_type, [], cursor=result.next_cursor)
        bodies += [orjson.loads(m.body) for m in result.matches]
        pages += 1
    return bodies


def found(
    repo: Repository, resource_type: str, params: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The bodies of one search's first page (at most a thousand)."""
    result = repo.search(resource_type, [*params, ("_count", _PAGE)])
    return [orjson.loads(m.body) for m in result.matches]


def _missing(resource_type: str) -> errors.DocumentRefused:
    return errors.FolderNotFound() if resource_type == "List" else errors.DocumentNotFound()
