"""Changes to one's own sign-in over HTTP: the password (rules, rate limit, other sessions
ended, e-mail), a mobile number proved by an SMS code, and the choice of e-mail or SMS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.accounts.factories import MadeAccount, make_account
from tests.web.test_sign_in_http import CODE, csrf, password_step, sign_in

from carnet.app import create_app
from carnet.core.clock import FrozenClock
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings

PAGE = "/compte/securite"
NEW_PASSWORD = "Tournesol-jaune-42!"


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 3, 14, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def crt(settings: Settings, clock: FrozenClock) -> Iterator[Runtime]:
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def web(crt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(crt), base_url="http://testserver") as client:
        yield client


def change(web: TestClient, current: str, new: str):  # type: ignore[no-untyped-def]
    token = csrf(web, PAGE + "/mot-de-passe")
    return web.post(
        PAGE + "/mot-de-passe",
        data={"csrf_token": token, "current_password": current, "new_password": new},
        follow_redirects=False,
    )


def audit_outcomes(rt: Runtime, account: MadeAccount, tag: str) -> list[str]:
    with rt.transaction(readonly=True) as db:
        rows = db.execute(
            text("SELECT outcome FROM audit_event WHERE tag = :tag AND entity = :entity"),
            {"tag": tag, "entity": f"account/{account.account_id}"},
        ).all()
    return [r.outcome for r in rows]


def test_changing_the_password_ends_the_other_sessions_and_tells_the_person(
    web: TestClient, crt: Runtime
) -> None:
    account = make_account(crt)
    with TestClient(create_app(crt), base_url="http://testserver") as other:
        sign_in(other, crt, account)
        sign_in(web, crt, account)
        done = change(web, account.password, NEW_PASSWORD)
        assert done.status_code == 303
        assert done.headers["location"] == PAGE + "?fait=mot-de-passe"
        assert "Votre mot de passe est changé" in web.get(done.headers["location"]).text
        assert other.get(PAGE, follow_redirects=False).status_code == 303  # ended
    assert web.get(PAGE, follow_redirects=False).status_code == 200  # this one goes on
    crt.worker().run_until_idle()
    outbox = crt.notify.email.outbox  # type: ignore[attr-defined]
    assert any(m.kind == "password_changed" and m.to == account.email for m in outbox)
    assert audit_outcomes(crt, account, "identity:password:change") == ["success"]
    web.cookies.clear()
    assert password_step(web, account).status_code == 401
    assert password_step(web, account, password=NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    "case",
    [
        ("", "", 400, "Saisissez votre mot de passe actuel"),
        ("Wrong-password-1!", NEW_PASSWORD, 401, "Le mot de passe actuel est incorrect"),
        ("{right}", "camille-Martin-7!", 400, "ni vos noms"),
        ("{right}", "Court-1!", 400, "au moins 9 caractères"),
        ("{right}", "sans-chiffre-A!", 400, "un chiffre"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    web: TestClient, crt: Runtime, case: tuple[str, str, int, str]
) -> None:
    current, new, status, message = case
    account = make_account(crt)
    sign_in(web, crt, account)
    refused = change(web, current.replace("{right}", account.password), new)
    assert refused.status_code == status
    assert "resume-erreurs" in refused.text and message in refused.text
    assert NEW_PASSWORD not in refused.text and account.password not in refused.text
    web.cookies.clear()
    assert password_step(web, account).status_code == 303  # the old password still works


def test_a_change_needs_the_csrf_token(web: TestClient, crt: Runtime) -> None:
    account = make_account(crt)
    sign_in(web, crt, account)
    forged = web.post(
        PAGE + "/mot-de-passe",
        data={"current_password": account.password, "new_password": NEW_PASSWORD},
    )
    assert forged.status_code == 403
    web.cookies.clear()
    assert password_step(web, account).status_code == 303


def test_wrong_current_passwords_lock_like_sign_in_failures(web: TestClient, crt: Runtime) -> None:
    account = make_account(crt)
    sign_in(web, crt, account)
    statuses = [change(web, f"Wrong-{i}-password!", NEW_PASSWORD).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    locked = change(web, account.password, NEW_PASSWORD)
    assert locked.status_code == 429 and "bloquée pendant 15 minutes" in locked.text
    assert audit_outcomes(crt, account, "identity:password:change") == ["refused"] * 5
    web.cookies.clear()
    assert password_step(web, account).status_code == 429  # the same counter as sign-in


def sms_to(rt: Runtime, number: str, kind: str) -> str:
    rt.worker().run_until_idle()
    outbox = rt.notify.sms.outbox  # type: ignore[union-attr]
    sent = [m for m in outbox if m.to == number and m.kind == kind]
    assert sent, kind
    match = CODE.search(sent[-1].text)
    assert match
    return match.group(1)


def add_phone(web: TestClient, number: str):  # type: ignore[no-untyped-def]
    return web.post(
        PAGE + "/telephone",
        data={"csrf_token": csrf(web, PAGE + "/telephone"), "phone": number},
    )


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, name
    return match.group(1)


def test_a_mobile_number_is_proved_then_chosen_for_the_codes(web: TestClient, crt: Runtime) -> None:
    account = make_account(crt)
    sign_in(web, crt, account)
    choose = {"csrf_token": csrf(web, PAGE), "factor": "sms"}
    assert (
        web.post(PAGE + "/second-facteur", data=choose, follow_redirects=False).headers["location"]
        == PAGE
    )  # no number yet: nothing changes
    assert add_phone(web, "01 23 45 67 89").status_code == 400  # not a mobile
    page = add_phone(web, "06.12.34.56.78")
    assert page.status_code == 200 and "+33…78" in page.text
    form = {"csrf_token": hidden(page.text, "csrf_token"), "token": hidden(page.text, "token")}
    code = sms_to(crt, "+33612345678", "phone_verification")
    wrong = "000000" if code != "000000" else "111111"
    refused = web.post(PAGE + "/telephone/confirmer", data={**form, "code": wrong})
    assert refused.status_code == 400 and "Code incorrect" in refused.text
    done = web.post(
        PAGE + "/telephone/confirmer", data={**form, "code": code}, follow_redirects=False
    )
    assert done.headers["location"] == PAGE + "?fait=telephone"
    security = web.get(PAGE).text
    assert "Numéro confirmé : +33…78" in security and 'value="sms"' in security
    choose["csrf_token"] = hidden(security, "csrf_token")
    chosen = web.post(PAGE + "/second-facteur", data=choose, follow_redirects=False)
    assert chosen.headers["location"] == PAGE + "?fait=facteur"
    web.post("/deconnexion", data={"csrf_token": csrf(web, "/")})
    assert password_step(web, account).status_code == 303
    assert "+33…78" in web.get("/connexion/code").text
    code = sms_to(crt, "+33612345678", "sign_in_code")
    token = csrf(web, "/connexion/code")
    signed = web.post("/connexion/code", data={"csrf_token": token, "code": code})
    assert signed.status_code == 200 and "Sécurité du compte" in signed.text
    tags = audit_outcomes(crt, account, "identity:factor:change")
    assert tags == ["refused", "success", "success"]  # the wrong code, the number, the choice


def test_a_number_token_works_only_for_the_account_it_was_sent_for(
    web: TestClient, crt: Runtime
) -> None:
    first, second = make_account(crt), make_account(crt)
    sign_in(web, crt, first)
    page = add_phone(web, "+33 7 98 76 54 32")
    token = hidden(page.text, "token")
    code = sms_to(crt, "+33798765432", "phone_verification")
    web.cookies.clear()
    sign_in(web, crt, second)
    stolen = web.post(
        PAGE + "/telephone/confirmer",
        data={"csrf_token": csrf(web, PAGE), "token": token, "code": code},
        follow_redirects=False,
    )
    assert stolen.status_code == 303 and stolen.headers["location"] == PAGE + "/telephone"
    assert "Aucun numéro de mobile" in web.get(PAGE).text
