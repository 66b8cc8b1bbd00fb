"""``/volontes`` over HTTP: contacts (a message per field and a 400, a second trusted person a
409, nothing stored), organ donation, advance directives (guided form → PDF in the documents,
replacing only after the warning, minors refused), all behind the sign-in."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from tests.space import form_token, signed_in_holder
from tests.wishes.pdf_text import pdf_text

from carnet.runtime import Runtime

CONTACT = {
    "first_name": "Sophie",
    "last_name": "Nessi",
    "relation": "OTHER",
    "mobile": "06 47 15 01 00",
    "postal_code": "75005",
    "city": "Paris",
    "roles": ["EMERGENCY_CONTACT", "TRUSTED_CONTACT"],
}
ANSWERS = {
    "situation": "bonne-sante",
    "life_support": "refuse",
    "sedation": "oui",
    "acte-dialyse": "refuse",
    "place": "domicile",
    "free_text": "Je souhaite que ma sœur Sophie soit près de moi.",
}
ADD = "/volontes/contacts/ajouter"
FORM = "/volontes/directives/formulaire"


def post(client: TestClient, path: str, data: dict[str, object], *, page: str = "") -> object:
    token = form_token(client, page or path)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def test_the_pages_need_a_signed_in_person(client: TestClient) -> None:
    for path in ("/volontes", ADD, "/volontes/don-organes", "/volontes/directives", FORM):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/connexion")


def test_adding_editing_and_deleting_a_contact(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    assert "Vous n’avez pas encore de contact." in client.get("/volontes").text
    made = post(client, ADD, CONTACT)
    assert made.status_code == 303 and made.headers["location"] == "/volontes?fait=contact-ajoute"
    page = client.get(made.headers["location"]).text
    assert "Le contact est enregistré." in page
    assert "Sophie Nessi (Autre lien), joignable au 06 47 15 01 00." in page
    contact_id = re.search(r"/volontes/contacts/([^/]+)/modifier", page).group(1)  # type: ignore[union-attr]
    edit = f"/volontes/contacts/{contact_id}/modifier"
    assert 'value="06 47 15 01 00"' in client.get(edit).text
    changed = post(client, edit, CONTACT | {"city": "Lyon", "postal_code": "69003"})
    assert changed.headers["location"] == "/volontes?fait=contact-modifie"
    assert "69003 Lyon" in client.get("/volontes").text
    delete = f"/volontes/contacts/{contact_id}/supprimer"
    assert "votre personne de confiance" in client.get(delete).text
    gone = post(client, delete, {})
    assert gone.headers["location"] == "/volontes?fait=contact-supprime"
    assert "Vous n’avez pas encore de contact." in client.get("/volontes").text
    assert client.get(edit).status_code == 404


def test_bad_fields_are_told_field_by_field_and_nothing_is_stored(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    refused = post(
        client, ADD, CONTACT | {"mobile": "01 23 45 67 89", "postal_code": "750", "first_name": ""}
    )
    assert refused.status_code == 400
    text = refused.text
    assert "Le formulaire contient 3 erreurs" in text
    assert "Saisissez le prénom." in text
    assert "Saisissez un numéro de portable français commençant par 06 ou 07" in text
    assert "Le code postal se compose de 5 chiffres." in text
    assert 'value="Nessi"' in text  # what was typed stays
    assert "Vous n’avez pas encore de contact." in client.get("/volontes").text


def test_a_second_trusted_person_is_refused(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    post(client, ADD, CONTACT)
    second = post(
        client,
        ADD,
        CONTACT | {"first_name": "Anne", "relation": "MOTHER", "roles": ["TRUSTED_CONTACT"]},
    )
    assert second.status_code == 409
    assert "vous ne pouvez en déclarer qu’une seule" in second.text
    assert "Anne" not in client.get("/volontes").text


def test_someone_elses_contact_is_not_found(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    post(client, ADD, CONTACT)
    page = client.get("/volontes").text
    contact_id = re.search(r"/volontes/contacts/([^/]+)/modifier", page).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    signed_in_holder(client, rt)
    assert client.get(f"/volontes/contacts/{contact_id}/modifier").status_code == 404
    stolen = post(client, f"/volontes/contacts/{contact_id}/supprimer", {}, page=ADD)
    assert stolen.status_code == 404


def test_organ_donation_explains_and_records_the_statement(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    page = client.get("/volontes/don-organes").text
    assert "consentement présumé" in page and "registre national des refus" in page
    assert "n’enregistre pas de refus" in page
    stated = post(client, "/volontes/don-organes", {"informe": "oui"})
    assert stated.headers["location"] == "/volontes/don-organes?fait=don-organes"
    assert "vous avez déclaré avoir été informé(e)" in client.get(stated.headers["location"]).text
    withdrawn = post(client, "/volontes/don-organes", {})
    assert withdrawn.headers["location"].endswith("don-organes-retire")
    assert "pas encore déclaré" in client.get("/volontes").text


def test_guided_directives_make_a_pdf_then_replacing_needs_the_warning(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    assert "Vous n’avez pas rédigé de directives anticipées." in client.get("/volontes").text
    bad = post(client, FORM, ANSWERS | {"situation": "", "sedation": "peut-etre"})
    assert bad.status_code == 400 and "Indiquez votre situation." in bad.text
    saved = post(client, FORM, ANSWERS)
    assert saved.headers["location"] == "/volontes/directives?fait=directives"
    page = client.get(saved.headers["location"]).text
    download = re.search(r'href="(/volontes/directives/[^/]+/telecharger)"', page).group(1)  # type: ignore[union-attr]
    pdf = client.get(download)
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    assert "Je souhaite que ma sœur Sophie soit près de moi." in pdf_text(pdf.content)
    assert "Dialyse (rein artificiel) Je le refuse" in pdf_text(pdf.content)

    # A second time: the form sends to the warning; a direct POST gets the warning and a 409.
    again = client.get(FORM, follow_redirects=False)
    assert again.headers["location"] == "/volontes/directives/remplacer"
    warning = client.get("/volontes/directives/remplacer").text
    assert "Télécharger mes directives actuelles" in warning and download in warning
    sneaked = post(
        client, FORM, ANSWERS | {"free_text": "Autre chose"}, page="/volontes/directives"
    )
    assert sneaked.status_code == 409 and "seront remplacées" in sneaked.text
    old_id = download.split("/")[3]
    form_page = client.get(f"{FORM}?remplace={old_id}")
    assert form_page.status_code == 200 and f'value="{old_id}"' in form_page.text
    replaced = post(
        client,
        FORM,
        ANSWERS | {"free_text": "Autre chose", "replaces": old_id},
        page=f"{FORM}?remplace={old_id}",
    )
    assert replaced.status_code == 303
    page = client.get("/volontes/directives").text
    new_download = re.search(r'href="(/volontes/directives/[^/]+/telecharger)"', page).group(1)  # type: ignore[union-attr]
    assert new_download != download
    assert "Autre chose" in pdf_text(client.get(new_download).content)
    assert client.get(download).status_code == 200  # the old one stays downloadable


def test_uploading_directives(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    path = "/volontes/directives/deposer"
    token = form_token(client, path)
    none = client.post(path, data={"csrf_token": token}, follow_redirects=False)
    assert none.status_code == 400 and "Choisissez le fichier" in none.text
    text = "Mes directives : je refuse tout acharnement thérapeutique.\n".encode()
    done = client.post(
        path,
        data={"csrf_token": form_token(client, path), "document_date": "2026-01-15"},
        files={"file": ("directives.txt", text, "text/plain")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    page = client.get("/volontes/directives").text
    assert "15 janvier 2026" in page


def test_minors_are_told_directives_are_for_adults(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt, birth_date="2012-05-04")
    assert "réservées aux personnes majeures" in client.get("/volontes").text
    assert "ne sont pas proposées avant 18 ans" in client.get("/volontes/directives").text
    page = client.get(FORM)
    assert page.status_code == 403 and "ne sont pas proposées avant 18 ans" in page.text
    refused = post(client, FORM, ANSWERS, page="/volontes/directives")
    assert refused.status_code == 403


def test_a_file_the_documents_refuse_is_told_and_nothing_is_stored(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    path = "/volontes/directives/deposer"
    refused = client.post(
        path,
        data={"csrf_token": form_token(client, path)},
        files={"file": ("directives.html", b"<script>alert(1)</script>", "text/html")},
        follow_redirects=False,
    )
    assert 400 <= refused.status_code < 500
    assert 'class="fr-message fr-message--error"' in refused.text
    bad_date = client.post(
        path,
        data={"csrf_token": form_token(client, path), "document_date": "31/02/2026"},
        files={"file": ("da.txt", b"Mes directives.", "text/plain")},
        follow_redirects=False,
    )
    assert bad_date.status_code == 400 and "au format JJ/MM/AAAA" in bad_date.text
    assert (
        "Vous n’avez pas encore de directives anticipées."
        in client.get("/volontes/directives").text
    )


def test_the_pages_in_english_render(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    client.cookies.set("carnet_lang", "en")
    for path in ("/volontes", ADD, "/volontes/don-organes", "/volontes/directives", FORM):
        assert client.get(path, headers={"accept-language": "en"}).status_code == 200, path
