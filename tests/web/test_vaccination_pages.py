"""The vaccinations pages: the carnet and the schedule, recording, correcting and deleting a
vaccination, and every refusal (a French message, a 4xx, nothing stored)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.space import Holder, form_token, signed_in_holder

from carnet.runtime import Runtime
from carnet.vaccination import resources
from carnet.vaccination.errors import MESSAGES
from carnet.web.patient import vaccinations_forms

ADD = "/vaccinations/ajouter"


def post_entry(client: TestClient, path: str, **changes: str) -> Any:
    data = {
        "csrf_token": form_token(client, ADD),
        "vaccine": "ror",
        "occurred_on": "2025-03-04",
        "dose_type": "INITIMMUNIZ",
        "lot_number": "AB123",
        "performer": "Pharmacie du Centre",
        "comment": "",
    } | changes
    return client.post(path, data=data, follow_redirects=False)


def vaccination_ids(client: TestClient) -> list[str]:
    page = client.get("/vaccinations")
    assert page.status_code == 200
    return re.findall(r'href="/vaccinations/([0-9a-f-]{20,})"', page.text)


def test_the_service_and_the_portal_say_the_same_sentences() -> None:
    assert vaccinations_forms.REFUSALS == MESSAGES


def test_the_pages_need_a_signed_in_patient(client: TestClient) -> None:
    for path in ("/vaccinations", ADD, "/vaccinations/abc"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303), path
        assert "/connexion" in response.headers["location"]


def test_record_a_vaccination_then_see_it_in_the_carnet_and_the_schedule(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt, birth_date="2024-11-20", sex="male")
    empty = client.get("/vaccinations")
    assert "Aucune vaccination n’est encore enregistrée." in empty.text
    assert "Obligatoire" in empty.text  # the infant series, mandatory since 2018
    form = client.get(ADD)
    assert form.status_code == 200 and 'name="dose_type"' in form.text
    assert not re.search(r"name=\"[^\"]*valid", form.text)  # validation is never offered
    made = post_entry(client, ADD)
    assert made.status_code == 303
    location = made.headers["location"]
    assert location.startswith("/vaccinations/") and location.endswith("?fait=ajoutee")
    detail = client.get(location)
    assert detail.status_code == 200
    assert "La vaccination est enregistrée dans votre carnet." in detail.text
    assert "AB123" in detail.text and "Pharmacie du Centre" in detail.text
    assert "Rougeole" in detail.text
    carnet = client.get("/vaccinations")
    assert "4 mars 2025" in carnet.text
    assert "<caption>" in carnet.text and 'scope="col"' in carnet.text
    assert "Faite le 4 mars 2025" in carnet.text  # counted as the first MMR dose


def test_an_english_reader_sees_the_referential_in_english(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    page = client.get(ADD, headers={"accept-language": "en"})
    assert "Measles, mumps, rubella" in page.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"occurred_on": (datetime.now(UTC).date() + timedelta(days=3)).isoformat()},
            "dans le futur",
        ),
        ({"occurred_on": "1980-01-01"}, "antérieure à la date de naissance"),
        ({"vaccine": "inconnu"}, "ne figure pas dans la liste"),
        ({"dose_type": "TRIPLE"}, "Ce type d’injection n’existe pas"),
        ({"occurred_on": "31/02/2025"}, "une date réelle"),
        ({"occurred_on": ""}, "Indiquez la date de la vaccination."),
        ({"vaccine": ""}, "Choisissez le vaccin"),
        ({"lot_number": "X" * 41}, "Ce texte est trop long."),
    ],
)
def test_bad_input_gets_a_french_message_a_400_and_nothing_stored(
    client: TestClient, rt: Runtime, changes: dict[str, str], message: str
) -> None:
    signed_in_holder(client, rt, birth_date="1984-03-12")
    response = post_entry(client, ADD, **changes)
    assert response.status_code == 400
    assert message in response.text
    assert 'id="resume-erreurs"' in response.text
    assert vaccination_ids(client) == []


def test_correct_then_delete_an_own_vaccination(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    made = post_entry(client, ADD)
    path = made.headers["location"].split("?")[0]
    changed = post_entry(client, path, vaccine="grippe", dose_type="IMMUNIZ", comment="Bras")
    assert changed.status_code == 303
    page = client.get(path)
    assert "Grippe saisonnière" in page.text and "Bras" in page.text
    refused = post_entry(client, path, occurred_on="2099-01-01")
    assert refused.status_code == 400
    assert "Grippe saisonnière" in client.get(path).text
    token = form_token(client, path)
    gone = client.post(f"{path}/supprimer", data={"csrf_token": token}, follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/vaccinations?fait=supprimee"
    assert client.get(path).status_code == 404
    assert vaccination_ids(client) == []


def test_a_professional_s_validated_entry_cannot_be_changed_from_the_portal(
    client: TestClient, rt: Runtime
) -> None:
    holder: Holder = signed_in_holder(client, rt)
    resource = resources.immunization(
        vaccinations_forms.read_entry(
            {"vaccine": "dtp", "occurred_on": "2020-05-05", "dose_type": "BOOSTER"}
        )[1],  # type: ignore[arg-type]
        patient_id=holder.patient_id,
        validated=True,
    )
    with rt.carnet_repository() as carnet:
        stored = carnet.create(resource)
    path = f"/vaccinations/{stored.id}"
    page = client.get(path)
    assert "Validée par un professionnel de santé" in page.text
    assert "/supprimer" not in page.text and "Modifier cette vaccination" not in page.text
    token = form_token(client, "/vaccinations/ajouter")
    refused = client.post(f"{path}/supprimer", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "ne peut pas être modifiée ni supprimée" in refused.text
    changed = post_entry(client, path)
    assert changed.status_code == 403
    assert stored.id in vaccination_ids(client)


def test_an_unknown_or_someone_else_s_vaccination_is_not_found(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    made = post_entry(client, ADD)
    theirs = made.headers["location"].split("?")[0]
    client.cookies.clear()
    signed_in_holder(client, rt)
    assert client.get(theirs).status_code == 404
    assert client.get("/vaccinations/pas-un-id").status_code == 404
    token = form_token(client, ADD)
    assert client.post(f"{theirs}/supprimer", data={"csrf_token": token}).status_code == 404
