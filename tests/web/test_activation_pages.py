"""Activating a space over HTTP: the five steps with CSRF and the activation cookie, then the
person is signed in; and every wrong turn answers a form message with a 4xx, nothing created."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file

from carnet.app import create_app
from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.runtime import Runtime, build_runtime

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NOTICE_CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")
SIX = re.compile(r"\b\d{6}\b")
Status = enrollment_service.BeneficiaryStatus


@dataclass
class Person:
    row: dict[str, str]
    code: str

    def details(self, **changes: str) -> dict[str, str]:
        birth = date.fromisoformat(self.row["date_naissance"])
        return {
            "code": self.code,
            "nir": self.row["nir"],
            "vitale_serial": self.row["numero_serie_vitale"],
            "birth_date": birth.strftime("%d/%m/%Y"),
        } | changes


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(
        fresh_database_url, tmp_path / "var", enrollment={"regeneration_failures": 3}
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def web(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def people(rt: Runtime, tmp_path: Path) -> list[Person]:
    rows = list(synthetic_registry(24, seed=3))
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    with rt.transaction() as db:
        rt.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=date(2026, 11, 26)
        )
    rt.worker(name="test").run_until_idle()
    outbox = rt.notify.email.outbox  # type: ignore[attr-defined]
    found = []
    for row in rows:
        sent = [m for m in outbox if m.to == row["email"] and m.kind == "space_opening"]
        if sent and not row["nir_ouvrant_droit"]:
            match = NOTICE_CODE.search(sent[-1].text)
            assert match is not None
            found.append(Person(row, match.group()))
    assert len(found) >= 2
    return found


def post(client: TestClient, page: str, data: dict[str, str], *, action: str | None = None):  # type: ignore[no-untyped-def]
    shown = client.get(page)
    match = TOKEN.search(shown.text)
    assert match, (page, shown.status_code)
    return client.post(
        action or page, data={"csrf_token": match.group(1), **data}, follow_redirects=False
    )


def otp(rt: Runtime) -> str:
    rt.worker(name="test").run_until_idle()
    outbox = rt.notify.email.outbox  # type: ignore[attr-defined]
    message = next(m for m in reversed(outbox) if m.kind == "activation_contact")
    match = SIX.search(message.text)
    assert match is not None
    return match.group()


def status_of(rt: Runtime, person: Person) -> Status:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=person.row["nir"])
    assert found is not None
    return found.status


def to_terms(web: TestClient, rt: Runtime, person: Person, login: str) -> None:
    response = post(web, "/activation", person.details())
    assert (response.status_code, response.headers["location"]) == (303, "/activation/contact")
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "path=/activation" in response.headers["set-cookie"].lower()
    response = post(web, "/activation/contact", {"channel": "email", "email": person.row["email"]})
    assert response.headers["location"] == "/activation/code"
    response = post(web, "/activation/code", {"code": otp(rt)})
    assert response.headers["location"] == "/activation/identifiants"
    password = "Tournesol-42!"
    response = post(
        web,
        "/activation/identifiants",
        {"login": login, "password": password, "confirmation": password},
    )
    assert response.headers["location"] == "/activation/conditions"


def test_the_five_steps_activate_the_space_and_sign_the_person_in(
    web: TestClient, rt: Runtime, people: list[Person]
) -> None:
    person = people[0]
    page = web.get("/activation")
    assert page.status_code == 200 and "Code d’activation" in page.text
    response = post(web, "/activation", person.details())
    assert response.status_code == 303
    contact = web.get("/activation/contact")
    assert f'value="{person.row["email"]}"' in contact.text
    post(web, "/activation/contact", {"channel": "email", "email": person.row["email"]})
    wrong = post(web, "/activation/code", {"code": "000000" if otp(rt) != "000000" else "111111"})
    assert wrong.status_code == 400 and "Code incorrect" in wrong.text
    post(web, "/activation/code", {"code": otp(rt)})
    weak = post(
        web,
        "/activation/identifiants",
        {"login": "http.person", "password": "tournesol", "confirmation": "tournesol"},
    )
    assert weak.status_code == 400 and "majuscule" in weak.text
    different = post(
        web,
        "/activation/identifiants",
        {"login": "http.person", "password": "Tournesol-42!", "confirmation": "Tournesol-43!"},
    )
    assert different.status_code == 400 and "pas identiques" in different.text
    post(
        web,
        "/activation/identifiants",
        {"login": "http.person", "password": "Tournesol-42!", "confirmation": "Tournesol-42!"},
    )
    refused = post(web, "/activation/conditions", {})
    assert refused.status_code == 400 and "cochez la case" in refused.text
    assert post(web, "/activation/conditions", {"accept": "oui"}).status_code == 303
    choices = web.get("/activation/choix")
    assert 'id="samu-oui" name="samu" value="oui" checked' in choices.text
    assert 'id="masked_emergency-non" name="masked_emergency" value="non" checked' in choices.text
    done = post(
        web,
        "/activation/choix",
        {
            "confidentiality": "visible",
            "samu": "oui",
            "break_glass": "non",
            "masked_emergency": "non",
        },
    )
    assert (done.status_code, done.headers["location"]) == (303, "/?bienvenue=1")
    assert "carnet_session=" in done.headers["set-cookie"]
    assert status_of(rt, person) is Status.ACTIVE
    home = web.get("/")
    assert "Se déconnecter" in home.text
    assert web.get("/activation/choix").status_code == 410  # over: nothing to replay


def test_bad_details_get_form_messages_then_a_lockout_with_a_way_out(
    web: TestClient, rt: Runtime, people: list[Person]
) -> None:
    person = people[0]
    malformed = post(web, "/activation", person.details(nir="123", birth_date="31/02/1980"))
    assert malformed.status_code == 400
    assert "15 caractères" in malformed.text and "date de naissance" in malformed.text
    for serial in ("11111111", "22222222"):
        mismatch = post(web, "/activation", person.details(vitale_serial=serial))
        assert mismatch.status_code == 400 and "ne correspondent pas" in mismatch.text
        assert "/activation/nouveau-code" in mismatch.text
    locked = post(web, "/activation", person.details(vitale_serial="33333333"))
    assert locked.status_code == 429 and "bloquée pendant 60 minutes" in locked.text
    assert 'href="/activation/nouveau-code"' in locked.text
    assert post(web, "/activation", person.details()).status_code == 429
    # The way out: a new code, whose answer never says whether the details matched.
    page = post(
        web,
        "/activation/nouveau-code",
        {k: v for k, v in person.details().items() if k != "code"} | {"channel": "email"},
    )
    assert page.status_code == 200 and "un nouveau code part" in page.text


def test_steps_cannot_be_skipped_by_url(web: TestClient, people: list[Person]) -> None:
    assert web.get("/activation/choix").status_code == 410
    assert web.post("/activation/choix", data={}).status_code in {403, 410}  # CSRF first
    post(web, "/activation", people[0].details())
    ahead = web.get("/activation/choix")
    assert ahead.status_code == 409 and 'href="/activation/contact"' in ahead.text
    skipped = post(
        web,
        "/activation/contact",
        {
            "confidentiality": "visible",
            "samu": "oui",
            "break_glass": "oui",
            "masked_emergency": "non",
        },
        action="/activation/choix",
    )
    assert skipped.status_code == 409


def test_an_opposed_person_is_pointed_to_asking_for_a_space(
    web: TestClient, rt: Runtime, people: list[Person]
) -> None:
    from sqlalchemy import update

    from carnet.enrollment import models

    person = people[1]
    with rt.transaction() as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=person.row["nir"])
        assert found is not None
        db.execute(
            update(models.beneficiary)
            .where(models.beneficiary.c.id == found.id)
            .values(status=Status.OPPOSED.value)
        )
    refused = post(web, "/activation", person.details())
    assert refused.status_code == 403 and "opposé" in refused.text
    # The opposition pages' own route for asking for one's space.
    assert 'href="/opposition/demander-un-profil"' in refused.text


def test_a_login_taken_sends_the_person_back_with_a_message(
    web: TestClient, rt: Runtime, people: list[Person]
) -> None:
    to_terms(web, rt, people[0], "taken.login.x")
    post(web, "/activation/conditions", {"accept": "oui"})
    with TestClient(create_app(rt), base_url="http://testserver") as other:
        to_terms(other, rt, people[1], "taken.login.x")
        post(other, "/activation/conditions", {"accept": "oui"})
        choices = {
            "confidentiality": "visible",
            "samu": "oui",
            "break_glass": "oui",
            "masked_emergency": "non",
        }
        assert post(other, "/activation/choix", choices).status_code == 303
    back = post(web, "/activation/choix", choices)
    assert back.status_code == 409 and "déjà pris" in back.text
    assert 'action="/activation/identifiants"' in back.text
    assert web.get("/activation/identifiants").status_code == 200  # the step to redo
    assert status_of(rt, people[0]) is Status.NOTIFIED
