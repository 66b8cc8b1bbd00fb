"""The timeline of documents: filtered, pinned first, newest first by document date, paged.

The patient's documents are read through the record (which leaves out, in SQL, what visibility
labels hold back from the actor: ``INVISIBLE_PATIENT`` never reaches the patient's side).

The unfiltered timeline, the page a person sees most, is paged by the record's search: the pinned
documents, then one page sorted by document date (``context.period``), with the total counted in
SQL, so that a page costs the same for 20 documents or 2,000 and the audit trail names only what
was shown. A filtered list reads every document and filters here: the category of a
professional's document comes from its type code through a table, and folders are Lists, which
the search cannot express in one query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import orjson

from carnet.documents import errors, resources, store
from carnet.documents.categories import CATEGORY_SYSTEM, OTHER, type_codes_of
from carnet.documents.folders import folder_index, list_folders
from carnet.documents.schemas import DocumentFilters, DocumentPage, DocumentView
from carnet.record.service import Repository

PAGE_SIZE: Final = 20
_MAX: Final = 1000


def _views(
    repo: Repository, patient_id: str, filters: DocumentFilters
) -> tuple[list[DocumentView], DocumentPage]:
    folders = list_folders(repo, patient_id=patient_id)
    where = folder_index(folders)
    if filters.folder_id and not filters.category and not _dated(filters):
        # A folder lists its documents: read those alone.
        bodies = _by_ids(repo, patient_id, [d for d, f in where.items() if f == filters.folder_id])
    else:
        bodies = _candidates(repo, patient_id, filters)
    replaced_by = _replacements(repo, patient_id, bodies)
    views = [
        resources.view(
            b, folder_id=where.get(str(b["id"])), replaced_by=replaced_by.get(str(b["id"]))
        )
        for b in bodies
    ]
    shell = DocumentPage(items=(), pinned=(), total=0, page=1, pages=1, folders=tuple(folders))
    return views, shell


def _candidates(
    repo: Repository, patient_id: str, filters: DocumentFilters
) -> list[dict[str, Any]]:
    """The documents a filtered list may show: a superset, filtered exactly afterwards.

    A category narrows the read in SQL: the documents carrying that category, and those whose
    type code the classification table puts in it. "Other documents" also gathers unknown type
    codes, which no search can list: it reads them all, as do the other filters.
    """
    if _dated(filters) and not filters.category:
        return _in_period(repo, patient_id, filters)
    if not filters.category or filters.category == OTHER:
        return store.all_of(repo, "DocumentReference", patient_id)
    category = (("category", f"{CATEGORY_SYSTEM}|{filters.category}"),)
    found = {str(b["id"]): b for b in store.all_of(repo, "DocumentReference", patient_id, category)}
    codes = type_codes_of(filters.category)
    if codes:
        # Those already read by their category coding are not read twice.
        by_type = (("type", ",".join(codes)), ("category:not", category[0][1]))
        typed = store.all_of(repo, "DocumentReference", patient_id, by_type)
        found.update((str(b["id"]), b) for b in typed)
    return list(found.values())


def _matches(view: DocumentView, filters: DocumentFilters) -> bool:
    if filters.category and view.category != filters.category:
        return False
    if filters.folder_id and view.folder_id != filters.folder_id:
        return False
    if filters.author == "patient" and not view.by_patient:
        return False
    if filters.author == "professional" and view.by_patient:
        return False
    return _in_dates(view, filters) and not (
        filters.text and filters.text.casefold() not in view.title.casefold()
    )


def _in_dates(view: DocumentView, filters: DocumentFilters) -> bool:
    if filters.date_to and view.date > filters.date_to:
        return False
    return not (filters.date_from and view.date < filters.date_from)


def _unfiltered_page(repo: Repository, patient_id: str, page: int, page_size: int) -> DocumentPage:
    """The timeline without filters, paged in SQL: pinned first, then newest first."""
    subject = ("patient", f"Patient/{patient_id}")
    pinned_token = f"{resources.FLAG_SYSTEM}|{resources.PINNED}"
    pinned = store.found(
        repo, "DocumentReference", [subject, ("_tag", pinned_token), ("_sort", "-period")]
    )
    params = [subject, ("_tag:not", pinned_token)]
    return _sql_page(repo, patient_id, params, page, page_size, pinned=pinned)


def _searched_page(
    repo: Repository, patient_id: str, filters: DocumentFilters, page: int, page_size: int
) -> DocumentPage | None:
    """A category and a date range, paged in SQL, when the search can say it exactly: every
    document of the space carries its category coding (``documents.service`` writes it) and,
    for dates, a period. None otherwise: the list is then filtered in Python."""
    if filters.folder_id or filters.author or filters.text:
        return None
    subject = ("patient", f"Patient/{patient_id}")
    params = [subject]
    if filters.category:
        if _count(repo, [subject, ("category:not", f"{CATEGORY_SYSTEM}|")]):
            return None  # some documents are classified by their type code alone
        params.append(("category", f"{CATEGORY_SYSTEM}|{filters.category}"))
    if _dated(filters):
        if _count(repo, [subject, ("period:missing", "true")]):
            return None  # some documents are dated by their attachment alone
        params += _period_params(filters)
    return _sql_page(repo, patient_id, params, page, page_size, pinned=[])


def _count(repo: Repository, params: list[tuple[str, str]]) -> int:
    result = repo.search("DocumentReference", [*params, ("_count", "0"), ("_total", "accurate")])
    return result.total or 0


def _sql_page(
    repo: Repository,
    patient_id: str,
    params: list[tuple[str, str]],
    page: int,
    page_size: int,
    *,
    pinned: list[dict[str, Any]],
) -> DocumentPage:
    """One page of a search, newest first, with its total counted in SQL."""
    params = [*params, ("_sort", "-period,-date")]
    total = _count(repo, params)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    bodies = _slice(repo, params, start=(page - 1) * page_size, size=page_size)
    folders = list_folders(repo, patient_id=patient_id)
    where = folder_index(folders)
    replaced_by = _replacements(repo, patient_id, [*pinned, *bodies])

    def view(body: dict[str, Any]) -> DocumentView:
        key = str(body["id"])
        return resources.view(body, folder_id=where.get(key), replaced_by=replaced_by.get(key))

    return DocumentPage(
        items=tuple(view(b) for b in bodies),
        pinned=tuple(sorted((view(b) for b in pinned), key=_newest_first, reverse=True)),
        total=total + len(pinned),
        page=page,
        pages=pages,
        folders=tuple(folders),
    )


def _slice(
    repo: Repository, params: list[tuple[str, str]], *, start: int, size: int
) -> list[dict[str, Any]]:
    """Matches ``start`` to ``start + size`` of a sorted search: one search reaching that far
    (a thousand at most per round trip; the record pages by keyset, not by offset)."""
    wanted = start + size
    result = repo.search("DocumentReference", [*params, ("_count", str(min(wanted, _MAX)))])
    matches = list(result.matches)
    while len(matches) < wanted and result.next_cursor is not None:
        result = repo.search("DocumentReference", [], cursor=result.next_cursor)
        matches += result.matches
    return [orjson.loads(m.body) for m in matches[start:wanted]]


def _dated(filters: DocumentFilters) -> bool:
    return filters.date_from is not None or filters.date_to is not None


def _in_period(repo: Repository, patient_id: str, filters: DocumentFilters) -> list[dict[str, Any]]:
    """The documents whose date (``context.period`` start) falls in the filter's range, and
    those without a period (dated by their attachment, filtered afterwards)."""
    subject = ("patient", f"Patient/{patient_id}")
    dates = _period_params(filters)
    found = {
        str(b["id"]): b for b in store.all_of_params(repo, "DocumentReference", [subject, *dates])
    }
    undated = [subject, ("period:missing", "true")]
    found.update((str(b["id"]), b) for b in store.all_of_params(repo, "DocumentReference", undated))
    return list(found.values())


def _period_params(filters: DocumentFilters) -> list[tuple[str, str]]:
    """The search for documents whose period starts within the filter's days."""
    dates: list[tuple[str, str]] = []
    if filters.date_from is not None:  # starts on or after the first day
        dates.append(("period", f"sa{(filters.date_from - dt.timedelta(days=1)).isoformat()}"))
    if filters.date_to is not None:  # starts before the day after the last
        dates.append(("period", f"lt{(filters.date_to + dt.timedelta(days=1)).isoformat()}"))
    return dates


def _by_ids(repo: Repository, patient_id: str, ids: list[str]) -> list[dict[str, Any]]:
    """The person's documents among ``ids`` (those deleted or hidden from the actor left out)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), 100):
        chunk = ",".join(ids[start : start + 100])
        found += store.found(
            repo, "DocumentReference", [("patient", f"Patient/{patient_id}"), ("_id", chunk)]
        )
    return found


def _replacements(
    repo: Repository, patient_id: str, bodies: list[dict[str, Any]]
) -> dict[str, str]:
    """Which of these documents a newer one replaces: replaced id → replacing id."""
    if not bodies:
        return {}
    targets = ",".join(f"DocumentReference/{b['id']}" for b in bodies)
    newer = store.found(
        repo,
        "DocumentReference",
        [("patient", f"Patient/{patient_id}"), ("relatesto", targets)],
    )
    found: dict[str, str] = {}
    for body in newer:
        for relation in body.get("relatesTo") or []:
            if relation.get("code") == "replaces":
                target = str(relation.get("target", {}).get("reference", "")).partition("/")[2]
                found[target] = str(body["id"])
    return found


def _newest_first(view: DocumentView) -> tuple[object, ...]:
    return (view.date, view.added_at, view.id)


def list_documents(
    repo: Repository,
    *,
    patient_id: str,
    filters: DocumentFilters | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> DocumentPage:
    """One page of the person's documents. On the unfiltered list the pinned ones come first,
    apart (``pinned``); the others follow newest first by document date, then upload time."""
    filters = filters or DocumentFilters()
    if not filters.any:
        return _unfiltered_page(repo, patient_id, page, page_size)
    searched = _searched_page(repo, patient_id, filters, page, page_size)
    if searched is not None:
        return searched
    views, shell = _views(repo, patient_id, filters)
    chosen = [v for v in views if _matches(v, filters)]
    chosen.sort(key=_newest_first, reverse=True)
    pinned: list[DocumentView] = []  # pinned first on the unfiltered list only
    pages = max(1, -(-len(chosen) // page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    return DocumentPage(
        items=tuple(chosen[start : start + page_size]),
        pinned=tuple(pinned),
        total=len(chosen) + len(pinned),
        page=page,
        pages=pages,
        folders=shell.folders,
    )


def document_detail(repo: Repository, *, patient_id: str, document_id: str) -> DocumentView:
    """One document, with its folder and what replaced it (if anything)."""
    body = store.load(repo, "DocumentReference", document_id)
    if (body.get("subject") or {}).get("reference") != f"Patient/{patient_id}":
        raise errors.DocumentNotFound
    where = folder_index(list_folders(repo, patient_id=patient_id))
    newer = store.all_of(
        repo,
        "DocumentReference",
        patient_id,
        (("relatesto", f"DocumentReference/{document_id}"),),
    )
    return resources.view(
        body, folder_id=where.get(document_id), replaced_by=str(newer[0]["id"]) if newer else None
    )
