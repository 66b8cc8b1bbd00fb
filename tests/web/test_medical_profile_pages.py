"""The medical profile's pages over HTTP: overview, a section's list and forms, edit, delete,
"je ne suis pas concerné(e)", refused input (a message, a 4xx, nothing stored)."""

from __future__ import annotations

import re

from starlette.testclient import TestClient
from tests.space import form_token, signed_in_holder

from carnet.access.schemas import AccessContext
from carnet.core.actor import Actor, ActorKind
from carnet.profile import service as profile_service
from carnet.profile.schemas import ProfileItem, Section
from carnet.runtime import Runtime


def post(client: TestClient, path: str, page: str, **data: str):  # type: ignore[no-untyped-def]
    token = form_token(client, page)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def items(rt: Runtime, patient_id: str, section: Section) -> list[ProfileItem]:
    ctx = AccessContext(actor=Actor(ActorKind.PATIENT, patient_id), patient_id=patient_id)
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=ctx)
        return list(profile_service.list_section(repo, patient_id=patient_id, section=section))


def test_the_pages_need_a_signed_in_holder(client: TestClient) -> None:
    response = client.get("/profil-medical", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/connexion")


def test_the_overview_lists_every_section_and_the_note_on_professionals(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    page = client.get("/profil-medical")
    assert page.status_code == 200
    for title in (
        "Maladies et sujets de santé",
        "Traitements",
        "Groupe sanguin",
        "Habitudes de vie",
    ):
        assert title in page.text
    assert "Les professionnels de santé ne voient pas ce profil" in page.text
    assert client.get("/profil-medical/inconnue").status_code == 404


def test_add_a_disease_then_a_treatment_for_it_edit_and_delete(
    client: TestClient, rt: Runtime
) -> None:
    holder = signed_in_holder(client, rt)
    diseases = "/profil-medical/maladies"
    added = post(
        client,
        diseases,
        diseases,
        name="Asthme",
        onset_year="2019",
        onset_month="3",
        status="active",
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{diseases}?ajoute"
    listed = client.get(added.headers["location"])
    assert "Asthme" in listed.text and "Depuis 03/2019" in listed.text
    assert "L’élément est enregistré." in listed.text
    (disease,) = items(rt, holder.patient_id, Section.DISEASES)
    treatments = "/profil-medical/traitements"
    form = client.get(treatments).text
    assert f'<option value="{disease.id}"' in form
    done = post(
        client,
        treatments,
        treatments,
        name="Ventoline",
        dosage="2 bouffées si besoin",
        start_year="2019",
        disease=disease.id,
    )
    assert done.status_code == 303
    page = client.get(treatments).text
    assert "Ventoline" in page and "Maladie concernée : Asthme" in page
    (treatment,) = items(rt, holder.patient_id, Section.TREATMENTS)
    edit = f"{treatments}/{treatment.id}/modifier"
    assert 'value="Ventoline"' in client.get(edit).text
    changed = post(client, edit, edit, name="Ventoline 100", start_year="2018")
    assert changed.headers["location"] == f"{treatments}?modifie"
    (treatment,) = items(rt, holder.patient_id, Section.TREATMENTS)
    assert treatment.label == "Ventoline 100" and treatment.links == ()
    gone = post(client, f"{treatments}/{treatment.id}/supprimer", treatments)
    assert gone.headers["location"] == f"{treatments}?supprime"
    assert items(rt, holder.patient_id, Section.TREATMENTS) == []


def test_bad_input_shows_its_message_and_stores_nothing(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    path = "/profil-medical/traitements"
    future = post(client, path, path, name="Doliprane", start_year="2099")
    assert future.status_code == 400
    assert "Cette date est dans le futur" in future.text
    assert 'href="#start_year"' in future.text and 'aria-invalid="true"' in future.text
    month = post(client, path, path, name="Doliprane", start_year="2019", start_month="13")
    assert month.status_code == 400 and "le mois de 1 à 12" in month.text
    empty = post(client, path, path, name=" ", start_year="2019")
    assert empty.status_code == 400 and "Indiquez un nom." in empty.text
    assert 'value="2019"' in empty.text  # what was typed is kept
    assert items(rt, holder.patient_id, Section.TREATMENTS) == []
    missing = client.get(f"{path}/inexistant/modifier")
    assert missing.status_code == 404


def test_not_concerned_declared_refused_with_items_and_withdrawn(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    allergies = "/profil-medical/allergies"
    declared = post(client, f"{allergies}/non-concerne", allergies, action="declarer")
    assert declared.headers["location"] == f"{allergies}?non-concerne"
    page = client.get(allergies).text
    assert "Vous avez déclaré ne pas être concerné(e) le" in page
    assert "Non concerné(e), déclaré le" in client.get("/profil-medical").text
    post(client, allergies, allergies, substance="Arachide", category="food")
    page = client.get(allergies).text
    assert "Arachide" in page and "Vous avez déclaré" not in page
    refused = post(client, f"{allergies}/non-concerne", allergies, action="declarer")
    assert refused.status_code == 409
    assert "cette rubrique contient des éléments" in refused.text
    blood = "/profil-medical/groupe-sanguin"
    assert post(client, f"{blood}/non-concerne", blood).status_code == 404


def test_lifestyle_and_blood_group_forms_show_what_is_kept(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    path = "/profil-medical/habitudes-de-vie"
    post(client, path, path, TOBACCO="Jamais fumé", SLEEP="8 h par nuit")
    page = client.get(path).text
    assert re.search(r'<textarea[^>]*id="TOBACCO"[^>]*>Jamais fumé</textarea>', page)
    blood = "/profil-medical/groupe-sanguin"
    post(client, blood, blood, group="ABNEG")
    page = client.get(blood).text
    assert "AB-" in page and 'id="group-ABNEG" name="group" value="ABNEG" checked' in page
    assert [i.label for i in items(rt, holder.patient_id, Section.BLOOD_GROUP)] == ["AB-"]
    refused = post(client, blood, blood, group="Z")
    assert refused.status_code == 400 and 'href="#group-APOS"' in refused.text


def test_each_section_page_renders(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    for slug in (
        "maladies",
        "traitements",
        "hospitalisations",
        "handicaps",
        "allergies",
        "antecedents-familiaux",
        "habitudes-de-vie",
        "groupe-sanguin",
    ):
        page = client.get(f"/profil-medical/{slug}")
        assert page.status_code == 200, slug
        assert 'name="csrf_token"' in page.text


def test_a_stay_linked_to_one_of_the_persons_documents(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    ctx = AccessContext(
        actor=Actor(ActorKind.PATIENT, holder.patient_id), patient_id=holder.patient_id
    )
    with rt.transaction() as db:
        document = rt.record.repository(db=db, ctx=ctx).create(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "description": "Compte rendu d’hospitalisation",
                "subject": {"reference": f"Patient/{holder.patient_id}"},
                "content": [{"attachment": {"contentType": "application/pdf"}}],
            }
        )
    path = "/profil-medical/hospitalisations"
    assert f'<option value="{document.id}">Compte rendu d’hospitalisation</option>' in (
        client.get(path).text
    )
    done = post(
        client, path, path, kind="STAY", reason="Pneumonie", start_year="2024", document=document.id
    )
    assert done.status_code == 303
    assert "Document associé : Compte rendu d’hospitalisation" in client.get(path).text
    (stay,) = items(rt, holder.patient_id, Section.HOSPITALIZATIONS)
    assert stay.resource_type == "Encounter"
    assert stay.values["document"] == document.id


def test_deleting_a_document_removes_the_stay_s_link_to_it(client: TestClient, rt: Runtime) -> None:
    from datetime import date

    from carnet.documents import service as documents_service

    holder = signed_in_holder(client, rt)
    ctx = AccessContext(
        actor=Actor(ActorKind.PATIENT, holder.patient_id), patient_id=holder.patient_id
    )
    with rt.transaction() as db:
        document = documents_service.add_document(
            rt.record.repository(db=db, ctx=ctx),
            db=db,
            patient_id=holder.patient_id,
            content=b"Sortie le 3 mars.\n",
            filename="sortie.txt",
            title="Compte rendu de sortie",
            category="CPT_REND",
            document_date=date(2024, 3, 3),
        )
    path = "/profil-medical/hospitalisations"
    post(
        client, path, path, kind="STAY", reason="Pneumonie", start_year="2024", document=document.id
    )
    token = form_token(client, "/documents")
    deleted = client.post(
        "/documents/supprimer",
        data={"csrf_token": token, "documents": [document.id], "confirmer": "oui"},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    (stay,) = items(rt, holder.patient_id, Section.HOSPITALIZATIONS)
    assert not stay.values.get("document")
