"""Signing in over HTTP: password then code, CSRF, safe ``next``, no enumeration, lockout,
replayed and expired codes, idle and absolute session expiry (a frozen clock)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient
from tests.accounts.factories import MadeAccount, make_account, make_operator

from carnet.app import create_app
from carnet.core.clock import FrozenClock
from carnet.identity.accounts import totp
from carnet.identity.accounts.schemas import OperatorRole
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def frt(
    settings: Settings, clock: FrozenClock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    del tmp_path_factory
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def web(frt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(frt), base_url="http://testserver") as client:
        yield client


def csrf(client: TestClient, path: str) -> str:
    response = client.get(path)
    match = TOKEN.search(response.text)
    assert match, path
    return match.group(1)


def last_code(rt: Runtime) -> str:
    rt.worker().run_until_idle()
    # The latest code: other messages (a new sign-in's notice) may be queued beside it.
    outbox = rt.notify.email.outbox  # type: ignore[attr-defined]
    message = next(m for m in reversed(outbox) if m.kind == "sign_in_code")
    match = CODE.search(message.text)
    assert match
    return match.group(1)


def password_step(
    client: TestClient,
    account: MadeAccount,
    *,
    password: str | None = None,
    next_: str = "",
    path: str = "/connexion",
):
    token = csrf(client, path)
    return client.post(
        path,
        data={
            "csrf_token": token,
            "login": account.login,
            "password": password or account.password,
            "next": next_,
        },
        follow_redirects=False,
    )


def sign_in(client: TestClient, rt: Runtime, account: MadeAccount, *, next_: str = "") -> None:
    response = password_step(client, account, next_=next_)
    assert response.status_code == 303
    token = csrf(client, "/connexion/code")
    done = client.post(
        "/connexion/code", data={"csrf_token": token, "code": last_code(rt)}, follow_redirects=False
    )
    assert done.status_code == 303


def test_password_then_emailed_code_opens_a_session_under_a_new_cookie(
    web: TestClient, frt: Runtime
) -> None:
    account = make_account(frt)
    first = password_step(web, account, next_="/compte/securite")
    assert first.status_code == 303
    assert first.headers["location"] == "/connexion/code?next=/compte/securite"
    pending_cookie = web.cookies.get("carnet_session")
    assert (
        "HttpOnly" in first.headers["set-cookie"] and "SameSite=lax" in first.headers["set-cookie"]
    )
    assert web.get("/compte/securite", follow_redirects=False).status_code == 303  # not yet
    page = web.get("/connexion/code")
    assert "t…@example.org" in page.text
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    done = web.post(
        "/connexion/code",
        data={"csrf_token": token, "code": last_code(frt), "next": "/compte/securite"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/compte/securite"
    assert web.cookies.get("carnet_session") != pending_cookie  # rotated on sign-in
    security = web.get("/compte/securite")
    assert security.status_code == 200
    assert "Sessions ouvertes" in security.text
    message = frt.notify.email.outbox[-1]  # type: ignore[attr-defined]
    assert account.login not in message.text  # the e-mail carries a code, nothing else


def test_forms_without_csrf_token_are_refused(web: TestClient, frt: Runtime) -> None:
    account = make_account(frt)
    web.get("/connexion")
    response = web.post("/connexion", data={"login": account.login, "password": account.password})
    assert response.status_code == 403
    assert "carnet_session" not in web.cookies


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/ok\r\nx",
    ],
)
def test_open_redirects_are_refused(web: TestClient, frt: Runtime, target: str) -> None:
    account = make_account(frt)
    page = web.get("/connexion", params={"next": target})
    assert "evil" not in page.text
    response = password_step(web, account, next_=target)
    assert response.headers["location"] == "/connexion/code"
    token = csrf(web, "/connexion/code")
    done = web.post(
        "/connexion/code",
        data={"csrf_token": token, "code": last_code(frt), "next": target},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/"


def test_unknown_login_and_wrong_password_get_the_same_answer(
    web: TestClient, frt: Runtime
) -> None:
    account = make_account(frt)
    wrong = password_step(web, account, password="Wrong-password-1!")
    unknown = password_step(
        web, MadeAccount("-", "nobody.here.at.all", "Wrong-password-1!", "", None)
    )
    assert wrong.status_code == unknown.status_code == 401

    def strip(text: str) -> str:
        return TOKEN.sub("", text).replace(account.login, "X").replace("nobody.here.at.all", "X")

    assert strip(wrong.text) == strip(unknown.text)
    assert "Identifiant ou mot de passe incorrect" in wrong.text


def test_repeated_failures_lock_the_login_even_with_the_right_password(
    web: TestClient, frt: Runtime, clock: FrozenClock
) -> None:
    account = make_account(frt)
    statuses = [
        password_step(web, account, password=f"Wrong-{i}-password!").status_code for i in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    locked = password_step(web, account)
    assert locked.status_code == 429
    assert "bloquée pendant 15 minutes" in locked.text
    clock.advance(timedelta(minutes=16))
    assert password_step(web, account).status_code == 303


def test_codes_are_single_use_expire_and_are_attempt_limited(
    web: TestClient, frt: Runtime, clock: FrozenClock
) -> None:
    account = make_account(frt)
    sign_in(web, frt, account)
    used = frt.notify.email.outbox[-1]  # type: ignore[attr-defined]
    replayed_code = CODE.search(used.text).group(1)  # type: ignore[union-attr]
    web.cookies.clear()
    password_step(web, account)
    token = csrf(web, "/connexion/code")
    replay = web.post(
        "/connexion/code", data={"csrf_token": token, "code": replayed_code}, follow_redirects=False
    )
    fresh = last_code(frt)
    if replayed_code != fresh:
        assert replay.status_code == 401
        assert "Code incorrect ou expiré" in replay.text
    clock.advance(timedelta(minutes=11))
    expired = web.post(
        "/connexion/code", data={"csrf_token": token, "code": fresh}, follow_redirects=False
    )
    assert expired.status_code in {303, 401}
    assert expired.headers.get("location", "") != "/"


def test_sessions_end_after_idle_and_absolute_timeouts(
    web: TestClient, frt: Runtime, clock: FrozenClock
) -> None:
    account = make_account(frt)
    sign_in(web, frt, account)
    assert web.get("/compte/securite").status_code == 200
    clock.advance(timedelta(minutes=31))
    expired = web.get("/compte/securite", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/connexion?next=/compte/securite&expire=1"
    assert "Votre session a expiré" in web.get(expired.headers["location"]).text
    sign_in(web, frt, account)
    for _ in range(25):  # active every 29 minutes: only the absolute timeout ends it
        clock.advance(timedelta(minutes=29))
        if web.get("/compte/securite", follow_redirects=False).status_code != 200:
            break
    assert web.get("/compte/securite", follow_redirects=False).status_code == 303


def test_sign_out_and_sign_out_everywhere(frt: Runtime) -> None:
    account = make_account(frt)
    with (
        TestClient(create_app(frt), base_url="http://testserver") as one,
        TestClient(create_app(frt), base_url="http://testserver") as two,
    ):
        sign_in(one, frt, account)
        sign_in(two, frt, account)
        page = one.get("/compte/securite")
        assert page.text.count('name="session"') == 1  # the other session
        token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
        out = one.post(
            "/compte/securite/sessions/tout-fermer",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert out.headers["location"] == "/connexion?sortie=1"
        assert two.get("/compte/securite", follow_redirects=False).status_code == 303
        sign_in(two, frt, account)
        token = TOKEN.search(two.get("/").text).group(1)  # type: ignore[union-attr]
        assert (
            two.post("/deconnexion", data={"csrf_token": token}, follow_redirects=False).status_code
            == 303
        )
        assert two.get("/compte/securite", follow_redirects=False).status_code == 303


def test_a_trusted_device_skips_the_code_until_revoked(web: TestClient, frt: Runtime) -> None:
    account = make_account(frt)
    password_step(web, account)
    token = csrf(web, "/connexion/code")
    web.post("/connexion/code", data={"csrf_token": token, "code": last_code(frt), "trust": "oui"})
    assert web.cookies.get("carnet_device")
    token = TOKEN.search(web.get("/").text).group(1)  # type: ignore[union-attr]
    web.post("/deconnexion", data={"csrf_token": token})
    again = password_step(web, account)
    assert again.headers["location"] == "/"  # password only
    page = web.get("/compte/securite")
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    web.post("/compte/securite/appareils/oublier", data={"csrf_token": token})
    token = TOKEN.search(web.get("/").text).group(1)  # type: ignore[union-attr]
    web.post("/deconnexion", data={"csrf_token": token})
    assert password_step(web, account).headers["location"] == "/connexion/code"


def test_totp_enrolment_recovery_codes_and_sign_in(
    web: TestClient, frt: Runtime, clock: FrozenClock
) -> None:
    account = make_account(frt)
    sign_in(web, frt, account)
    page = web.post("/compte/securite/totp", data={"csrf_token": csrf(web, "/compte/securite")})
    assert "<svg" in page.text
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    done = web.post(
        "/compte/securite/totp/confirmer",
        data={"csrf_token": token, "code": totp.current_code(secret, now=clock.now())},
    )
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.text)
    assert len(codes) == 10
    web.cookies.clear()
    clock.advance(timedelta(seconds=60))
    password_step(web, account)
    token = csrf(web, "/connexion/code")
    code = totp.current_code(secret, now=clock.now())
    assert (
        web.post(
            "/connexion/code", data={"csrf_token": token, "code": code}, follow_redirects=False
        ).status_code
        == 303
    )
    web.cookies.clear()
    password_step(web, account)
    token = csrf(web, "/connexion/code")
    assert (
        web.post("/connexion/code", data={"csrf_token": token, "code": code}).status_code == 401
    )  # no replay
    assert (
        web.post(
            "/connexion/code", data={"csrf_token": token, "code": codes[0]}, follow_redirects=False
        ).status_code
        == 303
    )


def test_operators_sign_in_with_totp_and_need_the_admin_sign_in(
    web: TestClient, frt: Runtime, clock: FrozenClock
) -> None:
    operator = make_operator(frt, roles=(OperatorRole.SECURITY,))
    assert (
        web.get("/admin", follow_redirects=False).headers["location"]
        == "/admin/connexion?next=/admin"
    )
    assert password_step(web, operator).status_code == 401  # not on the patients' page
    first = password_step(web, operator, path="/admin/connexion", next_="/admin")
    assert first.headers["location"] == "/connexion/code?next=/admin"
    token = csrf(web, "/connexion/code")
    clock.advance(timedelta(seconds=31))
    assert operator.totp_secret
    code = totp.current_code(operator.totp_secret, now=clock.now())
    done = web.post(
        "/connexion/code",
        data={"csrf_token": token, "code": code, "next": "/admin"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/admin"
    home = web.get("/admin")
    assert "Sécurité" in home.text
    with frt.transaction(readonly=True) as db:
        events = frt.audit.chain_events(db, chain_id="_system", limit=5)
    assert any(e.tag == "identity:operator:action" and e.actor_kind == "operator" for e in events)
    patient = make_account(frt)
    web.cookies.clear()
    sign_in(web, frt, patient)
    assert web.get("/admin", follow_redirects=False).status_code == 303


def test_recovery_through_the_contact_sets_a_new_password(web: TestClient, frt: Runtime) -> None:
    account = make_account(frt)
    page = web.post(
        "/connexion/oubli",
        data={"csrf_token": csrf(web, "/connexion/oubli"), "login": account.login},
    )
    unknown = web.post(
        "/connexion/oubli",
        data={"csrf_token": csrf(web, "/connexion/oubli"), "login": "nobody.at.all"},
    )
    assert page.status_code == unknown.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    frt.worker().run_until_idle()
    sent = [m for m in frt.notify.email.outbox if m.kind == "sign_in_code"]  # type: ignore[attr-defined]
    code = CODE.search(sent[-1].text).group(1)  # type: ignore[union-attr]
    form = {
        "csrf_token": TOKEN.search(page.text).group(1),
        "token": token,
        "code": code,
        "second_code": "",
    }  # type: ignore[union-attr]
    weak = web.post("/connexion/oubli/nouveau", data={**form, "password": "camille-Martin-1!"})
    assert weak.status_code == 400 and "ni vos noms" in weak.text
    done = web.post(
        "/connexion/oubli/nouveau",
        data={**form, "password": "Nouveau-mot-2026!"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/connexion?recupere=1"
    assert password_step(web, account).status_code == 401
    assert password_step(web, account, password="Nouveau-mot-2026!").status_code == 303


def test_development_accounts_are_refused_in_production(frt: Runtime, tmp_path: Path) -> None:
    del tmp_path
    assert frt.accounts.ctx.dev_accounts  # test settings allow them; prod resolves to False
    assert frt.settings.accounts.resolved_dev_accounts("prod") is False


FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def notices_to(rt: Runtime, account: MadeAccount) -> list:  # type: ignore[type-arg]
    rt.worker().run_until_idle()
    outbox = rt.notify.email.outbox  # type: ignore[attr-defined]
    return [m for m in outbox if m.kind == "new_sign_in" and m.to == account.email]


def test_a_sign_in_from_an_untrusted_browser_is_announced_by_e_mail(
    web: TestClient, frt: Runtime, clock: FrozenClock
) -> None:
    account = make_account(frt)
    web.headers["user-agent"] = FIREFOX_ON_LINUX
    password_step(web, account)
    assert notices_to(frt, account) == []  # a right password alone is not a sign-in
    token = csrf(web, "/connexion/code")
    web.post("/connexion/code", data={"csrf_token": token, "code": last_code(frt), "trust": "oui"})
    [notice] = notices_to(frt, account)
    moment = clock.now().astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    assert f"à {moment} (heure de Paris)" in notice.text
    assert "Appareil : Firefox, Linux" in notice.text
    assert "http://testserver/compte/securite" in notice.text
    assert 'href="http://testserver/compte/securite"' in (notice.html or "")
    for private in (account.login, account.email, account.account_id, FIREFOX_ON_LINUX):
        assert private not in notice.text and private not in (notice.html or "")
    # The browser is now trusted: signing in again on it announces nothing.
    web.post("/deconnexion", data={"csrf_token": csrf(web, "/")})
    assert password_step(web, account).headers["location"] == "/"
    assert len(notices_to(frt, account)) == 1
