"""The summary page over HTTP: the form, a PDF built and saved, errors, the IPS download."""

from __future__ import annotations

import orjson
from starlette.testclient import TestClient
from tests.space import form_token, signed_in_holder
from tests.summary import records
from tests.summary.records import space

from carnet.runtime import Runtime
from carnet.summary.schemas import Section
from carnet.web.forms import Form
from carnet.web.patient.summary import IPS, PAGE, summary_context

CHECKBOX = 'name="sections"'


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code in {302, 303}
    assert client.get(IPS, follow_redirects=False).status_code in {302, 303}


def test_the_form_offers_every_section_ticked() -> None:
    context = summary_context(form=Form(), chosen=frozenset({"VACCINES"}))
    assert [s["value"] for s in context["sections"]] == [s.value for s in Section]
    assert [s["checked"] for s in context["sections"]][:2] == [True, False]


def test_building_the_summary_saves_it_and_links_to_it(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    with space(rt, holder.patient_id) as repo:
        repo.create(records.allergy(holder.patient_id))
    page = client.get(PAGE)
    assert page.status_code == 200
    assert page.text.count(CHECKBOX) == len(Section)
    token = form_token(client, PAGE)
    response = client.post(
        PAGE,
        data={"csrf_token": token, "sections": ["ALLERGIES", "VACCINES"]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    assert target.startswith(f"{PAGE}?document=")
    document_id = target.rsplit("=", 1)[1]
    confirmed = client.get(target)
    assert "Votre synthèse est enregistrée dans vos documents" in confirmed.text
    assert f'href="/documents/{document_id}"' in confirmed.text
    with space(rt, holder.patient_id) as repo:
        body = orjson.loads(repo.read("DocumentReference", document_id).body)
    assert body["type"]["coding"][0]["code"] == "DOCPAT08"
    # Someone else's (or a made-up) document id confirms nothing.
    assert "enregistrée" not in client.get(f"{PAGE}?document=nope-123").text


def test_bad_choices_are_refused_with_a_message(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    token = form_token(client, PAGE)
    none = client.post(PAGE, data={"csrf_token": token}, follow_redirects=False)
    assert none.status_code == 400
    assert "Choisissez au moins une rubrique" in none.text
    assert 'href="#section-VACCINES"' in none.text
    unknown = client.post(
        PAGE,
        data={"csrf_token": token, "sections": ["VACCINES", "SECRETS"]},
        follow_redirects=False,
    )
    assert unknown.status_code == 400
    assert "Cette rubrique n’existe pas" in unknown.text
    with space(rt, holder.patient_id) as repo:
        found = repo.search("DocumentReference", [("patient", holder.patient_id)])
    assert found.matches == ()  # nothing stored on error
    assert client.post(PAGE, data={"sections": ["VACCINES"]}).status_code == 403  # no CSRF


def test_the_international_summary_downloads_as_fhir_json(client: TestClient, rt: Runtime) -> None:
    holder = signed_in_holder(client, rt)
    response = client.get(IPS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    bundle = response.json()
    assert bundle["type"] == "document"
    assert bundle["entry"][1]["resource"]["id"] == holder.patient_id
