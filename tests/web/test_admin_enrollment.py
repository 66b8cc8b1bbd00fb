"""The operators' console over HTTP: roles, CSRF, the dashboard and campaigns, a person looked
up by a posted NIR (never in a URL, never shown back), a new code, a phone opposition and its
proof, a suspension and its lifting; bad input answers with a form message and a 4xx."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from tests.accounts.factories import make_account, make_operator
from tests.conftest import make_settings, new_database
from tests.enrollment.conftest import write_file
from tests.web.test_sign_in_http import csrf, password_step, sign_in

from carnet import migrations
from carnet.app import create_app
from carnet.audit import models as audit_models
from carnet.core.actor import CARNET
from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.identity import service as identity_service
from carnet.identity.accounts import totp
from carnet.identity.accounts.schemas import OperatorRole
from carnet.runtime import Runtime, build_runtime

Row = dict[str, str]
PEOPLE = "/admin/ouverture/personnes"
PILOTS = enrollment_service.PILOT_DEPARTEMENTS


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def crt(tmp_path_factory: pytest.TempPathFactory, clock: FrozenClock) -> Iterator[Runtime]:
    """A runtime on a database of its own (the dashboard counts everyone in it)."""
    directory = tmp_path_factory.mktemp("console")
    with new_database(directory) as url:
        migrations.upgrade(url)
        runtime = build_runtime(
            make_settings(url, directory / "var"), clock=clock, configure_logs=False
        )
        yield runtime
        runtime.close()


@pytest.fixture(scope="module")
def rows(crt: Runtime, tmp_path_factory: pytest.TempPathFactory) -> list[Row]:
    """60 generated lines imported, the pilot départements informed."""
    generated = list(synthetic_registry(60, seed=23))
    enrollment_service.import_registry(
        source=write_file(tmp_path_factory.mktemp("registry") / "registry.txt", generated),
        storage=crt.storage,
        audit=crt.audit,
        transaction=crt.transaction,
    )
    with crt.transaction() as db:
        crt.enrollment.start_campaign(
            db, actor=CARNET, departements="31,44,80", send_date=date(2026, 11, 26)
        )
    crt.worker(name="test").run_until_idle()
    return generated


@pytest.fixture
def web(crt: Runtime, rows: list[Row]) -> Iterator[TestClient]:
    del rows
    with TestClient(create_app(crt), base_url="http://testserver") as client:
        yield client


def operator(web: TestClient, rt: Runtime, clock: FrozenClock, *roles: OperatorRole) -> None:
    """Sign ``web`` in as a new operator holding ``roles`` (password, then TOTP)."""
    made = make_operator(rt, roles=roles)
    assert password_step(web, made, path="/admin/connexion").status_code == 303
    token = csrf(web, "/connexion/code")
    assert made.totp_secret
    code = totp.current_code(made.totp_secret, now=clock.now())
    done = web.post(
        "/connexion/code", data={"csrf_token": token, "code": code}, follow_redirects=False
    )
    assert done.status_code == 303


def post(web: TestClient, path: str, data: dict[str, str], *, page: str = PEOPLE):  # type: ignore[no-untyped-def]
    return web.post(path, data={"csrf_token": csrf(web, page), **data}, follow_redirects=False)


def holders(rows: list[Row], *, email: bool) -> list[Row]:
    return [
        r
        for r in rows
        if not r["nir_ouvrant_droit"] and r["departement"] in PILOTS and bool(r["email"]) is email
    ]


def person_id(rt: Runtime, nir: str) -> str:
    with rt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=nir)
    assert found is not None
    return found.id


def chain_tags(rt: Runtime, chain_id: str) -> list[tuple[str, str, str]]:
    event = audit_models.event
    with rt.transaction(readonly=True) as db:
        rows = db.execute(
            select(event.c.tag, event.c.actor_kind, event.c.outcome)
            .where(event.c.chain_id == chain_id)
            .order_by(event.c.seq)
        )
        return [(r.tag, r.actor_kind, r.outcome) for r in rows]


def operator_actions(rt: Runtime) -> list[tuple[str, str]]:
    event = audit_models.event
    with rt.transaction(readonly=True) as db:
        rows = db.execute(
            select(event.c.detail, event.c.outcome)
            .where(event.c.tag == "identity:operator:action")
            .order_by(event.c.seq)
        )
        return [(json.loads(r.detail)["action"], r.outcome) for r in rows]


def test_each_page_needs_an_operator_with_the_right_role(
    web: TestClient, crt: Runtime, clock: FrozenClock
) -> None:
    for path in ("/admin/ouverture", "/admin/ouverture/campagnes", PEOPLE):
        assert (
            web.get(path, follow_redirects=False)
            .headers["location"]
            .startswith("/admin/connexion?next=")
        )
    sign_in(web, crt, make_account(crt))
    assert web.get("/admin/ouverture", follow_redirects=False).status_code == 303
    web.cookies.clear()
    operator(web, crt, clock, OperatorRole.REFERENCING)
    for path in ("/admin/ouverture", "/admin/ouverture/campagnes/nouvelle", PEOPLE):
        assert web.get(path).status_code == 403
    assert ("view:enrollment-dashboard", "refused") in operator_actions(crt)
    web.cookies.clear()
    operator(web, crt, clock, OperatorRole.SUPPORT)
    assert web.get("/admin/ouverture").status_code == 200
    assert web.get("/admin/ouverture/campagnes/nouvelle").status_code == 403  # enrollment only
    web.cookies.clear()
    operator(web, crt, clock, OperatorRole.ENROLLMENT)
    assert web.get(PEOPLE).status_code == 403  # support and security only
    home = web.get("/admin")
    assert 'href="/admin/ouverture"' in home.text


def test_the_dashboard_counts_by_departement(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    operator(web, crt, clock, OperatorRole.ENROLLMENT)
    page = web.get("/admin/ouverture")
    assert page.status_code == 200
    for departement in PILOTS:
        informed = len([r for r in rows if r["departement"] == departement])
        assert f'<th scope="row">{departement}</th>' in page.text
        assert f"<td>{informed}</td>" in page.text
    assert not {r["nir"] for r in rows} & set(re.findall(r"\d{13,15}", page.text))
    assert ("view:enrollment-dashboard", "success") in operator_actions(crt)


def test_an_enrollment_operator_starts_a_campaign(
    web: TestClient, crt: Runtime, clock: FrozenClock
) -> None:
    operator(web, crt, clock, OperatorRole.ENROLLMENT)
    page = "/admin/ouverture/campagnes/nouvelle"
    form = web.get(page)
    assert form.status_code == 200 and 'value="2026-11-26"' in form.text
    unknown = post(
        web,
        page,
        {"departements": "31, 99", "send_date": "2026-12-01", "kind": "initial"},
        page=page,
    )
    assert unknown.status_code == 400
    assert "Un des départements n’existe pas" in unknown.text
    past = post(
        web, page, {"departements": "59", "send_date": "2026-11-01", "kind": "initial"}, page=page
    )
    assert past.status_code == 400 and "ne peut pas être passée" in past.text
    empty = post(web, page, {"send_date": "bientôt", "kind": "weekly"}, page=page)
    assert empty.status_code == 400
    assert "Choisissez au moins un département" in empty.text
    assert "Choisissez le type de campagne" in empty.text
    data = {"csrf_token": csrf(web, page), "pilot": ["44"], "departements": "59, 2a"}
    data |= {"send_date": "2026-12-01", "kind": "newcomers"}
    started = web.post(page, data=data, follow_redirects=False)
    assert started.status_code == 303
    detail = web.get(started.headers["location"])
    assert detail.status_code == 200
    assert "44, 59, 2A" in detail.text and "1 décembre 2026" in detail.text
    listing = web.get("/admin/ouverture/campagnes")
    assert started.headers["location"] in listing.text
    assert web.get("/admin/ouverture/campagnes/no-such-campaign").status_code == 404
    assert ("enrollment:campaign-start", "success") in operator_actions(crt)


def test_forms_without_the_csrf_token_are_refused(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    operator(web, crt, clock, OperatorRole.SUPPORT, OperatorRole.ENROLLMENT)
    nir = holders(rows, email=True)[0]["nir"]
    assert web.post(PEOPLE, data={"nir": nir}).status_code == 403
    assert web.post(PEOPLE + "/code", data={"person": "x"}).status_code == 403
    assert (
        web.post(
            "/admin/ouverture/campagnes/nouvelle",
            data={"departements": "31", "send_date": "2026-12-01", "kind": "initial"},
        ).status_code
        == 403
    )


def test_a_lookup_answers_with_the_person_never_their_nir(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    operator(web, crt, clock, OperatorRole.SUPPORT)
    row = holders(rows, email=True)[0]
    found = post(web, PEOPLE, {"nir": row["nir"]})
    assert found.status_code == 200
    assert row["prenoms"] in found.text
    assert row["nir"] not in found.text and row["email"] not in found.text
    assert row["numero_serie_vitale"] not in found.text
    assert "Enregistrer une opposition par téléphone" in found.text
    assert "Suspendre" not in found.text  # a security operator's action
    chain = chain_tags(crt, person_id(crt, row["nir"]))
    assert ("enrollment:console:lookup", "operator", "success") in chain
    assert ("enrollment:lookup", "success") in operator_actions(crt)

    wrong_key = row["nir"][:13] + f"{(int(row['nir'][13:]) + 1) % 100:02d}"
    refused = post(web, PEOPLE, {"nir": wrong_key})
    assert refused.status_code == 400 and "La clé" in refused.text
    assert wrong_key not in refused.text
    assert post(web, PEOPLE, {"nir": "12345"}).status_code == 400
    first13 = "2991299999123"
    unknown = post(web, PEOPLE, {"nir": first13 + identity_service.nir_key(first13)})
    assert unknown.status_code == 404 and "Aucune personne" in unknown.text
    assert ("enrollment:lookup", "not-found") in operator_actions(crt)
    assert ("enrollment:lookup", "invalid") in operator_actions(crt)


def test_an_erased_person_is_said_so_not_shown(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    row = next(r for r in rows if r["departement"] not in PILOTS)
    with crt.transaction() as db:
        crt.storage.destroy_data_key(db, owner_id=person_id(crt, row["nir"]))
    operator(web, crt, clock, OperatorRole.SUPPORT)
    erased = post(web, PEOPLE, {"nir": row["nir"]})
    assert erased.status_code == 410 and "ont été effacées" in erased.text
    assert ("enrollment:lookup", "gone") in operator_actions(crt)


def test_support_sends_a_new_code(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    operator(web, crt, clock, OperatorRole.SUPPORT)
    row = holders(rows, email=True)[1]
    who = person_id(crt, row["nir"])
    sent = post(web, PEOPLE + "/code", {"person": who})
    assert sent.status_code == 200 and "Un nouveau code est parti" in sent.text
    crt.worker(name="test").run_until_idle()
    outbox = crt.notify.email.outbox  # type: ignore[attr-defined]
    assert outbox[-1].to == row["email"] and outbox[-1].kind == "activation_code"
    child = next(r for r in rows if r["nir_ouvrant_droit"])
    refused = post(web, PEOPLE + "/code", {"person": person_id(crt, child["nir"])})
    assert refused.status_code == 409 and "Les codes d’un enfant" in refused.text
    assert post(web, PEOPLE + "/code", {"person": "nobody"}).status_code == 404
    assert post(web, PEOPLE + "/code", {"person": ""}).status_code == 400
    assert ("enrollment:console:code-resend", "operator", "success") in chain_tags(crt, who)


def test_support_records_a_phone_opposition_and_downloads_its_proof(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    operator(web, crt, clock, OperatorRole.SUPPORT)
    row = holders(rows, email=True)[4]
    who = person_id(crt, row["nir"])
    details = {"person": who, "birth_date": row["date_naissance"]}
    mismatch = post(web, PEOPLE + "/opposition", details | {"vitale_serial": "12345678"})
    assert mismatch.status_code == 400 and "ne correspond pas" in mismatch.text
    missing = post(web, PEOPLE + "/opposition", {"person": who, "birth_date": "31/12/1984"})
    assert missing.status_code == 400 and "Saisissez la date de naissance" in missing.text
    done = post(
        web, PEOPLE + "/opposition", details | {"vitale_serial": row["numero_serie_vitale"]}
    )
    assert done.status_code == 200 and "L’opposition est enregistrée" in done.text
    reference = re.search(r'name="reference" value="([^"]+)"', done.text)
    assert reference is not None
    proof = post(web, PEOPLE + "/opposition/preuve", {"reference": reference.group(1)})
    assert proof.status_code == 200
    assert proof.headers["content-type"] == "application/pdf"
    assert proof.content.startswith(b"%PDF")
    assert post(web, PEOPLE + "/opposition/preuve", {"reference": "NOPE"}).status_code == 404
    with crt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=crt.storage, nir=row["nir"])
    assert found is not None and found.status is enrollment_service.BeneficiaryStatus.OPPOSED
    assert ("enrollment:phone-opposition", "success") in operator_actions(crt)


def test_security_suspends_a_space_and_lifts_the_suspension(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    row = holders(rows, email=True)[2]
    who = person_id(crt, row["nir"])
    with crt.transaction() as db:
        assert crt.enrollment.opening.open(
            db, actor=CARNET, beneficiary_id=who, opened_by="request"
        )
    operator(web, crt, clock, OperatorRole.SUPPORT)
    assert post(web, PEOPLE + "/suspension", {"person": who, "reason": "fraud"}).status_code == 403
    web.cookies.clear()
    operator(web, crt, clock, OperatorRole.SECURITY)
    page = post(web, PEOPLE, {"nir": row["nir"]})
    assert (
        "Suspendre le profil" in page.text
        and "opposition" not in page.text.lower().split("actions")[-1]
    )
    no_reason = post(web, PEOPLE + "/suspension", {"person": who})
    assert no_reason.status_code == 400 and "Choisissez le motif" in no_reason.text
    done = post(web, PEOPLE + "/suspension", {"person": who, "reason": "fraud"})
    assert done.status_code == 200 and "Le profil est suspendu" in done.text
    again = post(web, PEOPLE + "/suspension", {"person": who, "reason": "fraud"})
    assert again.status_code == 409 and "ne peut pas être suspendu" in again.text
    lifted = post(web, PEOPLE + "/suspension/levee", {"person": who})
    assert lifted.status_code == 200 and "La suspension est levée" in lifted.text
    assert ("enrollment:suspend", "refused") in operator_actions(crt)
    assert ("enrollment:lift-suspension", "success") in operator_actions(crt)


def test_support_records_a_childs_phone_opposition_with_the_holders_details(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    operator(web, crt, clock, OperatorRole.SUPPORT)
    holder, child = next(
        (h, c)
        for h in reversed(holders(rows, email=True))
        for c in rows
        if c["nir_ouvrant_droit"] == h["nir"]
    )
    who = person_id(crt, child["nir"])
    page = post(web, PEOPLE, {"nir": child["nir"]})
    assert page.status_code == 200
    assert "c’est le parent auquel il est rattaché qui s’oppose" in page.text
    # The child's own details are not the proof: the holder's are.
    own = {"person": who, "birth_date": child["date_naissance"], "vitale_serial": "12345678"}
    assert post(web, PEOPLE + "/opposition", own).status_code == 400
    details = {
        "person": who,
        "birth_date": holder["date_naissance"],
        "vitale_serial": holder["numero_serie_vitale"],
    }
    done = post(web, PEOPLE + "/opposition", details)
    assert done.status_code == 200 and "L’opposition est enregistrée" in done.text
    reference = re.search(r'name="reference" value="([^"]+)"', done.text)
    assert reference is not None
    proof = post(web, PEOPLE + "/opposition/preuve", {"reference": reference.group(1)})
    assert proof.status_code == 200 and proof.content.startswith(b"%PDF")
    with crt.transaction(readonly=True) as db:
        found = enrollment_service.find_beneficiary(db, storage=crt.storage, nir=child["nir"])
        parent = enrollment_service.find_beneficiary(db, storage=crt.storage, nir=holder["nir"])
    assert found is not None and found.status is enrollment_service.BeneficiaryStatus.OPPOSED
    assert parent is not None and parent.status is enrollment_service.BeneficiaryStatus.NOTIFIED


def test_an_opposition_after_the_window_is_refused(
    web: TestClient, crt: Runtime, clock: FrozenClock, rows: list[Row]
) -> None:
    row = holders(rows, email=True)[3]
    who = person_id(crt, row["nir"])
    clock.advance(timedelta(days=43))
    operator(web, crt, clock, OperatorRole.SUPPORT)
    details = {"person": who, "birth_date": row["date_naissance"]}
    late = post(
        web, PEOPLE + "/opposition", details | {"vitale_serial": row["numero_serie_vitale"]}
    )
    assert late.status_code == 409 and "Le délai d’opposition est terminé" in late.text
    assert ("enrollment:phone-opposition", "refused") in operator_actions(crt)
