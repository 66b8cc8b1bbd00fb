"""The documents pages over HTTP: upload (and its refusals), the timeline and its filters, the
viewer and the content responses, masking, pins, deletion, folders, the default."""

from __future__ import annotations

import datetime as dt
import re

from starlette.testclient import TestClient
from tests.documents import files
from tests.space import Holder, form_token, signed_in_holder

from carnet.documents import service as documents
from carnet.runtime import Runtime

NEW_ID = re.compile(r"/documents/([0-9a-f-]{36})\?fait=ajoute")


def upload(
    client: TestClient,
    content: bytes,
    name: str,
    *,
    title: str = "Ordonnance du Dr Petit",
    category: str = "ORD_SOIN",
    day: str = "2026-02-03",
    confidentiality: str = "defaut",
    folder: str = "",
) -> tuple[int, str, str]:
    """POST the upload form: (status, page text or location, new document id)."""
    token = form_token(client, "/documents/ajouter")
    response = client.post(
        "/documents/ajouter",
        data={
            "csrf_token": token,
            "titre": title,
            "date": day,
            "categorie": category,
            "confidentialite": confidentiality,
            "dossier": folder,
        },
        files={"fichier": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )
    location = response.headers.get("location", "")
    found = NEW_ID.search(location)
    return response.status_code, response.text or location, found.group(1) if found else ""


def post(
    client: TestClient, path: str, data: dict[str, object], back: str = "/documents"
) -> object:
    token = form_token(client, back)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def professional_document(rt: Runtime, holder: Holder) -> str:
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=rt.carnet_context())
        view = documents.add_professional_document(
            repo,
            db=db,
            patient_id=holder.patient_id,
            author="Practitioner/dr-petit",
            content=files.pdf(),
            filename="cr.pdf",
            title="Compte rendu opératoire",
            type_code="34874-8",
            type_system="http://loinc.org",
            document_date=dt.date(2025, 1, 9),
        )
    return view.id


def test_the_pages_need_a_signed_in_patient(client: TestClient) -> None:
    response = client.get("/documents", follow_redirects=False)
    assert response.status_code in (302, 303)


def test_upload_then_view_download_and_timeline(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    page = client.get("/documents")
    assert page.status_code == 200 and "Aucun document" in page.text
    form = client.get("/documents/ajouter")
    assert 'accept=".pdf,.txt,.rtf,.jpg,.jpeg,.tif,.tiff"' in form.text
    content = files.pdf()
    status, location, doc = upload(client, content, "ordonnance.pdf")
    assert status == 303 and doc, location
    detail = client.get(f"/documents/{doc}?fait=ajoute")
    assert detail.status_code == 200
    assert "Ordonnance du Dr Petit" in detail.text and "Le document est ajouté" in detail.text
    assert f'href="/documents/{doc}/contenu"' in detail.text
    inline = client.get(f"/documents/{doc}/contenu")
    assert inline.content == content and inline.headers["content-type"] == "application/pdf"
    assert inline.headers["content-disposition"].startswith("inline")
    assert inline.headers["x-content-type-options"] == "nosniff"
    assert inline.headers["content-security-policy"].startswith("sandbox")
    download = client.get(f"/documents/{doc}/telecharger")
    assert (
        download.headers["content-disposition"] == 'attachment; filename="document-2026-02-03.pdf"'
    )
    listed = client.get("/documents")
    assert "Ordonnance du Dr Petit" in listed.text and "3 février 2026" in listed.text


def test_refused_uploads_say_why_and_store_nothing(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    cases = [
        (files.image("JPEG"), "faux.pdf", 415, "ne correspond pas à son extension"),
        (b"", "vide.pdf", 400, "Le fichier est vide"),
        (files.pdf(b"/OpenAction << /S /JavaScript /JS (x) >>"), "x.pdf", 400, "contenu actif"),
        (files.jpeg_claiming(50_000, 50_000), "bombe.jpg", 400, "trop grande"),
        (files.pdf(), "lettre.docx", 415, "format de fichier n’est pas accepté"),
    ]
    for content, name, status, message in cases:
        got, text, _ = upload(client, content, name)
        assert got == status, name
        assert message in text.replace("&#39;", "’").replace("&#x27;", "'"), name
        assert 'aria-invalid="true"' in text
    missing_title, text, _ = upload(client, files.pdf(), "a.pdf", title="", day="31/02/2026")
    assert missing_title == 400 and "Saisissez une date valide" in text
    assert "Aucun document" in client.get("/documents").text


def test_text_is_shown_escaped_and_images_inline(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    _, _, text_doc = upload(
        client,
        b"<script>alert(1)</script> tension 12/8",
        "note.txt",
        title="Note",
        category="AUTR_DOC",
        day="04/01/2026",
    )
    page = client.get(f"/documents/{text_doc}").text
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; tension 12/8" in page and "<script>alert" not in page
    )
    _, _, image_doc = upload(
        client, files.image("JPEG"), "radio.jpg", title="Radio", category="RADIO_SC"
    )
    assert (
        f'<img class="fr-responsive-img" src="/documents/{image_doc}/contenu"'
        in client.get(f"/documents/{image_doc}").text
    )


def test_mask_pin_and_filters(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    _, _, own = upload(client, files.pdf(), "a.pdf", title="Bilan sanguin", category="BIOLOGIE")
    pro = professional_document(rt, holder)
    response = post(client, f"/documents/{pro}/visibilite", {"masquer": "oui"})
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert "Masqué aux professionnels de santé" in client.get(f"/documents/{pro}").text
    post(client, f"/documents/{own}/epingle", {"epingler": "oui"})
    listed = client.get("/documents").text
    assert (
        listed.index("Documents épinglés")
        < listed.index("Bilan sanguin")
        < listed.index("Chronologie")
    )
    token = form_token(client, "/documents")
    found = client.post("/documents", data={"csrf_token": token, "auteur": "professional"})
    assert "Compte rendu opératoire" in found.text and "Bilan sanguin" not in found.text
    found = client.post("/documents", data={"csrf_token": token, "q": "sanguin"})
    assert "1 document trouvé" in found.text
    by_category = client.get("/documents?categorie=CPT_REND").text
    assert "Compte rendu opératoire" in by_category and "Bilan sanguin" not in by_category


def test_deletion_confirmed_limited_to_ten_and_own_documents(
    client: TestClient, rt: Runtime
) -> None:
    holder = signed_in_holder(client, rt)
    ids = [upload(client, b"texte %d" % n, "n.txt", title=f"Note {n}")[2] for n in range(11)]
    response = post(client, "/documents/supprimer", {"documents": ids, "confirmer": "oui"})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "plus de 10 documents" in response.text  # type: ignore[attr-defined]
    confirm = post(client, "/documents/supprimer", {"documents": ids[:2]})
    assert confirm.status_code == 200 and "Confirmer la suppression" in confirm.text  # type: ignore[attr-defined]
    assert "Note 0" in client.get("/documents").text
    done = post(client, "/documents/supprimer", {"documents": ids[:2], "confirmer": "oui"})
    assert done.headers["location"] == "/documents?fait=supprime"  # type: ignore[attr-defined]
    assert client.get(f"/documents/{ids[0]}").status_code == 404
    pro = professional_document(rt, holder)
    refused = post(client, "/documents/supprimer", {"documents": [pro, ids[5]], "confirmer": "oui"})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "professionnel de santé" in refused.text  # type: ignore[attr-defined]
    assert client.get(f"/documents/{ids[5]}").status_code == 200
    assert "Supprimer ce document" not in client.get(f"/documents/{pro}").text


def test_folders_and_moving_documents(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    created = post(
        client, "/documents/dossiers", {"nom": "Cardiologie"}, back="/documents/dossiers"
    )
    assert created.headers["location"] == "/documents/dossiers?fait=dossier"  # type: ignore[attr-defined]
    page = client.get("/documents/dossiers").text
    folder = re.search(r"/documents/dossiers/([0-9a-f-]{36})/renommer", page)
    assert folder is not None
    folder_id = folder.group(1)
    _, _, doc = upload(client, files.pdf(), "ecg.pdf", title="ECG", folder=folder_id)
    assert "Dossier : Cardiologie" in client.get(f"/documents?dossier={folder_id}").text
    empty = post(client, "/documents/dossiers", {"nom": "  "}, back="/documents/dossiers")
    assert empty.status_code == 400  # type: ignore[attr-defined]
    post(
        client,
        f"/documents/dossiers/{folder_id}/renommer",
        {"nom": "Cœur"},
        back="/documents/dossiers",
    )
    assert "Cœur" in client.get("/documents/dossiers").text
    post(client, "/documents/deplacer", {"documents": doc, "dossier": ""})
    assert "Dossier : Cœur" not in client.get("/documents").text
    post(client, f"/documents/dossiers/{folder_id}/supprimer", {}, back="/documents/dossiers")
    assert "Cœur" not in client.get("/documents/dossiers").text
    assert client.get(f"/documents/{doc}").status_code == 200


def test_default_confidentiality_setting(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    bad = post(
        client, "/documents/parametres", {"defaut": "peut-etre"}, back="/documents/parametres"
    )
    assert bad.status_code == 400  # type: ignore[attr-defined]
    ok = post(client, "/documents/parametres", {"defaut": "masques"}, back="/documents/parametres")
    assert ok.status_code == 303  # type: ignore[attr-defined]
    assert 'value="masques" checked' in client.get("/documents/parametres").text
    _, _, doc = upload(client, files.pdf(), "a.pdf")
    assert "Masqué aux professionnels de santé" in client.get(f"/documents/{doc}").text


def test_someone_elses_document_is_not_found(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    _, _, doc = upload(client, files.pdf(), "a.pdf")
    client.cookies.clear()
    signed_in_holder(client, rt)
    assert client.get(f"/documents/{doc}").status_code == 404
    assert client.get(f"/documents/{doc}/contenu").status_code == 404


def test_every_message_of_the_area_is_in_the_portals_catalogue_list() -> None:
    from carnet.documents import errors
    from carnet.documents.categories import CATEGORIES
    from carnet.web.patient.documents_messages import AREA_MESSAGES

    refusals = {
        kind.default_message
        for kind in vars(errors).values()
        if isinstance(kind, type) and issubclass(kind, errors.DocumentRefused)
    }
    assert set(AREA_MESSAGES) == refusals | set(CATEGORIES.values())


def test_own_documents_are_edited_and_replaced(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    _, _, doc = upload(client, files.pdf(), "da.pdf", title="Directives", category="DIR_ANT")
    edit = client.get(f"/documents/{doc}/modifier")
    assert edit.status_code == 200 and 'value="Directives"' in edit.text
    token = form_token(client, f"/documents/{doc}/modifier")
    bad = client.post(
        f"/documents/{doc}/modifier",
        data={"csrf_token": token, "titre": "", "date": "2026-01-02", "categorie": "DIR_ANT"},
    )
    assert bad.status_code == 400 and "Saisissez un titre" in bad.text
    saved = client.post(
        f"/documents/{doc}/modifier",
        data={
            "csrf_token": token,
            "titre": "Mes directives",
            "date": "02/01/2026",
            "categorie": "DIR_ANT",
        },
        follow_redirects=False,
    )
    assert saved.headers["location"] == f"/documents/{doc}?fait=modifie"
    assert "Mes directives" in client.get(f"/documents/{doc}").text
    assert f'value="{doc}"' in client.get(f"/documents/ajouter?remplace={doc}").text
    token = form_token(client, f"/documents/ajouter?remplace={doc}")
    response = client.post(
        "/documents/ajouter",
        data={
            "csrf_token": token,
            "titre": "Directives 2026",
            "date": "2026-03-01",
            "categorie": "DIR_ANT",
            "confidentialite": "defaut",
            "dossier": "",
            "remplace": doc,
        },
        files={"fichier": ("da2.pdf", files.pdf(), "application/pdf")},
        follow_redirects=False,
    )
    new = NEW_ID.search(response.headers["location"])
    assert new is not None
    old_page = client.get(f"/documents/{doc}").text
    assert "remplacé par une nouvelle version" in old_page
    assert f'href="/documents/{new.group(1)}"' in old_page
    pro = professional_document(rt, holder)
    assert client.get(f"/documents/{pro}/modifier").status_code == 403
    refused = client.post(
        f"/documents/{pro}/modifier",
        data={"csrf_token": token, "titre": "X", "date": "2026-01-02", "categorie": "AUTR_DOC"},
    )
    assert refused.status_code == 403


def test_filtered_results_page_through_the_form(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    for n in range(22):
        upload(client, b"note %d" % n, "n.txt", title=f"Glycémie {n}", category="BIOLOGIE")
    token = form_token(client, "/documents")
    first = client.post("/documents", data={"csrf_token": token, "q": "glycémie"})
    assert "22 documents trouvés" in first.text and 'name="page" value="2"' in first.text
    second = client.post("/documents", data={"csrf_token": token, "q": "glycémie", "page": "2"})
    assert second.text.count('name="documents" value=') == 2
