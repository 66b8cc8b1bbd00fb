"""The timeline of documents: filtered, pinned first, newest first by document date, paged.

The patient's documents are read through the record (which leaves out, in SQL, what visibility
labels hold back from the actor: ``INVISIBLE_PATIENT`` never reaches the patient's side), then
filtered and ordered here. A space holds hundreds of documents, not millions: one search of
them is cheaper than an index per filter.
"""

from __future__ import annotations

from typing import Final

from carnet.documents import errors, resources, store
from carnet.documents.folders import folder_index, list_folders
from carnet.documents.schemas import DocumentFilters, DocumentPage, DocumentView
from carnet.record.service import Repository

PAGE_SIZE: Final = 20


def _views(repo: Repository, patient_id: str) -> tuple[list[DocumentView], DocumentPage]:
    folders = list_folders(repo, patient_id=patient_id)
    where = folder_index(folders)
    bodies = store.all_of(repo, "DocumentReference", patient_id)
    replaced_by = {}
    for body in bodies:
        for relation in body.get("relatesTo") or []:
            if relation.get("code") == "replaces":
                target = str(relation.get("target", {}).get("reference", "")).partition("/")[2]
                replaced_by[target] = str(body["id"])
    views = [
        resources.view(
            b, folder_id=where.get(str(b["id"])), replaced_by=replaced_by.get(str(b["id"]))
        )
        for b in bodies
    ]
    shell = DocumentPage(items=(), pinned=(), total=0, page=1, pages=1, folders=tuple(folders))
    return views, shell


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
    views, shell = _views(repo, patient_id)
    chosen = [v for v in views if _matches(v, filters)]
    chosen.sort(key=lambda v: (v.date, v.added_at, v.id), reverse=True)
    pinned: list[DocumentView] = []
    if not filters.any:
        pinned = [v for v in chosen if v.pinned]
        chosen = [v for v in chosen if not v.pinned]
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
