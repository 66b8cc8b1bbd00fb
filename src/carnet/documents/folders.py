"""Folders ("dossiers"): FHIR Lists of the patient's documents, coded ``folder``.

A document sits in at most one folder: moving it takes it out of the one it was in. Deleting a
folder leaves its documents in place, in no folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from carnet.core.clock import utcnow
from carnet.documents import errors, resources, store
from carnet.documents.schemas import FolderView
from carnet.record.service import Repository

MAX_NAME: Final = 80


def list_folders(repo: Repository, *, patient_id: str) -> list[FolderView]:
    """The patient's folders, by name."""
    bodies = store.all_of(repo, "List", patient_id)
    folders = [resources.folder_view(b) for b in bodies if resources.is_folder(b)]
    return sorted(folders, key=lambda f: (f.name.casefold(), f.id))


def folder_index(folders: Sequence[FolderView]) -> dict[str, str]:
    """Document id → the id of the folder it is in."""
    return {doc: folder.id for folder in folders for doc in folder.document_ids}


def create_folder(repo: Repository, *, patient_id: str, name: str) -> FolderView:
    """A new, empty folder."""
    body = resources.folder(patient_id=patient_id, name=_checked(name), now=utcnow())
    stored = repo.create(body)
    return FolderView(id=stored.id, name=str(body["title"]))


def rename_folder(repo: Repository, *, patient_id: str, folder_id: str, name: str) -> FolderView:
    body = _folder(repo, patient_id, folder_id)
    body["title"] = _checked(name)
    return resources.folder_view(store.save(repo, body))


def delete_folder(repo: Repository, *, patient_id: str, folder_id: str) -> None:
    """Delete the folder; its documents stay, in no folder."""
    _folder(repo, patient_id, folder_id)
    store.remove(repo, "List", folder_id)


def move_documents(
    repo: Repository, *, patient_id: str, document_ids: Sequence[str], folder_id: str | None
) -> None:
    """Put documents in a folder (``None``: in no folder), out of any other one."""
    moving = set(document_ids)
    target = _folder(repo, patient_id, folder_id) if folder_id else None
    for other in store.all_of(repo, "List", patient_id):
        if not resources.is_folder(other) or other["id"] == folder_id:
            continue
        kept = [e for e in other.get("entry") or [] if _doc(e) not in moving]
        if len(kept) != len(other.get("entry") or []):
            _set_entries(other, kept)
            store.save(repo, other)
    if target is not None:
        present = {_doc(e) for e in target.get("entry") or []}
        for document_id in document_ids:
            # Only documents the actor may see go in (a refused one reads as not found).
            store.load(repo, "DocumentReference", document_id)
            if document_id not in present:
                target.setdefault("entry", []).append(
                    {"item": {"reference": f"DocumentReference/{document_id}"}}
                )
        store.save(repo, target)


def _doc(entry: dict[str, Any]) -> str:
    item = entry.get("item")
    reference = str(item.get("reference", "")) if isinstance(item, dict) else ""
    return reference.partition("/")[2]


def _set_entries(body: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    if entries:
        body["entry"] = entries
    else:
        body.pop("entry", None)


def _folder(repo: Repository, patient_id: str, folder_id: str) -> dict[str, Any]:
    body = store.load(repo, "List", folder_id)
    subject = body.get("subject") or {}
    if not resources.is_folder(body) or subject.get("reference") != f"Patient/{patient_id}":
        raise errors.FolderNotFound
    return body


def _checked(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise errors.InvalidFolderName
    return name
