"""The measures pages over HTTP: tiles, a measure's chart, table and history, the add and
target forms and their refusals, deletion, and a child's growth charts."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from starlette.testclient import TestClient
from tests.space import form_token, signed_in_holder

from carnet.runtime import Runtime

SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
SVG_NS = "{http://www.w3.org/2000/svg}"


def add(client: TestClient, slug: str, **fields: str) -> object:
    token = form_token(client, f"/mesures/{slug}")
    data = {"csrf_token": token, "date": "2026-01-15", **fields}
    return client.post(f"/mesures/{slug}", data=data, follow_redirects=False)


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in SVG.findall(html) if 'role="img"' in m[:400]]


def test_the_measures_pages_need_a_signed_in_person(client: TestClient) -> None:
    response = client.get("/mesures", follow_redirects=False)
    assert response.status_code in {302, 303}
    assert "/connexion" in response.headers["location"]


def test_tiles_show_the_last_value_of_each_measure(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    page = client.get("/mesures")
    assert page.status_code == 200
    assert page.text.count('class="fr-tile ') == 14
    assert "Aucune mesure" in page.text
    assert add(client, "poids", valeur="68,4").status_code == 303  # type: ignore[attr-defined]
    assert "68,4 kg" in client.get("/mesures").text
    assert "/mesures/croissance" not in client.get("/mesures").text  # an adult


def test_adding_a_measure_draws_it_on_the_chart_and_in_the_table(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    done = add(client, "tension", valeur="128", valeur2="82", heure="08:30")
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/mesures/tension?enregistre=1"  # type: ignore[attr-defined]
    page = client.get("/mesures/tension?enregistre=1")
    assert "La mesure est enregistrée." in page.text
    (svg,) = svgs(page.text)
    assert svg.find(f"{SVG_NS}title") is not None
    values = [c.get("data-value") for c in svg.iter(f"{SVG_NS}circle")]
    assert values == ["128", "82"]
    assert "128/82" in page.text
    assert 'style="' not in SVG.findall(page.text)[0]


def test_an_out_of_range_value_is_refused_with_its_message_and_nothing_stored(
    client: TestClient, rt: Runtime
) -> None:
    signed_in_holder(client, rt)
    refused = add(client, "temperature", valeur="47")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "La température doit être comprise entre 25 et 45 °C." in refused.text  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in refused.text  # type: ignore[attr-defined]
    assert "Aucune mesure enregistrée." in client.get("/mesures/temperature").text
    # A message with a percent sign renders (the catalogue's "%%" is a literal "%").
    percent = add(client, "hba1c", valeur="40")
    assert percent.status_code == 400  # type: ignore[attr-defined]
    assert "doit être comprise entre 2 et 25 %." in percent.text  # type: ignore[attr-defined]


def test_a_future_date_and_a_bad_number_are_refused(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    future = add(client, "poids", valeur="70", date="2099-01-01")
    assert future.status_code == 400  # type: ignore[attr-defined]
    assert "ne peut pas être dans le futur" in future.text  # type: ignore[attr-defined]
    word = add(client, "poids", valeur="soixante")
    assert word.status_code == 400  # type: ignore[attr-defined]
    assert "Saisissez un nombre" in word.text  # type: ignore[attr-defined]
    bad_date = add(client, "poids", valeur="70", date="31/02/2026")
    assert bad_date.status_code == 400  # type: ignore[attr-defined]


def test_bmi_cannot_be_posted_and_is_computed(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    refused = add(client, "imc", valeur="22")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "L’IMC ne se saisit pas" in refused.text  # type: ignore[attr-defined]
    add(client, "taille", valeur="170")
    add(client, "poids", valeur="72,25")
    page = client.get("/mesures/imc")
    assert "Ajouter une mesure" not in page.text
    assert "25" in [c.get("data-value") for c in svgs(page.text)[0].iter(f"{SVG_NS}circle")]


def test_glucose_asks_for_its_moment(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    refused = add(client, "glycemie", valeur="5,5", unite="mmol/L")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "à quel moment" in refused.text  # type: ignore[attr-defined]
    done = add(client, "glycemie", valeur="5,5", unite="mmol/L", moment="a-jeun")
    assert done.status_code == 303  # type: ignore[attr-defined]
    page = client.get("/mesures/glycemie")
    assert "À jeun" in page.text and ">99<" in page.text


def test_history_pages_and_deletion(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    for day in range(1, 13):
        add(client, "pas", valeur=str(5000 + day), date=f"2026-01-{day:02d}")
    first = client.get("/mesures/pas")
    assert first.text.count("/suppression") == 10
    history = first.text.split('id="historique"')[1]
    assert "5012" in history and "5001<" not in history
    older = re.search(r'href="(/mesures/pas\?page=[^"#]+)', first.text)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count("/suppression") == 2
    assert "5001<" in second.text.split('id="historique"')[1]
    measure_id = re.search(r'action="/mesures/pas/([^/"]+)/suppression"', first.text)
    assert measure_id
    token = form_token(client, "/mesures/pas")
    path = f"/mesures/pas/{measure_id.group(1)}/suppression"
    deleted = client.post(path, data={"csrf_token": token}, follow_redirects=False)
    assert deleted.headers["location"] == "/mesures/pas?supprime=1"
    again = client.post(path, data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 404


def test_a_target_shows_on_the_chart(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    add(client, "poids", valeur="70")
    token = form_token(client, "/mesures/poids")
    wrong = client.post(
        "/mesures/poids/objectif",
        data={"csrf_token": token, "objectif_bas": "70", "objectif_haut": "60"},
    )
    assert wrong.status_code == 400
    assert "inférieure à sa limite haute" in wrong.text
    done = client.post(
        "/mesures/poids/objectif",
        data={"csrf_token": token, "objectif_bas": "62", "objectif_haut": "68"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get("/mesures/poids")
    assert 'value="62"' in page.text and 'value="68"' in page.text
    assert 'stroke-dasharray="6 4"' in SVG.findall(page.text)[0]


def test_unknown_measure_and_missing_csrf(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt)
    assert client.get("/mesures/cholesterol").status_code == 404
    english = client.get("/mesures/glycemie", headers={"accept-language": "en"})
    assert english.status_code == 200 and 'lang="en"' in english.text
    forged = client.post("/mesures/poids", data={"valeur": "70", "date": "2026-01-01"})
    assert forged.status_code == 403


def test_a_child_sees_growth_charts_with_the_who_curves(client: TestClient, rt: Runtime) -> None:
    signed_in_holder(client, rt, birth_date="2024-05-01", sex="female")
    assert "/mesures/croissance" in client.get("/mesures").text
    add(client, "taille", valeur="74", date="2025-05-01")
    page = client.get("/mesures/croissance")
    assert page.status_code == 200
    charts = svgs(page.text)
    assert len(charts) == 4
    height = next(s for s in charts if "Taille" in (s.find(f"{SVG_NS}title").text or ""))  # type: ignore[union-attr]
    assert [c.get("data-value") for c in height.iter(f"{SVG_NS}circle")] == ["74"]
    assert "OMS" in page.text and "P50" in page.text
