"""``/compte/fermeture`` and ``/reouverture`` over HTTP: the holder closes with their password
(CSRF, a 4xx and nothing done on every mistake), the session ends, and the space is reopened
with the card's details; after erasure the page says the data are gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient
from tests.accounts.factories import MadeAccount, make_account
from tests.enrollment import test_closure
from tests.enrollment.test_closure import PASSWORD, Opened, Row, open_space, state
from tests.web.test_sign_in_http import csrf, sign_in

from carnet.app import create_app
from carnet.core.clock import FrozenClock
from carnet.enrollment.schemas import BeneficiaryStatus
from carnet.runtime import Runtime

PAGE = "/compte/fermeture"
REOPEN = "/reouverture"
Status = BeneficiaryStatus
# The fixtures of test_closure: a runtime on its own database with a frozen clock, a registry.
clock = test_closure.clock
rt = test_closure.rt
holders = test_closure.holders


@pytest.fixture
def web(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url="http://testserver") as client:
        yield client


def signed_in(web: TestClient, rt: Runtime, row: Row, **options: str | None) -> Opened:
    opened = open_space(rt, row, **options)  # type: ignore[arg-type]
    assert opened.login is not None and opened.account_id is not None
    with rt.transaction(readonly=True) as db:
        contact = rt.accounts.account_contact(db, account_id=opened.account_id)
    assert contact is not None
    account = MadeAccount(opened.account_id, opened.login, PASSWORD, contact[0], opened.patient_id)
    sign_in(web, rt, account)
    return opened


def post_close(web: TestClient, **fields: str):
    data = {"csrf_token": csrf(web, PAGE), "confirm_with": "password"} | fields
    return web.post(PAGE, data=data, follow_redirects=False)


def post_reopen(web: TestClient, row: Row, **changes: str):
    data = {
        "csrf_token": csrf(web, REOPEN),
        "nir": row["nir"],
        "vitale_serial": row["numero_serie_vitale"],
        "birth_date": row["date_naissance"],
    } | changes
    return web.post(REOPEN, data=data, follow_redirects=False)


def test_the_page_needs_a_signed_in_holder(web: TestClient) -> None:
    response = web.get(PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


def test_an_account_without_a_space_is_told_so(web: TestClient, rt: Runtime) -> None:
    sign_in(web, rt, make_account(rt))
    page = web.get(PAGE)
    assert page.status_code == 404
    assert "Aucun espace santé n’est associé à ce compte." in page.text
    assert 'name="password"' not in page.text


def test_closing_asks_for_the_password_then_ends_the_session(
    web: TestClient, rt: Runtime, holders: list[Row]
) -> None:
    opened = signed_in(web, rt, holders[0])
    page = web.get(PAGE)
    assert page.status_code == 200
    assert 'name="password"' in page.text and 'name="deletion"' in page.text
    assert post_close(web, password="").status_code == 400
    wrong = post_close(web, password="not-it", deletion="oui")
    assert wrong.status_code == 401
    assert "Le mot de passe est incorrect." in wrong.text
    assert state(rt, opened).status is Status.ACTIVE  # nothing done
    done = post_close(web, password=PASSWORD, deletion="oui")
    assert done.status_code == 200
    assert "Votre espace santé est fermé" in done.text
    assert state(rt, opened).erase_after is not None
    after = web.get(PAGE, follow_redirects=False)
    assert after.status_code == 303  # the session ended with the space


def test_closing_needs_the_csrf_token(web: TestClient, rt: Runtime, holders: list[Row]) -> None:
    opened = signed_in(web, rt, holders[0])
    response = web.post(PAGE, data={"password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert state(rt, opened).status is Status.ACTIVE


def test_reopening_with_the_card(web: TestClient, rt: Runtime, holders: list[Row]) -> None:
    opened = signed_in(web, rt, holders[0])
    assert post_close(web, password=PASSWORD).status_code == 200
    assert web.get(REOPEN).status_code == 200
    assert post_reopen(web, opened.row, birth_date="pas une date").status_code == 400
    assert post_reopen(web, opened.row, birth_date="1901-01-01").status_code == 404
    reopened = post_reopen(web, opened.row)
    assert reopened.status_code == 200
    assert 'href="/connexion"' in reopened.text
    assert state(rt, opened).status is Status.ACTIVE
    again = post_reopen(web, opened.row)
    assert again.status_code == 409


def test_after_erasure_the_data_are_gone(
    web: TestClient, rt: Runtime, holders: list[Row], clock: FrozenClock
) -> None:
    opened = signed_in(web, rt, holders[0])
    assert post_close(web, password=PASSWORD, deletion="oui").status_code == 200
    clock.advance(timedelta(days=31))
    with rt.transaction() as db:
        assert rt.enrollment.closure.sweep(db).erased == 1
    gone = post_reopen(web, opened.row)
    assert gone.status_code == 410
    assert "ne peuvent plus être récupérées" in gone.text
