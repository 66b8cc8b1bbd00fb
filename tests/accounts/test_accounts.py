"""Accounts and sign-in through the service, on a real database (both tiers)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Connection, text
from tests.accounts.factories import PASSWORD, make_account, make_operator

from carnet.core.actor import CARNET
from carnet.identity.accounts import totp
from carnet.identity.accounts.errors import (
    InvalidLogin,
    LockedOut,
    LoginTaken,
    NotAllowed,
    SignInRefused,
    WeakPassword,
)
from carnet.identity.accounts.passwords import check_login, check_password, personal_words
from carnet.runtime import Runtime


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1!", "length"),
        ("ABCDEFGH1!", "lower"),
        ("abcdefgh1!", "upper"),
        ("Abcdefghi!", "digit"),
        ("Abcdefgh12", "special"),
        ("Camille-2026!x", "personal"),
        ("Éloïse-Blanc1!", "personal"),
        ("Xy-14071989-!", "personal"),
    ],
)
def test_password_rules(password: str, rule: str) -> None:
    words = personal_words(["Eloïse Blanc", "Camille"], date(1989, 7, 14))
    with pytest.raises(WeakPassword) as refused:
        check_password(password, personal=words)
    assert refused.value.rule == rule


def test_a_good_password_and_login_pass() -> None:
    check_password("Tournesol-42!", personal=personal_words(["Camille Martin"], date(1990, 1, 2)))
    assert check_login("  Jean.Dupont_75 ") == "jean.dupont_75"
    for bad in ("short", "jean dupont", "jéan.dupont", "jean@dupont"):
        with pytest.raises(InvalidLogin):
            check_login(bad)


def test_secrets_are_never_stored_in_clear(rt: Runtime) -> None:
    account = make_account(rt, phone="+33612345678")
    with rt.transaction(readonly=True) as db:
        row = db.execute(
            text("SELECT * FROM identity_account WHERE id = :id"), {"id": account.account_id}
        ).one()
    dump = repr(tuple(row))
    for secret in (account.login, account.email, "+33612345678", PASSWORD):
        assert secret not in dump
    assert row.password_hash.startswith("$argon2id$")


def test_sign_in_refusals_do_not_tell_whether_the_login_exists(rt: Runtime) -> None:
    account = make_account(rt)
    for login, password in ((account.login, "Wrong-pass-123!"), ("nobody.anywhere", PASSWORD)):
        with pytest.raises(SignInRefused) as refused:
            rt.accounts.sign_in_password(
                rt.transaction,
                login=login,
                password=password,
                area="portal",
                client_address="198.51.100.7",
                user_agent="test",
                device_token=None,
            )
        assert str(refused.value) == "sign-in refused"


def test_password_failures_lock_the_login(rt: Runtime) -> None:
    account = make_account(rt)

    def attempt(password: str) -> None:
        rt.accounts.sign_in_password(
            rt.transaction,
            login=account.login,
            password=password,
            area="portal",
            client_address=None,
            user_agent=None,
            device_token=None,
        )

    for _ in range(4):
        with pytest.raises(SignInRefused):
            attempt("Wrong-pass-123!")
    with pytest.raises(LockedOut):
        attempt("Wrong-pass-123!")
    with pytest.raises(LockedOut):
        attempt(PASSWORD)


def test_codes_are_single_use_and_burnt_after_wrong_attempts(rt: Runtime) -> None:
    account = make_account(rt)
    accepted = rt.accounts.sign_in_password(
        rt.transaction,
        login=account.login,
        password=PASSWORD,
        area="portal",
        client_address=None,
        user_agent=None,
        device_token=None,
    )
    assert accepted.sent_to == "t…@example.org"
    rt.worker().run_until_idle()
    sent = [m for m in rt.notify.email.outbox if m.kind == "sign_in_code"]  # type: ignore[attr-defined]
    code = sent[-1].text.split("\n")
    digits = next(w for line in code for w in line.split() if w.isdigit() and len(w) == 6)
    wrong = "000000" if digits != "000000" else "111111"
    with rt.transaction() as db, pytest.raises(SignInRefused):
        rt.accounts.verify_second_factor(
            db, token=accepted.issued.token, code=wrong, trust_device=False, device_label=""
        )
    with rt.transaction() as db:
        passed = rt.accounts.verify_second_factor(
            db, token=accepted.issued.token, code=digits, trust_device=False, device_label=""
        )
    assert passed.issued.token != accepted.issued.token
    with rt.transaction() as db, pytest.raises(SignInRefused):  # the pending session is gone
        rt.accounts.verify_second_factor(
            db, token=accepted.issued.token, code=digits, trust_device=False, device_label=""
        )
    with rt.transaction(readonly=True) as db:
        current = rt.accounts.current(db, token=passed.issued.token)
    assert current is not None and current.active and current.person_id == account.person_id


def test_totp_codes_work_once(db: Connection, rt: Runtime) -> None:
    secret = totp.new_secret()
    now = rt.clock.now()
    code = totp.current_code(secret, now=now)
    step = totp.matching_step(secret, code, now=now, after_step=0)
    assert step is not None
    assert totp.matching_step(secret, code, now=now, after_step=step) is None
    assert totp.matching_step(secret, code, now=now + timedelta(seconds=95), after_step=0) is None
    del db


def test_recovery_codes_are_single_use(rt: Runtime) -> None:
    sealer = rt.accounts.ctx.sealer
    account = make_account(rt)
    with rt.transaction() as db:
        _recovery_codes_work_once(db, rt, sealer, account.account_id)


def _recovery_codes_work_once(db: Connection, rt: Runtime, sealer: object, account_id: str) -> None:
    account = type("A", (), {"account_id": account_id})
    codes = totp.new_recovery_codes(db, sealer, account_id=account.account_id, now=rt.clock.now())
    assert len(set(codes)) == 10
    assert totp.use_recovery_code(
        db, sealer, account_id=account.account_id, code=codes[0].upper(), now=rt.clock.now()
    )
    assert not totp.use_recovery_code(
        db, sealer, account_id=account.account_id, code=codes[0], now=rt.clock.now()
    )
    assert totp.recovery_codes_left(db, account_id=account.account_id) == 9


def test_external_sign_in_api(db: Connection, rt: Runtime) -> None:
    assert (
        rt.accounts.account_for_person(
            db, person_kind="patient", person_id="pat-ext-1", create=False
        )
        is None
    )
    account_id = rt.accounts.account_for_person(
        db, person_kind="patient", person_id="pat-ext-1", create=True
    )
    assert account_id is not None
    assert (
        rt.accounts.account_for_person(
            db, person_kind="patient", person_id="pat-ext-1", create=False
        )
        == account_id
    )
    issued = rt.accounts.open_session(
        db,
        account_id=account_id,
        method="franceconnect",
        acr="eidas2",
        client_address="203.0.113.9",
        user_agent="ua",
        now=rt.clock.now(),
    )
    assert "token" not in repr(issued) or "<hidden>" in repr(issued)
    current = rt.accounts.current(db, token=issued.token)
    assert current is not None and current.active and current.method == "franceconnect"
    events = rt.audit.chain_events(db, chain_id="pat-ext-1")
    assert [e.tag for e in events][:2] == ["identity:session:open", "identity:account:create"]


def test_logins_are_unique_and_operators_need_roles(rt: Runtime) -> None:
    account = make_account(rt)
    hashed = rt.accounts.hash_password("Another-pass-1!")
    with rt.transaction() as db:
        _refusals(db, rt, account.login, hashed)


def _refusals(db: Connection, rt: Runtime, login: str, hashed: tuple[str, list[str]]) -> None:
    with pytest.raises(LoginTaken):
        rt.accounts.create_account(
            db,
            actor=CARNET,
            kind="patient",
            person_id="p-x",
            login=login.upper(),
            password=hashed,
        )
    with pytest.raises(NotAllowed):
        rt.accounts.create_account(
            db,
            actor=CARNET,
            kind="operator",
            person_id=None,
            login="operator.noroles",
            password=hashed,
        )


def test_operators_cannot_sign_in_on_the_patients_page(rt: Runtime) -> None:
    operator = make_operator(rt)
    with pytest.raises(SignInRefused):
        rt.accounts.sign_in_password(
            rt.transaction,
            login=operator.login,
            password=PASSWORD,
            area="portal",
            client_address=None,
            user_agent=None,
            device_token=None,
        )
    accepted = rt.accounts.sign_in_password(
        rt.transaction,
        login=operator.login,
        password=PASSWORD,
        area="admin",
        client_address=None,
        user_agent=None,
        device_token=None,
    )
    assert accepted.second_factor == "totp" and accepted.sent_to is None


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_an_external_sign_in_is_announced_unless_the_browser_is_trusted(rt: Runtime) -> None:
    account = make_account(rt)
    accepted = rt.accounts.sign_in_password(
        rt.transaction,
        login=account.login,
        password=PASSWORD,
        area="portal",
        client_address=None,
        user_agent=IPHONE,
        device_token=None,
    )
    rt.worker().run_until_idle()
    outbox = rt.notify.email.outbox  # type: ignore[attr-defined]
    sent = next(m for m in reversed(outbox) if m.kind == "sign_in_code" and m.to == account.email)
    code = next(w for w in sent.text.split() if w.isdigit() and len(w) == 6)
    with rt.transaction() as db:
        passed = rt.accounts.verify_second_factor(
            db, token=accepted.issued.token, code=code, trust_device=True, device_label="iPhone"
        )

    def federated_sign_in(device_token: str | None) -> list[str]:
        with rt.transaction() as db:
            rt.accounts.open_session(
                db,
                account_id=account.account_id,
                method="franceconnect",
                acr="eidas2",
                client_address=None,
                user_agent=IPHONE,
                now=rt.clock.now(),
                device_token=device_token,
            )
        rt.worker().run_until_idle()
        return [m.text for m in outbox if m.kind == "new_sign_in" and m.to == account.email]

    assert len(federated_sign_in(None)) == 2  # the code sign-in's notice, and this one's
    assert passed.device_token is not None
    assert len(federated_sign_in(passed.device_token)) == 2  # a trusted browser: no notice
    assert "Appareil : Safari, iOS" in federated_sign_in("not-a-device-token")[-1]
