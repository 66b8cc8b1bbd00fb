"""FHIR shapes of the documents area: DocumentReference + Binary for a document, List for a
folder, and reading them back into ``schemas`` values (pure functions, no data access).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any, Final

from carnet.documents.categories import CATEGORIES, CATEGORY_SYSTEM, OTHER, category_of_type
from carnet.documents.schemas import AuthorKind, Capabilities, DocumentView, FolderView

TRE_A07: Final = "urn:oid:1.2.250.1.213.1.1.4.13"
CONFIDENTIALITY: Final = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
FLAG_SYSTEM: Final = "https://carnet.example/fhir/CodeSystem/document-flag"
LIST_CODE_SYSTEM: Final = "https://carnet.example/fhir/CodeSystem/document-list"
FORMAT_SYSTEM: Final = "urn:oid:1.3.6.1.4.1.19376.1.2.3"
MASQUE_PS: Final = "MASQUE_PS"
INVISIBLE_PATIENT: Final = "INVISIBLE_PATIENT"
PINNED: Final = "pinned"
RELEASED: Final = "released-to-patient"
"""Set when an author lifts ``INVISIBLE_PATIENT``: the document may not be hidden again."""
_AUTHOR_KINDS: Final[dict[str, AuthorKind]] = {
    "Patient": "patient",
    "RelatedPerson": "patient",
    "Practitioner": "professional",
    "PractitionerRole": "professional",
    "Organization": "organisation",
    "Device": "device",
}


def security_labels(*, masked: bool, hidden: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """``meta.security``: the confidentiality (N) and the visibility codes (TRE_A07)."""
    labels = [{"system": CONFIDENTIALITY, "code": "N"}]
    codes = set(hidden) | ({MASQUE_PS} if masked else set())
    labels += [{"system": TRE_A07, "code": code} for code in sorted(codes)]
    return labels


def binary(
    *, patient_id: str, content: bytes, content_type: str, labels: list[dict[str, str]]
) -> dict[str, Any]:
    """The Binary holding the original bytes, in the patient's keeping (``securityContext``)."""
    return {
        "resourceType": "Binary",
        "meta": {"security": labels},
        "contentType": content_type,
        "securityContext": {"reference": f"Patient/{patient_id}"},
        "data": base64.b64encode(content).decode("ascii"),
    }


def document_reference(
    *,
    patient_id: str,
    author: str,
    binary_id: str,
    content: bytes,
    content_type: str,
    title: str,
    category: str,
    type_coding: dict[str, str],
    format_code: str | None,
    document_date: dt.date,
    now: dt.datetime,
    labels: list[dict[str, str]],
    replaces: str | None = None,
) -> dict[str, Any]:
    """A document's DocumentReference (its content is the Binary ``binary_id``)."""
    attachment = {
        "contentType": content_type,
        "url": f"Binary/{binary_id}",
        "size": len(content),
        "hash": base64.b64encode(hashlib.sha1(content).digest()).decode("ascii"),  # noqa: S324 - FHIR's attachment hash is SHA-1
        "title": title,
        "creation": document_date.isoformat(),
    }
    entry: dict[str, Any] = {"attachment": attachment}
    if format_code:
        entry["format"] = {"system": FORMAT_SYSTEM, "code": format_code}
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "meta": {"security": labels},
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [type_coding]},
        "category": [
            {
                "coding": [
                    {"system": CATEGORY_SYSTEM, "code": category, "display": CATEGORIES[category]}
                ]
            }
        ],
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "author": [{"reference": author}],
        "description": title,
        "securityLabel": [{"coding": [label]} for label in labels],
        "content": [entry],
        # The document's date as a closed one-day period: the timeline sorts on it in SQL (an
        # open-ended period would sort as if it never ended).
        "context": {
            "period": {"start": document_date.isoformat(), "end": document_date.isoformat()}
        },
    }
    if replaces:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{replaces}"}}
        ]
    return resource


def set_labels(resource: dict[str, Any], labels: list[dict[str, str]]) -> None:
    """Replace a resource's visibility labels (and the DocumentReference's mirror of them)."""
    resource.setdefault("meta", {})["security"] = labels
    if resource.get("resourceType") == "DocumentReference":
        resource["securityLabel"] = [{"coding": [label]} for label in labels]


def codes(resource: dict[str, Any], element: str) -> set[str]:
    """The codes in ``meta.security`` or ``meta.tag``."""
    meta = resource.get("meta") or {}
    return {c.get("code", "") for c in meta.get(element) or [] if isinstance(c, dict)}


def set_flag(resource: dict[str, Any], flag: str, *, on: bool) -> None:
    """Add or remove one of our flags (``meta.tag``)."""
    meta = resource.setdefault("meta", {})
    tags = [
        t
        for t in meta.get("tag") or []
        if not (t.get("system") == FLAG_SYSTEM and t.get("code") == flag)
    ]
    if on:
        tags.append({"system": FLAG_SYSTEM, "code": flag})
    if tags:
        meta["tag"] = tags
    else:
        meta.pop("tag", None)


def author_kind(reference: str) -> AuthorKind:
    return _AUTHOR_KINDS.get(reference.partition("/")[0], "system")


def capabilities(kind: AuthorKind) -> Capabilities:
    """What the person may change: everything on their own deposits, only the visibility of
    anyone else's."""
    own = kind == "patient"
    return Capabilities(
        can_owner_delete=own,
        can_update_category=own,
        can_update_title=own,
        can_update_created_at=own,
        can_update_confidentiality_only=not own,
    )


def view(body: dict[str, Any], *, folder_id: str | None, replaced_by: str | None) -> DocumentView:
    """A stored DocumentReference as the person sees it."""
    entry = (body.get("content") or [{}])[0]
    attachment = entry.get("attachment") or {}
    coding = ((body.get("type") or {}).get("coding") or [{}])[0]
    author = ((body.get("author") or [{}])[0]).get("reference", "")
    kind = author_kind(author)
    category = _category(body, coding)
    relates = [r for r in body.get("relatesTo") or [] if r.get("code") == "replaces"]
    replaces = relates[0]["target"]["reference"].partition("/")[2] if relates else None
    return DocumentView(
        id=str(body["id"]),
        title=str(body.get("description") or attachment.get("title") or ""),
        category=category,
        date=_date(_period_start(body) or attachment.get("creation") or body.get("date")),
        added_at=_instant(body.get("date")),
        author_kind=kind,
        author_reference=author,
        type_code=str(coding.get("code", "")),
        type_display=str(coding.get("display", "")),
        content_type=str(attachment.get("contentType", "")),
        size=int(attachment.get("size") or 0),
        masked=MASQUE_PS in codes(body, "security"),
        pinned=PINNED in codes(body, "tag"),
        status=str(body.get("status", "current")),
        folder_id=folder_id,
        replaces=replaces,
        replaced_by=replaced_by,
        binary_id=str(attachment.get("url", "")).partition("/")[2],
        capabilities=capabilities(kind),
    )


def _category(body: dict[str, Any], type_coding: dict[str, Any]) -> str:
    for concept in body.get("category") or []:
        for coding in concept.get("coding") or []:
            if coding.get("system") == CATEGORY_SYSTEM and coding.get("code") in CATEGORIES:
                return str(coding["code"])
    if type_coding.get("code"):
        return category_of_type(type_coding.get("code"), type_coding.get("system"))
    return OTHER


def _period_start(body: dict[str, Any]) -> Any:
    """The document's date as the timeline sorts and filters it: its period's start."""
    return ((body.get("context") or {}).get("period") or {}).get("start")


def _date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return dt.date(1970, 1, 1)


def _instant(value: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def folder(
    *, patient_id: str, name: str, now: dt.datetime, entries: list[str] | None = None
) -> dict[str, Any]:
    """A folder: a List of the patient's documents, coded ``folder``."""
    resource: dict[str, Any] = {
        "resourceType": "List",
        "status": "current",
        "mode": "working",
        "title": name,
        "code": {"coding": [{"system": LIST_CODE_SYSTEM, "code": "folder"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if entries:
        resource["entry"] = [{"item": {"reference": f"DocumentReference/{d}"}} for d in entries]
    return resource


def folder_view(body: dict[str, Any]) -> FolderView:
    ids = tuple(
        str(e["item"]["reference"]).partition("/")[2]
        for e in body.get("entry") or []
        if str((e.get("item") or {}).get("reference", "")).startswith("DocumentReference/")
    )
    return FolderView(id=str(body["id"]), name=str(body.get("title", "")), document_ids=ids)


def is_folder(body: dict[str, Any]) -> bool:
    return any(
        c.get("system") == LIST_CODE_SYSTEM and c.get("code") == "folder"
        for c in (body.get("code") or {}).get("coding") or []
    )
