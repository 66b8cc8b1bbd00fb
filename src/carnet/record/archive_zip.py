"""Writing an archive's ZIP (``archives``): the README, the export's NDJSON streamed file by
file, then each original document, one at a time, from its Binary (or its inline data), read
through the repository as the person who asked."""

from __future__ import annotations

import base64
import zipfile
from typing import IO, TYPE_CHECKING, Any, Final

import orjson

from carnet.record.errors import ResourceNotFound
from carnet.record.schemas import ExportStatus

if TYPE_CHECKING:
    from carnet.record.repository import Repository

_EXTENSIONS: Final = {
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "application/rtf": ".rtf",
    "text/rtf": ".rtf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/hl7-cda+xml": ".xml",
}
README: Final = """\
Vos données de santé
====================

Cette archive contient l'ensemble de votre dossier, tel qu'il était au moment où vous l'avez
demandée.

fhir/
    Votre dossier au format FHIR R4 (norme internationale d'échange de données de santé), un
    fichier par type d'information (Patient.ndjson, DocumentReference.ndjson,
    Observation.ndjson...). Chaque ligne d'un fichier est une information complète, au format
    JSON. Ces fichiers peuvent être lus par un autre service de santé ou un logiciel compatible
    FHIR.

documents/
    Chaque document de votre dossier, exactement tel qu'il a été déposé (PDF, image, texte...).
    Le nom d'un fichier est l'identifiant de sa fiche dans DocumentReference.ndjson, où se
    trouvent son titre, sa date et sa catégorie.

Ces fichiers contiennent des informations de santé personnelles : conservez-les en lieu sûr et
ne les transmettez qu'aux personnes de votre choix.
"""


def write_zip(repo: Repository, status: ExportStatus, out: IO[bytes]) -> None:
    """Write the archive of a completed export into ``out``: README, NDJSON, documents."""
    documents: list[tuple[str, list[dict[str, Any]]]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr("README.txt", README.encode())
        seen: dict[str, int] = {}
        for entry in status.files:
            if entry.error:
                continue
            seen[entry.resource_type] = seen.get(entry.resource_type, 0) + 1
            suffix = "" if seen[entry.resource_type] == 1 else f"-{seen[entry.resource_type]}"
            name = f"fhir/{entry.resource_type}{suffix}.ndjson"
            download = repo.export_download(status.id, entry.id)
            with zf.open(name, "w", force_zip64=True) as member:
                for index in range(download.parts):
                    for line in repo.export_part(download, index):
                        member.write(line)
                        if entry.resource_type == "DocumentReference":
                            documents.append(_attachments(line))
        for document_id, attachments in documents:
            _write_documents(repo, zf, document_id, attachments)


def _attachments(line: bytes) -> tuple[str, list[dict[str, Any]]]:
    """A DocumentReference's id and its attachments' references (url, inline flag, type): the
    data itself is read later, one document at a time."""
    resource = orjson.loads(line)
    found = []
    for content in resource.get("content") or ():
        attachment = content.get("attachment") or {}
        found.append(
            {
                "url": attachment.get("url"),
                "inline": "data" in attachment,
                "type": attachment.get("contentType"),
            }
        )
    return str(resource.get("id")), found


def _write_documents(
    repo: Repository, zf: zipfile.ZipFile, document_id: str, attachments: list[dict[str, Any]]
) -> None:
    for position, attachment in enumerate(attachments, start=1):
        data, content_type = _content(repo, document_id, attachment)
        if data is None:
            continue
        extension = _EXTENSIONS.get((content_type or "").split(";")[0].strip().lower(), ".bin")
        suffix = "" if position == 1 else f"-{position}"
        zf.writestr(f"documents/{document_id}{suffix}{extension}", data)


def _content(
    repo: Repository, document_id: str, attachment: dict[str, Any]
) -> tuple[bytes | None, str | None]:
    """The original bytes of one attachment: inline data, or its Binary read as the person."""
    if attachment["inline"]:
        body = orjson.loads(repo.read("DocumentReference", document_id).body)
        for content in body.get("content") or ():
            inline = (content.get("attachment") or {}).get("data")
            if inline:
                return base64.b64decode(inline), attachment["type"]
        return None, None
    binary_id = _binary_id(attachment.get("url"))
    if binary_id is None:
        return None, None
    try:
        binary = orjson.loads(repo.read("Binary", binary_id).body)
    except ResourceNotFound:
        return None, None  # held back from the person, or gone: not in the archive either
    return base64.b64decode(binary.get("data") or ""), binary.get("contentType") or attachment[
        "type"
    ]


def _binary_id(url: object) -> str | None:
    """``Binary/<id>`` (relative, or at the end of an absolute URL)."""
    if not isinstance(url, str):
        return None
    parts = url.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "Binary" and parts[-1]:
        return parts[-1]
    return None
