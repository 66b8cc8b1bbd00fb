"""Visibility labels of a document and its Binary; the author's hold on a document the patient
may not see yet (``INVISIBLE_PATIENT``), lifted once and for good.
"""

from __future__ import annotations

from typing import Any, Final

from carnet.core.actor import ActorKind
from carnet.documents import errors, resources, store
from carnet.record.service import Repository

_PATIENT_SIDE: Final = frozenset({ActorKind.PATIENT, ActorKind.REPRESENTATIVE, ActorKind.CAREGIVER})


def relabel(repo: Repository, body: dict[str, Any], labels: list[dict[str, str]]) -> None:
    """New labels on the DocumentReference and on its Binary (whose content is sent again:
    the record keeps a Binary's bytes with each version)."""
    view = resources.view(body, folder_id=None, replaced_by=None)
    if view.binary_id:
        binary = store.load(repo, "Binary", view.binary_id)
        resources.set_labels(binary, labels)
        store.save(repo, binary)
    resources.set_labels(body, labels)
    store.save(repo, body)


def release_to_patient(repo: Repository, *, document_id: str) -> None:
    """Lift ``INVISIBLE_PATIENT`` (its author, after the consultation d'annonce): the patient
    sees the document from now on, and it can no longer be hidden from them."""
    if repo.ctx.actor.kind in _PATIENT_SIDE:
        raise errors.NotAuthor
    body = store.load(repo, "DocumentReference", document_id)
    _require_author(repo, body)
    current = resources.codes(body, "security")
    hidden = frozenset(current - {resources.INVISIBLE_PATIENT, resources.MASQUE_PS, "N", "R", "V"})
    resources.set_flag(body, resources.RELEASED, on=True)
    relabel(
        repo, body, resources.security_labels(masked=resources.MASQUE_PS in current, hidden=hidden)
    )


def withhold_from_patient(repo: Repository, *, document_id: str) -> None:
    """Hide a document from the patient (``INVISIBLE_PATIENT``), as its author may before
    releasing it; refused once it was released (``AlreadyReleased``)."""
    body = store.load(repo, "DocumentReference", document_id)
    _require_author(repo, body)
    if resources.RELEASED in resources.codes(body, "tag"):
        raise errors.AlreadyReleased
    current = resources.codes(body, "security")
    hidden = frozenset(
        (current - {resources.MASQUE_PS, "N", "R", "V"}) | {resources.INVISIBLE_PATIENT}
    )
    relabel(
        repo, body, resources.security_labels(masked=resources.MASQUE_PS in current, hidden=hidden)
    )


def _require_author(repo: Repository, body: dict[str, Any]) -> None:
    """Carnet itself, or the professional who wrote the document; never the patient's side."""
    actor = repo.ctx.actor
    if actor.kind is ActorKind.SYSTEM:
        return
    author = ((body.get("author") or [{}])[0]).get("reference", "")
    if actor.kind in _PATIENT_SIDE or author.partition("/")[2] != actor.id:
        raise errors.NotAuthor
