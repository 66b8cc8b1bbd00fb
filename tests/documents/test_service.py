"""The documents service on a real database: add, list, read back, mask, delete, replace,
folders, pins, default confidentiality, and the professional's documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from tests.documents import files
from tests.documents.conftest import Space

from carnet.documents import errors
from carnet.documents import service as documents
from carnet.documents.schemas import DocumentFilters, DocumentView
from carnet.jobs.service import JobQueue
from carnet.record.errors import ResourceDeleted, ResourceNotFound
from carnet.runtime import Runtime

DAY = dt.date(2026, 3, 4)


def add(space: Space, title: str = "Ordonnance", **kwargs: Any) -> DocumentView:
    values: dict[str, object] = {
        "content": files.pdf(),
        "filename": "ordonnance.pdf",
        "title": title,
        "category": "ORD_SOIN",
        "document_date": DAY,
    }
    values.update(kwargs)
    return documents.add_document(
        space.repo,
        db=space.db,
        patient_id=space.patient_id,
        **values,  # type: ignore[arg-type]
    )


def pro_document(space: Space, **kwargs: object) -> DocumentView:
    values: dict[str, object] = {
        "author": "Practitioner/dr-house",
        "content": files.pdf(),
        "filename": "cr.pdf",
        "title": "Compte rendu de biologie",
        "type_code": "11502-2",
        "type_system": "http://loinc.org",
        "document_date": DAY,
    }
    values.update(kwargs)
    return documents.add_professional_document(
        space.carnet,
        db=space.db,
        patient_id=space.patient_id,
        **values,  # type: ignore[arg-type]
    )


def count_documents(space: Space) -> int:
    return documents.list_documents(space.repo, patient_id=space.patient_id).total


def test_an_upload_is_stored_as_binary_and_document_reference(space: Space) -> None:
    content = files.image("JPEG")
    view = add(space, "Radio du genou", content=content, filename="genou.JPG", category="RADIO_SC")
    assert (view.title, view.category, view.date) == ("Radio du genou", "RADIO_SC", DAY)
    assert view.type_code == "DOCPAT04" and view.author_kind == "patient"
    assert (
        view.capabilities.can_owner_delete and not view.capabilities.can_update_confidentiality_only
    )
    body = orjson.loads(space.repo.read("DocumentReference", view.id).body)
    assert body["status"] == "current" and body["subject"]["reference"].endswith(space.patient_id)
    attachment = body["content"][0]["attachment"]
    assert attachment["contentType"] == "image/jpeg" and attachment["size"] == len(content)
    assert attachment["url"] == f"Binary/{view.binary_id}"
    assert body["content"][0]["format"]["code"] == "urn:ihe-fr:xds-sd:jpeg:2010"
    got = documents.read_content(space.repo, patient_id=space.patient_id, document_id=view.id)
    assert got.data == content and got.content_type == "image/jpeg"
    assert got.filename == "document-2026-03-04.jpg"


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        (files.image("JPEG"), "faux.pdf", errors.ContentMismatch),
        (b"", "vide.txt", errors.EmptyFile),
        (files.pdf(b"/OpenAction << /S /JavaScript /JS (x) >>"), "piege.pdf", errors.ActiveContent),
        (files.jpeg_claiming(50_000, 50_000), "bombe.jpg", errors.ImageTooLarge),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    space: Space, content: bytes, name: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        add(space, content=content, filename=name)
    assert count_documents(space) == 0
    assert space.repo.search("Binary", [("_count", "10")]).matches == ()


def test_an_oversized_upload_is_refused(space: Space) -> None:
    with pytest.raises(errors.FileTooLarge):
        add(space, content=b"a" * 2001, filename="long.txt", max_bytes=2000)
    assert count_documents(space) == 0


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("title", "   ", errors.InvalidTitle),
        ("title", "x" * 201, errors.InvalidTitle),
        ("category", "REMB", errors.InvalidCategory),
        ("document_date", dt.date(2999, 1, 1), errors.InvalidDocumentDate),
    ],
)
def test_bad_fields_are_refused(
    space: Space, field: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        add(space, **{field: value})
    assert count_documents(space) == 0


def test_timeline_newest_first_pinned_first_and_filters(space: Space) -> None:
    old = add(space, "Vieux certificat", category="CERT_MED", document_date=dt.date(2020, 1, 1))
    new = add(space, "Prise de sang", category="BIOLOGIE", document_date=dt.date(2026, 1, 1))
    mid = add(space, "Scanner", category="RADIO_SC", document_date=dt.date(2023, 6, 1))
    pro = pro_document(space, document_date=dt.date(2024, 2, 2))
    page = documents.list_documents(space.repo, patient_id=space.patient_id)
    assert [v.id for v in page.items] == [new.id, pro.id, mid.id, old.id]
    documents.set_pinned(space.repo, patient_id=space.patient_id, document_id=old.id, pinned=True)
    page = documents.list_documents(space.repo, patient_id=space.patient_id)
    assert [v.id for v in page.pinned] == [old.id] and old.id not in [v.id for v in page.items]

    def ids(**kwargs: object) -> list[str]:
        filters = DocumentFilters(**kwargs)  # type: ignore[arg-type]
        return [
            v.id
            for v in documents.list_documents(
                space.repo, patient_id=space.patient_id, filters=filters
            ).items
        ]

    assert ids(category="BIOLOGIE") == [new.id, pro.id]
    assert ids(author="professional") == [pro.id]
    assert ids(author="patient") == [new.id, mid.id, old.id]
    assert ids(date_from=dt.date(2023, 1, 1), date_to=dt.date(2025, 1, 1)) == [pro.id, mid.id]
    assert ids(text="SCAN") == [mid.id]
    paged = documents.list_documents(space.repo, patient_id=space.patient_id, page=2, page_size=2)
    assert (paged.page, paged.pages, len(paged.items)) == (2, 2, 1)


def test_masking_sets_the_label_on_the_document_and_its_binary(space: Space) -> None:
    view = add(space)
    assert not view.masked
    masked = documents.set_visibility(
        space.repo, patient_id=space.patient_id, document_id=view.id, masked=True
    )
    assert masked.masked
    for resource_type, resource_id in (("DocumentReference", view.id), ("Binary", view.binary_id)):
        body = orjson.loads(space.repo.read(resource_type, resource_id).body)
        assert {"system": "urn:oid:1.2.250.1.213.1.1.4.13", "code": "MASQUE_PS"} in body["meta"][
            "security"
        ]
    assert not documents.set_visibility(
        space.repo, patient_id=space.patient_id, document_id=view.id, masked=False
    ).masked


def test_default_confidentiality_applies_to_new_documents(space: Space) -> None:
    assert documents.get_default_masked(space.repo, patient_id=space.patient_id) is False
    before = add(space, "Avant")
    documents.set_default_masked(space.repo, patient_id=space.patient_id, masked=True)
    assert documents.get_default_masked(space.repo, patient_id=space.patient_id) is True
    after = add(space, "Après")
    explicit = add(space, "Visible", masked=False)
    detail = documents.document_detail(
        space.repo, patient_id=space.patient_id, document_id=before.id
    )
    assert (detail.masked, after.masked, explicit.masked) == (False, True, False)
    documents.set_default_masked(space.repo, patient_id=space.patient_id, masked=False)
    assert documents.get_default_masked(space.repo, patient_id=space.patient_id) is False


def test_bulk_delete_of_eleven_is_refused_whole(space: Space) -> None:
    views = [
        add(space, f"Document {n}", content=b"texte %d" % n, filename="n.txt") for n in range(11)
    ]
    with pytest.raises(errors.TooManyDocuments) as raised:
        documents.delete_documents(
            space.repo, patient_id=space.patient_id, document_ids=[v.id for v in views]
        )
    assert "10 documents" in raised.value.message
    assert count_documents(space) == 11
    deleted = documents.delete_documents(
        space.repo, patient_id=space.patient_id, document_ids=[v.id for v in views[:10]]
    )
    assert deleted == 10 and count_documents(space) == 1
    with pytest.raises(ResourceDeleted):
        space.repo.read("Binary", views[0].binary_id)


def test_a_professionals_document_can_only_be_masked(space: Space) -> None:
    pro = pro_document(space)
    own = add(space)
    assert pro.category == "BIOLOGIE" and pro.author_kind == "professional"
    assert (
        pro.capabilities.can_update_confidentiality_only and not pro.capabilities.can_owner_delete
    )
    with pytest.raises(errors.ProfessionalDocument) as raised:
        documents.delete_documents(
            space.repo, patient_id=space.patient_id, document_ids=[own.id, pro.id]
        )
    assert "professionnel de santé" in raised.value.message
    assert count_documents(space) == 2  # neither deleted
    with pytest.raises(errors.ProfessionalDocument):
        documents.update_details(
            space.repo,
            patient_id=space.patient_id,
            document_id=pro.id,
            title="Autre",
            category="AUTR_DOC",
            document_date=DAY,
        )
    assert documents.set_visibility(
        space.repo, patient_id=space.patient_id, document_id=pro.id, masked=True
    ).masked
    changed = documents.update_details(
        space.repo,
        patient_id=space.patient_id,
        document_id=own.id,
        title="Renommé",
        category="CERT_MED",
        document_date=dt.date(2025, 5, 5),
    )
    assert (changed.title, changed.category, changed.type_code) == (
        "Renommé",
        "CERT_MED",
        "DOCPAT07",
    )


def test_invisible_documents_stay_hidden_until_released_then_for_good(space: Space) -> None:
    held = pro_document(space, title="Résultat à annoncer", invisible_to_patient=True)
    assert count_documents(space) == 0
    with pytest.raises(errors.DocumentNotFound):
        documents.document_detail(space.repo, patient_id=space.patient_id, document_id=held.id)
    with pytest.raises(errors.DocumentNotFound):
        documents.read_content(space.repo, patient_id=space.patient_id, document_id=held.id)
    with pytest.raises(ResourceNotFound):
        space.repo.read("Binary", held.binary_id)
    with pytest.raises(errors.NotAuthor):
        documents.release_to_patient(space.repo, document_id=held.id)
    documents.release_to_patient(space.carnet, document_id=held.id)
    assert count_documents(space) == 1
    assert (
        documents.read_content(space.repo, patient_id=space.patient_id, document_id=held.id).data
        == files.pdf()
    )
    with pytest.raises(errors.AlreadyReleased):
        documents.withhold_from_patient(space.carnet, document_id=held.id)


def test_a_replaced_version_is_superseded_and_points_to_the_new_one(space: Space) -> None:
    first = add(space, "Directives", category="DIR_ANT")
    second = add(space, "Directives 2026", category="DIR_ANT", replaces=first.id)
    assert second.replaces == first.id
    old = documents.document_detail(space.repo, patient_id=space.patient_id, document_id=first.id)
    assert old.superseded and old.replaced_by == second.id
    listed = {
        v.id: v for v in documents.list_documents(space.repo, patient_id=space.patient_id).items
    }
    assert listed[first.id].replaced_by == second.id
    pro = pro_document(space)
    with pytest.raises(errors.ProfessionalDocument):
        add(space, "Remplace", replaces=pro.id)


def test_folders(space: Space) -> None:
    a, b = add(space, "A"), add(space, "B")
    folder = documents.create_folder(space.repo, patient_id=space.patient_id, name=" Cardiologie ")
    assert folder.name == "Cardiologie"
    other = documents.create_folder(space.repo, patient_id=space.patient_id, name="Dentiste")
    documents.move_documents(
        space.repo, patient_id=space.patient_id, document_ids=[a.id, b.id], folder_id=folder.id
    )
    documents.move_documents(
        space.repo, patient_id=space.patient_id, document_ids=[b.id], folder_id=other.id
    )
    in_folder = documents.list_documents(
        space.repo, patient_id=space.patient_id, filters=DocumentFilters(folder_id=folder.id)
    )
    assert [v.id for v in in_folder.items] == [a.id]
    renamed = documents.rename_folder(
        space.repo, patient_id=space.patient_id, folder_id=folder.id, name="Cœur"
    )
    assert renamed.name == "Cœur" and renamed.document_ids == (a.id,)
    documents.delete_folder(space.repo, patient_id=space.patient_id, folder_id=folder.id)
    assert (
        documents.document_detail(
            space.repo, patient_id=space.patient_id, document_id=a.id
        ).folder_id
        is None
    )
    assert [f.name for f in documents.list_folders(space.repo, patient_id=space.patient_id)] == [
        "Dentiste"
    ]
    with pytest.raises(errors.InvalidFolderName):
        documents.create_folder(space.repo, patient_id=space.patient_id, name="")
    with pytest.raises(errors.FolderNotFound):
        documents.rename_folder(
            space.repo, patient_id=space.patient_id, folder_id=folder.id, name="X"
        )
    added = add(space, "C", folder_id=other.id)
    assert added.folder_id == other.id


def test_another_patients_document_is_not_found(space: Space, rt: Runtime) -> None:
    view = add(space)
    with pytest.raises(errors.DocumentNotFound):
        documents.document_detail(space.repo, patient_id="someone-else", document_id=view.id)


def test_the_index_job_is_enqueued_with_the_document(space: Space, rt: Runtime) -> None:
    jobs: JobQueue = rt.jobs
    view = documents.add_document(
        space.repo,
        db=space.db,
        patient_id=space.patient_id,
        content=b"bonjour",
        filename="note.txt",
        title="Note",
        category="AUTR_DOC",
        document_date=DAY,
        jobs=jobs,
    )
    pending = [j for j in jobs.jobs(space.db, status="pending") if j.kind == documents.INDEX_JOB]
    assert pending
    assert view.content_type == "text/plain; charset=utf-8"


def test_the_unfiltered_timeline_pages_in_date_order_with_the_pinned_apart(space: Space) -> None:
    added = [
        add(space, f"Document {day}", document_date=dt.date(2025, 1, day)) for day in range(1, 26)
    ]
    pinned = added[10]
    documents.set_pinned(
        space.repo, patient_id=space.patient_id, document_id=pinned.id, pinned=True
    )
    newest_first = [v.id for v in reversed(added) if v.id != pinned.id]
    first = documents.list_documents(space.repo, patient_id=space.patient_id, page_size=10)
    assert [v.id for v in first.pinned] == [pinned.id]
    assert (first.total, first.pages) == (25, 3)
    pages = [
        documents.list_documents(space.repo, patient_id=space.patient_id, page=n, page_size=10)
        for n in (1, 2, 3)
    ]
    assert [v.id for page in pages for v in page.items] == newest_first
    beyond = documents.list_documents(space.repo, patient_id=space.patient_id, page=9, page_size=10)
    assert beyond.page == 3 and [v.id for v in beyond.items] == newest_first[20:]


def test_a_category_filter_finds_documents_classified_by_their_type_code_alone(
    space: Space,
) -> None:
    lab = space.carnet.create(  # as a professional's software sends it: a type, no category
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]},
            "subject": {"reference": f"Patient/{space.patient_id}"},
            "date": "2025-05-02T09:00:00Z",
            "author": [{"reference": "Practitioner/dr-house"}],
            "description": "Bilan sanguin",
            "content": [
                {"attachment": {"contentType": "application/pdf", "creation": "2025-05-02"}}
            ],
        }
    )
    own = add(space, "Prise de sang", category="BIOLOGIE", document_date=dt.date(2026, 1, 1))
    add(space, "Scanner", category="RADIO_SC", document_date=dt.date(2023, 6, 1))
    page = documents.list_documents(
        space.repo, patient_id=space.patient_id, filters=DocumentFilters(category="BIOLOGIE")
    )
    assert [v.id for v in page.items] == [own.id, lab.id]


def test_a_date_filter_keeps_the_days_at_both_ends_and_undated_documents_by_their_attachment(
    space: Space,
) -> None:
    def on(day: dt.date, title: str = "Document") -> str:
        return add(space, title, document_date=day).id

    before, first, inside, last, after = (
        on(dt.date(2023, 12, 31)),
        on(dt.date(2024, 1, 1)),
        on(dt.date(2024, 6, 15)),
        on(dt.date(2024, 12, 31)),
        on(dt.date(2025, 1, 1)),
    )
    undated = space.carnet.create(  # no context.period: dated by its attachment
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": f"Patient/{space.patient_id}"},
            "author": [{"reference": "Practitioner/dr-house"}],
            "description": "Sans période",
            "content": [{"attachment": {"contentType": "text/plain", "creation": "2024-03-03"}}],
        }
    ).id
    filters = DocumentFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31))
    page = documents.list_documents(space.repo, patient_id=space.patient_id, filters=filters)
    assert [v.id for v in page.items] == [last, inside, undated, first]
    assert before not in [v.id for v in page.items] and after not in [v.id for v in page.items]


def test_a_category_and_dates_page_reads_and_audits_only_what_it_shows(
    space: Space,
) -> None:
    from sqlalchemy import text

    biology = [
        add(space, f"Bilan {day}", category="BIOLOGIE", document_date=dt.date(2024, 3, day))
        for day in range(1, 16)
    ]
    add(space, "Scanner", category="RADIO_SC", document_date=dt.date(2024, 3, 5))
    old = add(space, "Bilan ancien", category="BIOLOGIE", document_date=dt.date(2019, 1, 1))
    (before,) = space.db.execute(
        text("SELECT max(seq) FROM audit_event WHERE chain_id = :c"), {"c": space.patient_id}
    ).one()
    filters = DocumentFilters(
        category="BIOLOGIE", date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 3, 31)
    )
    page = documents.list_documents(
        space.repo, patient_id=space.patient_id, filters=filters, page=2, page_size=10
    )
    assert (page.total, page.pages) == (15, 2)
    assert [v.id for v in page.items] == [v.id for v in reversed(biology)][10:]
    details = space.db.execute(
        text(
            "SELECT entity, detail FROM audit_event WHERE chain_id = :c AND seq > :s"
            " AND entity LIKE 'DocumentReference?%'"
        ),
        {"c": space.patient_id, "s": before},
    ).all()
    went_out = {ref for _, detail in details for ref in orjson.loads(detail).get("ids", [])}
    assert len(went_out) <= 15  # the pages read to reach page 2, never the whole space
    assert f"DocumentReference/{old.id}" not in went_out
