"""Advance directives (directives anticipées): on file, written with the guided form, uploaded,
downloaded.

They are documents of the documents area (category DIR_ANT, type EXPPAT_3, CI-SIS format
``urn:asip:ci-sis:idap:2011``), stored through ``documents.service.add_document`` so that they
get the same checks, visibility labels and index as every other document. One set is in force
at a time: a new one replaces it (``replaces``) only when the caller names the one in force,
which the portal does once the person has seen the warning that offers to download it first.
Adults only: a person under 18 (from ``Patient.birthDate``) is refused.
"""

from __future__ import annotations

import base64
import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import orjson
from sqlalchemy import Connection

from carnet.documents import service as documents_service
from carnet.jobs.service import JobQueue
from carnet.record.errors import ResourceDeleted, ResourceNotFound
from carnet.record.service import Repository, StoredResource
from carnet.wishes.directives_pdf import Author, render_directives
from carnet.wishes.errors import (
    DirectivesNotFound,
    DirectivesReason,
    DirectivesRefused,
    InvalidDirectives,
    ReplacementNotConfirmed,
)
from carnet.wishes.schemas import (
    Act,
    Choice,
    DirectivesAnswers,
    DirectivesFile,
    DirectivesOnFile,
    Place,
    Sedation,
    Situation,
)

CATEGORY: Final = "DIR_ANT"
TYPE_CODE: Final = "EXPPAT_3"
FORMAT_CODE: Final = "urn:asip:ci-sis:idap:2011"
TITLE: Final = "Directives anticipées"
ADULT_AGE: Final = 18
TEXT_MAX: Final = 4000
TEXT_FIELDS: Final = (
    "context",
    "life_support_details",
    "acts_details",
    "place_details",
    "free_text",
)


def _birth_date(repo: Repository, patient_id: str) -> date | None:
    """The latest day the person can have been born on (a partial date: its last day)."""
    patient = orjson.loads(repo.read("Patient", patient_id).body)
    value = str(patient.get("birthDate") or "")
    try:
        if len(value) == 4:
            return date(int(value), 12, 31)
        if len(value) == 7:
            year, month = int(value[:4]), int(value[5:7])
            return date(year, month, calendar.monthrange(year, month)[1])
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def is_adult(repo: Repository, *, patient_id: str, today: date) -> bool:
    """Whether the person is 18 or over today (False when their birth date is unknown)."""
    born = _birth_date(repo, patient_id)
    if born is None:
        return False
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age >= ADULT_AGE


def require_adult(repo: Repository, *, patient_id: str, today: date) -> None:
    """DirectivesRefused unless the person is an adult."""
    born = _birth_date(repo, patient_id)
    if born is None:
        raise DirectivesRefused("birth-date-unknown")
    if not is_adult(repo, patient_id=patient_id, today=today):
        raise DirectivesRefused("minor")


def _is_directives(body: dict[str, Any]) -> bool:
    codings = (body.get("type") or {}).get("coding") or []
    return any(coding.get("code") == TYPE_CODE for coding in codings)


def _on_file(stored: StoredResource) -> DirectivesOnFile:
    body = orjson.loads(stored.body)
    created = ((body.get("content") or [{}])[0].get("attachment") or {}).get("creation", "")
    try:
        day: date | None = date.fromisoformat(str(created)[:10])
    except ValueError:
        day = None
    return DirectivesOnFile(stored.id, str(body.get("description") or TITLE), day)


def current_directives(repo: Repository, *, patient_id: str) -> DirectivesOnFile | None:
    """The advance directives in force (the newest current one), or None."""
    found = repo.search(
        "DocumentReference",
        [
            ("patient", f"Patient/{patient_id}"),
            ("type", TYPE_CODE),
            ("status", "current"),
            ("_sort", "-_lastUpdated"),
        ],
    )
    matches = [s for s in found.matches if _is_directives(orjson.loads(s.body))]
    return _on_file(matches[0]) if matches else None


def _choice(
    values: Mapping[str, str], name: str, kind: Any, default: Any, problems: list[Any]
) -> Any:
    raw = values.get(name, "")
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        problems.append((name, "bad-choice"))
        return default


def answers_from_form(values: Mapping[str, str]) -> DirectivesAnswers:
    """The guided form's fields as answers, or InvalidDirectives listing every problem.

    Fields: ``situation`` (required), ``life_support``, ``sedation``, ``place``, one
    ``acte-<act>`` per act (choices; not given = no opinion), and the free texts
    ``TEXT_FIELDS`` (at most ``TEXT_MAX`` characters each).
    """
    problems: list[tuple[str, DirectivesReason]] = []
    situation = _choice(values, "situation", Situation, None, problems)
    if situation is None and not any(field == "situation" for field, _ in problems):
        problems.append(("situation", "missing"))
    texts = {name: values.get(name, "").strip() for name in TEXT_FIELDS}
    problems += [(name, "too-long") for name, text in texts.items() if len(text) > TEXT_MAX]
    acts = {
        act: _choice(values, f"acte-{act.value}", Choice, Choice.UNDECIDED, problems) for act in Act
    }
    life_support = _choice(values, "life_support", Choice, Choice.UNDECIDED, problems)
    sedation = _choice(values, "sedation", Sedation, Sedation.UNDECIDED, problems)
    place = _choice(values, "place", Place, Place.NO_PREFERENCE, problems)
    if problems:
        raise InvalidDirectives(tuple(problems))
    return DirectivesAnswers(
        situation=situation,
        life_support=life_support,
        sedation=sedation,
        acts=acts,
        place=place,
        **texts,
    )


def _author(repo: Repository, patient_id: str) -> Author:
    patient = orjson.loads(repo.read("Patient", patient_id).body)
    names = patient.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    return Author(
        given_names=" ".join(name.get("given") or []),
        family_name=str(name.get("family") or ""),
        birth_date=_birth_date(repo, patient_id),
    )


def _replacing(repo: Repository, patient_id: str, replaces: str | None) -> str | None:
    """The id of the directives a new one replaces; ReplacementNotConfirmed when some are in
    force and the caller did not name them."""
    current = current_directives(repo, patient_id=patient_id)
    if current is None:
        return None
    if replaces != current.id:
        raise ReplacementNotConfirmed(current.id)
    return current.id


def write_directives(
    repo: Repository,
    *,
    db: Connection,
    patient_id: str,
    answers: DirectivesAnswers,
    today: date,
    replaces: str | None = None,
    jobs: JobQueue | None = None,
) -> DirectivesOnFile:
    """The guided form's answers as a PDF, stored as the directives in force."""
    require_adult(repo, patient_id=patient_id, today=today)
    old = _replacing(repo, patient_id, replaces)
    pdf = render_directives(_author(repo, patient_id), answers, today=today)
    stored = _Stored(patient_id, pdf, "directives-anticipees.pdf", today, old)
    return _store(repo, db, stored, jobs)


def upload_directives(
    repo: Repository,
    *,
    db: Connection,
    patient_id: str,
    content: bytes,
    filename: str,
    document_date: date,
    today: date,
    replaces: str | None = None,
    jobs: JobQueue | None = None,
) -> DirectivesOnFile:
    """An uploaded document stored as the directives in force (the documents area checks the
    file and raises its own errors)."""
    require_adult(repo, patient_id=patient_id, today=today)
    old = _replacing(repo, patient_id, replaces)
    return _store(repo, db, _Stored(patient_id, content, filename, document_date, old), jobs)


@dataclass(frozen=True, slots=True)
class _Stored:
    """What to store as the directives in force."""

    patient_id: str
    content: bytes
    filename: str
    document_date: date
    replaces: str | None


def _store(
    repo: Repository, db: Connection, new: _Stored, jobs: JobQueue | None
) -> DirectivesOnFile:
    view = documents_service.add_document(
        repo,
        db=db,
        patient_id=new.patient_id,
        content=new.content,
        filename=new.filename,
        title=TITLE,
        category=CATEGORY,
        document_date=new.document_date,
        type_code=TYPE_CODE,
        format_code=FORMAT_CODE,
        replaces=new.replaces,
        jobs=jobs,
    )
    return DirectivesOnFile(view.id, view.title, view.date)


def directives_file(repo: Repository, *, patient_id: str, document_id: str) -> DirectivesFile:
    """The bytes of advance directives of this space (current or replaced), for download."""
    try:
        stored = repo.read("DocumentReference", document_id)
        body = orjson.loads(stored.body)
        if stored.patient_id != patient_id or not _is_directives(body):
            raise DirectivesNotFound
        attachment = (body.get("content") or [{}])[0].get("attachment") or {}
        url = str(attachment.get("url") or "")
        data = attachment.get("data")
        if data is None and url.startswith("Binary/"):
            data = orjson.loads(repo.read("Binary", url.removeprefix("Binary/")).body).get("data")
    except (ResourceNotFound, ResourceDeleted):
        raise DirectivesNotFound from None
    if not data:
        raise DirectivesNotFound
    content_type = str(attachment.get("contentType") or "application/octet-stream")
    extension = {
        "application/pdf": "pdf",
        "image/jpeg": "jpg",
        "image/tiff": "tif",
        "text/plain": "txt",
        "application/rtf": "rtf",
    }.get(content_type, "bin")
    return DirectivesFile(
        base64.b64decode(data), content_type, f"directives-anticipees.{extension}"
    )
