"""Download my data, over HTTP: ask for the archive (CSRF), see it being prepared, one at a
time, then ready with its date and a link; the download is a ZIP for its owner only."""

from __future__ import annotations

import io
import zipfile

from starlette.testclient import TestClient
from tests.record.test_archives import add_document, run_jobs
from tests.space import form_token, signed_in_holder

from carnet.runtime import Runtime

PDF = b"%PDF-1.4\nmy data page\n%%EOF\n"


def test_ask_then_download_the_archive(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    document_id = add_document(rt, holder.patient_id, PDF, "application/pdf", "Ordonnance")
    page = client.get("/mes-donnees")
    assert page.status_code == 200
    assert "Vous n’avez pas encore demandé d’archive." in page.text
    token = form_token(client, "/mes-donnees")
    asked = client.post("/mes-donnees", data={"csrf_token": token}, follow_redirects=False)
    assert asked.status_code == 303
    preparing = client.get(asked.headers["location"])
    assert "En préparation" in preparing.text
    assert "Préparer mon archive" not in preparing.text
    again = client.post("/mes-donnees", data={"csrf_token": token})
    assert again.status_code == 409
    assert "Une archive est déjà en préparation" in again.text

    run_jobs(rt)
    ready = client.get("/mes-donnees")
    assert "Prête" in ready.text
    assert "jusqu’au" in ready.text
    link = ready.text.split('href="/mes-donnees/archive/', 1)[1].split('"', 1)[0]
    download = client.get(f"/mes-donnees/archive/{link}")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert "attachment" in download.headers["content-disposition"]
    assert download.headers["cache-control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        assert zf.read(f"documents/{document_id}.pdf") == PDF
        assert "fhir/Patient.ndjson" in zf.namelist()

    # Another person, signed in on the same client, cannot have it.
    signed_in_holder(client, rt)
    assert client.get(f"/mes-donnees/archive/{link}").status_code == 404
    assert "Vous n’avez pas encore demandé d’archive." in client.get("/mes-donnees").text


def test_the_request_needs_the_csrf_token(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    assert client.post("/mes-donnees").status_code == 403
    assert "Vous n’avez pas encore demandé d’archive." in client.get("/mes-donnees").text


def test_an_unknown_archive_is_not_found(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    assert client.get("/mes-donnees/archive/nothing-here").status_code == 404
