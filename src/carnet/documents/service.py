"""Public face of the documents area: adding, listing, reading, masking, deleting documents;
folders, pins and the default confidentiality (``folders``, ``preferences``).

Every function is keyword-only, takes the Repository of the person acting first, and never
commits: the caller owns the transaction. The record decides and audits every read and write;
the rules of this area sit above it (the patient deletes only what they added; a
professional's document may only be masked or unmasked).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Connection

from carnet.core.clock import utcnow
from carnet.documents import errors, resources, store
from carnet.documents.categories import (
    CATEGORIES,
    CATEGORY_SYSTEM,
    PATIENT_TYPE_CODES,
    category_of_type,
    find_type,
)
from carnet.documents.checks import ACCEPT, DEFAULT_MAX_BYTES, check_upload
from carnet.documents.folders import (
    create_folder,
    delete_folder,
    list_folders,
    move_documents,
    rename_folder,
)
from carnet.documents.labels import relabel, release_to_patient, withhold_from_patient
from carnet.documents.listing import document_detail, list_documents
from carnet.documents.preferences import get_default_masked, set_default_masked
from carnet.documents.schemas import DocumentContent, DocumentView
from carnet.jobs.service import JobQueue
from carnet.record.service import Repository

__all__ = [
    "ACCEPT",
    "CATEGORIES",
    "DEFAULT_MAX_BYTES",
    "INDEX_JOB",
    "MAX_BULK_DELETE",
    "add_document",
    "add_professional_document",
    "create_folder",
    "delete_documents",
    "delete_folder",
    "document_detail",
    "get_default_masked",
    "list_documents",
    "list_folders",
    "move_documents",
    "read_content",
    "release_to_patient",
    "rename_folder",
    "set_default_masked",
    "set_pinned",
    "set_visibility",
    "update_details",
    "withhold_from_patient",
]

INDEX_JOB: Final = "record:index-document"
MAX_BULK_DELETE: Final = 10
MAX_TITLE: Final = 200


def add_document(
    repo: Repository,
    *,
    db: Connection | None = None,
    patient_id: str,
    content: bytes,
    filename: str,
    title: str,
    category: str,
    document_date: dt.date,
    masked: bool | None = None,
    folder_id: str | None = None,
    type_code: str | None = None,
    format_code: str | None = None,
    replaces: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    jobs: JobQueue | None = None,
) -> DocumentView:
    """Check the upload, then store it as Binary + DocumentReference authored by the patient.

    ``masked=None`` applies the person's default confidentiality; ``type_code`` overrides the
    category's patient type code (``DOCPAT0x``/``EXPPAT_x``); ``replaces`` names the patient's
    own document this one replaces (it is then marked superseded). With ``jobs`` and ``db``
    (the caller's transaction), the text index job is enqueued with the write. Raises a
    ``DocumentRefused`` subclass, with nothing written, on bad input.
    """
    title = _checked_title(title)
    if category not in CATEGORIES:
        raise errors.InvalidCategory
    _check_date(document_date)
    checked = check_upload(content, filename, max_bytes=max_bytes)
    old = _replaceable(repo, replaces) if replaces else None
    if masked is None:
        masked = get_default_masked(repo, patient_id=patient_id)
    code, system = PATIENT_TYPE_CODES[category]
    if type_code:
        known = find_type(type_code)
        code, system = type_code, known.system if known else system
    known = find_type(code, system)
    coding = {"system": system, "code": code, "display": known.display if known else code}
    view = _store(
        repo,
        patient_id=patient_id,
        author=f"Patient/{patient_id}",
        content=content,
        content_type=checked.content_type,
        title=title,
        category=category,
        coding=coding,
        format_code=format_code or checked.kind.format_code,
        document_date=document_date,
        labels=resources.security_labels(masked=masked),
        replaces=replaces,
    )
    if old is not None:
        old["status"] = "superseded"
        store.save(repo, old)
    if folder_id:
        move_documents(repo, patient_id=patient_id, document_ids=[view.id], folder_id=folder_id)
    if jobs is not None and db is not None:  # the job joins the caller's transaction
        jobs.enqueue(db, kind=INDEX_JOB, payload={"patient": patient_id, "document": view.id})
    return document_detail(repo, patient_id=patient_id, document_id=view.id)


def add_professional_document(
    repo: Repository,
    *,
    db: Connection | None = None,
    patient_id: str,
    author: str,
    content: bytes,
    filename: str,
    title: str,
    type_code: str,
    type_system: str | None,
    document_date: dt.date,
    masked: bool = False,
    invisible_to_patient: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    jobs: JobQueue | None = None,
) -> DocumentView:
    """A document deposited by a professional (``author``: ``Practitioner/…``,
    ``Organization/…``), classified from its type code; it may be held back from the patient
    (``INVISIBLE_PATIENT``) until its author releases it (``release_to_patient``)."""
    title = _checked_title(title)
    _check_date(document_date)
    checked = check_upload(content, filename, max_bytes=max_bytes)
    known = find_type(type_code, type_system)
    system = known.system if known else (type_system or "")
    coding = {"system": system, "code": type_code, "display": known.display if known else type_code}
    hidden = frozenset({resources.INVISIBLE_PATIENT}) if invisible_to_patient else frozenset()
    view = _store(
        repo,
        patient_id=patient_id,
        author=author,
        content=content,
        content_type=checked.content_type,
        title=title,
        category=category_of_type(type_code, type_system),
        coding=coding,
        format_code=checked.kind.format_code,
        document_date=document_date,
        labels=resources.security_labels(masked=masked, hidden=hidden),
        replaces=None,
    )
    if jobs is not None and db is not None:  # the job joins the caller's transaction
        jobs.enqueue(db, kind=INDEX_JOB, payload={"patient": patient_id, "document": view.id})
    return view


def _store(
    repo: Repository,
    *,
    patient_id: str,
    author: str,
    content: bytes,
    content_type: str,
    title: str,
    category: str,
    coding: dict[str, str],
    format_code: str,
    document_date: dt.date,
    labels: list[dict[str, str]],
    replaces: str | None,
) -> DocumentView:
    """Binary first (the reference needs its id), then the DocumentReference."""
    blob = repo.create(
        resources.binary(
            patient_id=patient_id, content=content, content_type=content_type, labels=labels
        )
    )
    reference = resources.document_reference(
        patient_id=patient_id,
        author=author,
        binary_id=blob.id,
        content=content,
        content_type=content_type,
        title=title,
        category=category,
        type_coding=coding,
        format_code=format_code,
        document_date=document_date,
        now=utcnow(),
        labels=labels,
        replaces=replaces,
    )
    stored = repo.create(reference)
    body: dict[str, Any] = {**reference, "id": stored.id}
    return resources.view(body, folder_id=None, replaced_by=None)


def read_content(repo: Repository, *, patient_id: str, document_id: str) -> DocumentContent:
    """The document's original bytes, byte for byte, with their media type."""
    body = _document(repo, patient_id, document_id)
    view = resources.view(body, folder_id=None, replaced_by=None)
    binary = store.load(repo, "Binary", view.binary_id)
    data = base64.b64decode(binary.get("data", ""))
    extension = _EXTENSIONS.get(view.content_type.partition(";")[0], "bin")
    filename = f"document-{view.date.isoformat()}.{extension}"
    return DocumentContent(data=data, content_type=view.content_type, filename=filename)


_EXTENSIONS: Final = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/rtf": "rtf",
    "image/jpeg": "jpg",
    "image/tiff": "tif",
    "text/xml": "xml",
    "application/xml": "xml",
}


def set_visibility(
    repo: Repository, *, patient_id: str, document_id: str, masked: bool
) -> DocumentView:
    """Mask the document from professionals (``MASQUE_PS``) or unmask it: the one change
    allowed on anyone's document. Its Binary carries the same labels."""
    body = _document(repo, patient_id, document_id)
    hidden = resources.codes(body, "security") - {resources.MASQUE_PS, "N", "R", "V"}
    relabel(repo, body, resources.security_labels(masked=masked, hidden=frozenset(hidden)))
    return document_detail(repo, patient_id=patient_id, document_id=document_id)


def set_pinned(
    repo: Repository, *, patient_id: str, document_id: str, pinned: bool
) -> DocumentView:
    """Pin the document at the top of the list, or unpin it."""
    body = _document(repo, patient_id, document_id)
    resources.set_flag(body, resources.PINNED, on=pinned)
    store.save(repo, body)
    return document_detail(repo, patient_id=patient_id, document_id=document_id)


def update_details(
    repo: Repository,
    *,
    patient_id: str,
    document_id: str,
    title: str,
    category: str,
    document_date: dt.date,
) -> DocumentView:
    """Change the title, category and date of a document the patient added (refused on
    anyone else's: ``ProfessionalDocument``)."""
    body = _document(repo, patient_id, document_id)
    _require_own(body)
    title = _checked_title(title)
    if category not in CATEGORIES:
        raise errors.InvalidCategory
    _check_date(document_date)
    code, system = PATIENT_TYPE_CODES[category]
    known = find_type(code, system)
    body["description"] = title
    body["category"] = [
        {
            "coding": [
                {
                    "system": CATEGORY_SYSTEM,
                    "code": category,
                    "display": CATEGORIES[category],
                }
            ]
        }
    ]
    body["type"] = {
        "coding": [{"system": system, "code": code, "display": known.display if known else code}]
    }
    attachment = body["content"][0]["attachment"]
    attachment["title"], attachment["creation"] = title, document_date.isoformat()
    body["context"] = {
        **(body.get("context") or {}),
        "period": {"start": document_date.isoformat(), "end": document_date.isoformat()},
    }
    store.save(repo, body)
    return document_detail(repo, patient_id=patient_id, document_id=document_id)


def delete_documents(repo: Repository, *, patient_id: str, document_ids: Sequence[str]) -> int:
    """Delete, for good, documents the patient added (at most ten at once). The whole request
    is refused, with nothing deleted, if one of them may not be (``TooManyDocuments``,
    ``ProfessionalDocument``, ``DocumentNotFound``). Returns how many were deleted."""
    wanted = list(dict.fromkeys(document_ids))
    if len(wanted) > MAX_BULK_DELETE:
        raise errors.TooManyDocuments
    bodies = [_document(repo, patient_id, document_id) for document_id in wanted]
    for body in bodies:
        _require_own(body)
    if wanted:
        move_documents(repo, patient_id=patient_id, document_ids=wanted, folder_id=None)
    for body in bodies:
        view = resources.view(body, folder_id=None, replaced_by=None)
        store.remove(repo, "DocumentReference", view.id)
        if view.binary_id:
            store.remove(repo, "Binary", view.binary_id)
    return len(bodies)


# --- steps ---------------------------------------------------------------------------------


def _document(repo: Repository, patient_id: str, document_id: str) -> dict[str, Any]:
    body = store.load(repo, "DocumentReference", document_id)
    if (body.get("subject") or {}).get("reference") != f"Patient/{patient_id}":
        raise errors.DocumentNotFound
    return body


def _require_own(body: dict[str, Any]) -> None:
    author = ((body.get("author") or [{}])[0]).get("reference", "")
    if not resources.capabilities(resources.author_kind(author)).can_owner_delete:
        raise errors.ProfessionalDocument


def _replaceable(repo: Repository, document_id: str) -> dict[str, Any]:
    body = store.load(repo, "DocumentReference", document_id)
    _require_own(body)
    return body


def _checked_title(title: str) -> str:
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise errors.InvalidTitle
    return title


def _check_date(document_date: dt.date) -> None:
    if document_date > utcnow().date() + dt.timedelta(days=1):
        raise errors.InvalidDocumentDate
