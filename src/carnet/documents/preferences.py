"""The person's default confidentiality for new documents: all visible to professionals, or
all masked (``MASQUE_PS``) when added.

Kept as a FHIR ``Basic`` resource in the patient's compartment (code ``documents-default-
confidentiality`` of our flag system, an extension carrying the boolean) rather than in a table
of our own: it is the patient's choice about their health data, so it goes where the record
keeps such choices — encrypted with the patient's key, audited on every read and write, part of
their export and of ``$everything``, erased with their space — and it needs no migration.
"""

from __future__ import annotations

from typing import Any, Final

from carnet.core.clock import utcnow
from carnet.documents import resources, store
from carnet.record.service import Repository

PREFERENCE_CODE: Final = "documents-default-confidentiality"
MASKED_EXTENSION: Final = (
    "https://carnet.example/fhir/StructureDefinition/documents-masked-by-default"
)


def _find(repo: Repository, patient_id: str) -> dict[str, Any] | None:
    extra = (("code", f"{resources.FLAG_SYSTEM}|{PREFERENCE_CODE}"),)
    found = store.all_of(repo, "Basic", patient_id, extra)
    return found[0] if found else None


def get_default_masked(repo: Repository, *, patient_id: str) -> bool:
    """Whether new documents are masked from professionals unless said otherwise."""
    body = _find(repo, patient_id)
    if body is None:
        return False
    for extension in body.get("extension") or []:
        if extension.get("url") == MASKED_EXTENSION:
            return bool(extension.get("valueBoolean"))
    return False


def set_default_masked(repo: Repository, *, patient_id: str, masked: bool) -> None:
    """Record the choice; it applies to the documents added from now on."""
    body = _find(repo, patient_id)
    extension = [{"url": MASKED_EXTENSION, "valueBoolean": masked}]
    if body is None:
        repo.create(
            {
                "resourceType": "Basic",
                "code": {"coding": [{"system": resources.FLAG_SYSTEM, "code": PREFERENCE_CODE}]},
                "subject": {"reference": f"Patient/{patient_id}"},
                "created": utcnow().date().isoformat(),
                "extension": extension,
            }
        )
        return
    body["extension"] = extension
    store.save(repo, body)
