"""The opposition pages over HTTP, on the real app: opposing with the code of a notice, the PDF
proof bound to the browser, every refusal as a form message with a 4xx, and asking for a space
after opposing. One database for the module (a registry informed by a campaign); each test
takes its own people."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from starlette.testclient import TestClient
from tests.conftest import make_settings, new_database
from tests.enrollment.conftest import write_file

from carnet import migrations
from carnet.app import create_app
from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.runtime import Runtime, build_runtime

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TICKET = re.compile(r'name="ticket" value="([^"]+)"')
CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
REFERENCE = re.compile(r"\bOPP-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
Row = dict[str, str]


@pytest.fixture(scope="module")
def ort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    directory = tmp_path_factory.mktemp("opposition")
    with new_database(directory) as url:
        migrations.upgrade(url)
        settings = make_settings(
            url,
            directory / "var",
            enrollment={"regeneration_failures": 3, "address_failures": 100},
        )
        clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
        runtime = build_runtime(settings, clock=clock, configure_logs=False)
        yield runtime
        runtime.close()


@pytest.fixture(scope="module")
def people(ort: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Row]]:
    """Informed holders with an e-mail address, handed out one by one to the tests."""
    generated = list(synthetic_registry(120, seed=23))
    enrollment_service.import_registry(
        source=write_file(tmp_path_factory.mktemp("registry") / "r.txt", generated),
        storage=ort.storage,
        audit=ort.audit,
        transaction=ort.transaction,
    )
    with ort.transaction() as db:
        ort.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=date(2026, 11, 26)
        )
    ort.worker(name="test").run_until_idle()
    informed = [
        r
        for r in generated
        if r["email"] and not r["nir_ouvrant_droit"] and r["departement"] in {"31", "44", "80"}
    ]
    assert len(informed) >= 8
    return informed


@pytest.fixture
def web(ort: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(ort), base_url="http://testserver") as client:
        yield client


def code_of(rt: Runtime, row: Row, kind: str = "space_opening") -> str:
    rt.worker(name="test").run_until_idle()
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    sent = [m for m in sender.outbox if m.to == row["email"] and m.kind == kind]
    found = CODE.search(sent[-1].text)
    assert found is not None
    return found.group()


def french(day: str) -> str:
    return "/".join(reversed(day.split("-")))


def post(client: TestClient, path: str, row: Row, **fields: str):
    page = client.get(path)
    assert page.status_code == 200
    token = TOKEN.search(page.text)
    assert token
    data = {
        "csrf_token": token.group(1),
        "nir": row["nir"],
        "vitale_serial": row["numero_serie_vitale"],
        "birth_date": french(row["date_naissance"]),
    } | fields
    return client.post(path, data=data)


def test_opposing_online_then_downloading_the_proof(
    web: TestClient, ort: Runtime, people: list[Row]
) -> None:
    row = people[0]
    done = post(web, "/opposition", row, code=code_of(ort, row))
    assert done.status_code == 200, done.text
    reference = REFERENCE.search(done.text)
    ticket = TICKET.search(done.text)
    assert reference and ticket
    assert row["nir"] not in done.text
    token = TOKEN.search(done.text)
    assert token
    proof = web.post(
        "/opposition/attestation",
        data={
            "csrf_token": token.group(1),
            "reference": reference.group(),
            "ticket": ticket.group(1),
        },
    )
    assert proof.status_code == 200
    assert proof.headers["content-type"] == "application/pdf"
    assert proof.headers["content-disposition"].startswith("attachment")
    assert proof.content.startswith(b"%PDF-")

    # The same ticket from another browser (its own CSRF cookie) opens nothing.
    with TestClient(create_app(ort), base_url="http://testserver") as other:
        form = other.get("/opposition")
        other_token = TOKEN.search(form.text)
        assert other_token
        stolen = other.post(
            "/opposition/attestation",
            data={
                "csrf_token": other_token.group(1),
                "reference": reference.group(),
                "ticket": ticket.group(1),
            },
        )
    assert stolen.status_code == 404
    assert b"%PDF" not in stolen.content

    # Opposing again: the same receipt, said so.
    again = post(web, "/opposition", row, code=code_of(ort, row))
    assert again.status_code == 200
    assert reference.group() in again.text
    assert "déjà été enregistrée" in again.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"nir": ""}, "nir", "Saisissez votre numéro de sécurité sociale"),
        ({"nir": "12345"}, "nir", "compte 15 caractères"),
        ({"code": ""}, "code", "Saisissez le code d’activation"),
        ({"birth_date": "31/02/1980"}, "birth_date", "au format JJ/MM/AAAA"),
        ({"vitale_serial": ""}, "vitale_serial", "numéro de série de votre carte Vitale"),
    ],
)
def test_a_form_with_missing_or_malformed_fields_says_so(
    web: TestClient, people: list[Row], change: dict[str, str], field: str, message: str
) -> None:
    row = people[1]
    response = post(web, "/opposition", row, **({"code": "AAAA-BBBB-CCCC"} | change))
    assert response.status_code == 400
    assert message in response.text
    assert f'href="#{field}"' in response.text  # the error summary links to the field
    assert 'aria-invalid="true"' in response.text


def test_opposing_online_for_one_child_only(
    web: TestClient, ort: Runtime, people: list[Row]
) -> None:
    generated = list(synthetic_registry(120, seed=23))
    row = next(
        h
        for h in reversed(people[7:])
        if any(r["nir_ouvrant_droit"] == h["nir"] for r in generated)
    )
    child = next(r for r in generated if r["nir_ouvrant_droit"] == row["nir"])
    code = code_of(ort, row)
    missing = post(web, "/opposition", row, code=code, scope="child", child_nir="")
    assert missing.status_code == 400
    assert "numéro de sécurité sociale de l’enfant" in missing.text
    assert 'href="#child_nir"' in missing.text
    stranger = next(r for r in generated if r["nir_ouvrant_droit"] and r is not child)
    unknown = post(web, "/opposition", row, code=code, scope="child", child_nir=stranger["nir"])
    assert unknown.status_code == 400
    assert "Aucun enfant mineur rattaché à vous" in unknown.text
    done = post(web, "/opposition", row, code=code, scope="child", child_nir=child["nir"])
    assert done.status_code == 200, done.text
    assert REFERENCE.search(done.text) and TICKET.search(done.text)
    assert child["nir"] not in done.text
    assert "au nom de votre enfant" in done.text and "reste valable" in done.text
    with ort.transaction(readonly=True) as db:
        opposed = enrollment_service.find_beneficiary(db, storage=ort.storage, nir=child["nir"])
        holder = enrollment_service.find_beneficiary(db, storage=ort.storage, nir=row["nir"])
    assert opposed is not None and opposed.status is enrollment_service.BeneficiaryStatus.OPPOSED
    assert holder is not None and holder.status is enrollment_service.BeneficiaryStatus.NOTIFIED


def test_refusals_of_the_service_are_form_messages(
    web: TestClient, ort: Runtime, people: list[Row]
) -> None:
    row = people[2]
    code = code_of(ort, row)
    bad_key = row["nir"][:13] + f"{(int(row['nir'][13:]) + 1) % 100:02d}"
    key = post(web, "/opposition", row, code=code, nir=bad_key)
    assert key.status_code == 400
    assert "La clé du numéro de sécurité sociale" in key.text
    wrong = post(web, "/opposition", row, code="AAAA-BBBB-CCCC")
    assert wrong.status_code == 400
    assert "Ce code d’activation n’est pas le bon" in wrong.text
    mismatch = post(web, "/opposition", row, code=code, birth_date="01/01/1950")
    assert mismatch.status_code == 400
    assert "ne correspondent pas à nos informations" in mismatch.text
    # The third slip locks the NIR, with the way out: wait, or call.
    locked = post(web, "/opposition", row, code=code, vitale_serial="1" * 11)
    assert locked.status_code == 429
    assert "bloqué jusqu’à" in locked.text and "appelez nos conseillers" in locked.text
    assert post(web, "/opposition", row, code=code).status_code == 429
    with ort.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=ort.storage, nir=row["nir"])
    assert found is not None and found.status is enrollment_service.BeneficiaryStatus.NOTIFIED


def test_a_used_code_is_told_apart(web: TestClient, ort: Runtime, people: list[Row]) -> None:
    row = people[3]
    old = code_of(ort, row)
    with ort.transaction() as db:
        ort.enrollment.regenerate_code(
            db,
            nir=row["nir"],
            vitale_serial=row["numero_serie_vitale"],
            birth_date=date.fromisoformat(row["date_naissance"]),
            channel=enrollment_service.CodeChannel.EMAIL,
        )
    used = post(web, "/opposition", row, code=old)
    assert used.status_code == 400
    assert "a déjà servi" in used.text


def test_changing_ones_mind_over_the_web(web: TestClient, ort: Runtime, people: list[Row]) -> None:
    row, never = people[4], people[5]
    assert post(web, "/opposition", row, code=code_of(ort, row)).status_code == 200
    asked = post(web, "/opposition/demander-un-profil", row)
    assert asked.status_code == 200, asked.text
    assert "Votre espace santé est ouvert" in asked.text
    assert code_of(ort, row, kind="activation_code")
    again = post(web, "/opposition/demander-un-profil", row)
    assert again.status_code == 409
    assert "Aucune opposition n’est enregistrée" in again.text
    assert post(web, "/opposition/demander-un-profil", never).status_code == 409
    wrong = post(web, "/opposition/demander-un-profil", never, birth_date="01/01/1950")
    assert wrong.status_code == 400
    # The older address the activation pages link to leads here.
    moved = web.get("/opposition/demande", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (308, "/opposition/demander-un-profil")


def test_after_the_window_the_page_points_to_closing(
    web: TestClient, ort: Runtime, people: list[Row]
) -> None:
    row = people[6]
    code = code_of(ort, row)
    clock = ort.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(days=43))
    try:
        late = post(web, "/opposition", row, code=code)
    finally:
        clock.advance(timedelta(days=-43))
    assert late.status_code == 409
    assert 'href="/compte/fermeture"' in late.text


def test_the_pages_speak_english_too(web: TestClient) -> None:
    for path, title in (
        ("/opposition", "Oppose the opening of your health space"),
        ("/opposition/demander-un-profil", "Ask for your health space to be opened"),
    ):
        page = web.get(path, headers={"accept-language": "en"})
        assert page.status_code == 200
        assert f"<h1>{title}</h1>" in page.text
