"""Download my data: the archive job writes a ZIP of the person's record (FHIR NDJSON from the
bulk export, run as them) and their original documents byte for byte; only they may download it;
one in preparation at a time; expiry deletes it."""

from __future__ import annotations

import base64
import io
import os
import time
import zipfile
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import func, select
from tests.space import make_holder

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.record import archive_rows
from carnet.record.service import ArchiveInProgress, ArchiveNotFound, Archives
from carnet.runtime import Runtime

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(200)) + b"\xff\xd9"


def as_patient(patient_id: str) -> AccessContext:
    return AccessContext(actor=Actor(ActorKind.PATIENT, patient_id), patient_id=patient_id)


def add_document(rt: Runtime, patient_id: str, data: bytes, content_type: str, title: str) -> str:
    """A Binary and its DocumentReference, written as the person through the repository."""
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=as_patient(patient_id))
        binary = repo.create(
            {
                "resourceType": "Binary",
                "contentType": content_type,
                "securityContext": {"reference": f"Patient/{patient_id}"},
                "data": base64.b64encode(data).decode(),
            }
        )
        reference = repo.create(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "subject": {"reference": f"Patient/{patient_id}"},
                "description": title,
                "content": [
                    {
                        "attachment": {
                            "contentType": content_type,
                            "url": f"Binary/{binary.id}",
                            "title": title,
                        }
                    }
                ],
            }
        )
        return reference.id


def run_jobs(rt: Runtime) -> None:
    """Run the jobs until the archives asked for are built: the build looks again every second
    while the export's steps run."""
    deadline = time.monotonic() + 30
    while True:
        rt.worker(name="archives-test").run_until_idle()
        with rt.transaction() as db:
            waiting = db.execute(
                select(func.count()).where(archive_rows.archive.c.status == "preparing")
            ).scalar_one()
        if not waiting or time.monotonic() > deadline:
            return
        time.sleep(0.3)


def read_archive(rt: Runtime, archives: Archives, ctx: AccessContext, archive_id: str) -> bytes:
    with rt.transaction() as db:
        download = archives.download(db, ctx=ctx, archive_id=archive_id)
    out = b""
    for index in range(download.parts):
        with rt.transaction() as db:
            out += archives.part(db, ctx=ctx, download=download, index=index)
    assert len(out) == download.size
    return out


def test_the_archive_holds_the_record_and_the_original_documents(rt: Runtime) -> None:
    holder = make_holder(rt)
    person = holder.patient_id
    ctx = as_patient(person)
    pdf_id = add_document(rt, person, PDF, "application/pdf", "Compte rendu opératoire")
    jpeg_id = add_document(rt, person, JPEG, "image/jpeg", "Radio du genou")
    with rt.transaction() as db:
        rt.record.repository(db=db, ctx=ctx).create(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "poids"},
                "subject": {"reference": f"Patient/{person}"},
                "valueQuantity": {"value": 61, "unit": "kg"},
            }
        )
    archives = Archives(rt.record, chunk_bytes=4096)  # several blobs, read back in order
    with rt.transaction() as db:
        state = archives.request(db, ctx=ctx)
    assert state.status == "preparing"
    with rt.transaction() as db, pytest.raises(ArchiveInProgress):
        archives.request(db, ctx=ctx)
    run_jobs(rt)
    with rt.transaction() as db:
        ready = archives.latest(db, ctx=ctx)
    assert ready is not None
    assert ready.status == "ready"
    assert ready.expires_at is not None
    assert ready.expires_at - ready.created_at > timedelta(days=6)

    data = read_archive(rt, archives, ctx, ready.id)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        assert "README.txt" in names
        assert "dossier" in zf.read("README.txt").decode()
        assert zf.read(f"documents/{pdf_id}.pdf") == PDF
        assert zf.read(f"documents/{jpeg_id}.jpg") == JPEG
        patients = [orjson.loads(x) for x in zf.read("fhir/Patient.ndjson").splitlines()]
        assert [p["id"] for p in patients] == [person]
        references = zf.read("fhir/DocumentReference.ndjson").splitlines()
        assert {orjson.loads(x)["id"] for x in references} == {pdf_id, jpeg_id}
        observations = [orjson.loads(x) for x in zf.read("fhir/Observation.ndjson").splitlines()]
        assert [o["valueQuantity"]["value"] for o in observations] == [61]
        assert all(o["subject"]["reference"] == f"Patient/{person}" for o in observations)


def test_only_the_person_who_asked_may_download_it(rt: Runtime) -> None:
    holder = make_holder(rt)
    other = make_holder(rt)
    archives = Archives(rt.record)
    with rt.transaction() as db:
        state = archives.request(db, ctx=as_patient(holder.patient_id))
    run_jobs(rt)
    read_archive(rt, archives, as_patient(holder.patient_id), state.id)
    intruders = [
        as_patient(other.patient_id),
        # The other person, pretending to act in the holder's space.
        AccessContext(
            actor=Actor(ActorKind.PATIENT, other.patient_id), patient_id=holder.patient_id
        ),
    ]
    for intruder in intruders:
        with rt.transaction() as db, pytest.raises(ArchiveNotFound):
            archives.download(db, ctx=intruder, archive_id=state.id)
        with rt.transaction() as db:
            assert archives.latest(db, ctx=intruder) is None


def test_expiry_deletes_the_archive(rt: Runtime) -> None:
    holder = make_holder(rt)
    ctx = as_patient(holder.patient_id)
    archives = Archives(rt.record)
    with rt.transaction() as db:
        state = archives.request(db, ctx=ctx)
    run_jobs(rt)
    with rt.transaction() as db:
        row = archive_rows.get(db, state.id)
        blobs = archive_rows.parts_of(row)
        assert blobs
        archive_rows.save(db, state.id, expires_at=rt.clock.now() - timedelta(seconds=1))
    with rt.transaction() as db:
        archives.expire(db)
    with rt.transaction() as db:
        latest = archives.latest(db, ctx=ctx)
        assert latest is not None
        assert latest.status == "expired"
        for blob_id in blobs:
            assert rt.storage.get_blob(db, owner_id=holder.patient_id, blob_id=blob_id) is None
        with pytest.raises(ArchiveNotFound):
            archives.download(db, ctx=ctx, archive_id=state.id)
    # A new archive can be asked for; it replaces the expired one.
    with rt.transaction() as db:
        again = archives.request(db, ctx=ctx)
        assert archive_rows.get(db, state.id) is None
    assert again.status == "preparing"


def test_a_large_archive_is_stored_in_several_blobs_and_read_back_in_order(rt: Runtime) -> None:
    holder = make_holder(rt)
    ctx = as_patient(holder.patient_id)
    scan = os.urandom(20_000)  # does not compress: about twenty blobs of 1 kB
    document_id = add_document(rt, holder.patient_id, scan, "image/tiff", "Scanner")
    archives = Archives(rt.record, chunk_bytes=1024)
    with rt.transaction() as db:
        state = archives.request(db, ctx=ctx)
        export_id = archive_rows.get(db, state.id).export_id
    # The export's steps, then this instance's build, run here rather than by the worker.
    for _ in range(5):
        with rt.transaction() as db:
            rt.record.run_export_step(db, {"export": export_id})
    with rt.transaction() as db:
        archives.build(db, {"archive": state.id})
    with rt.transaction() as db:
        download = archives.download(db, ctx=ctx, archive_id=state.id)
    assert download.parts > 10
    data = read_archive(rt, archives, ctx, state.id)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read(f"documents/{document_id}.tif") == scan
        assert zf.testzip() is None
