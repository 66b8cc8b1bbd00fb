"""The profile switch (``/profil``): the demo parent acts for their child, and nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.accounts.factories import MadeAccount
from tests.web.test_sign_in_http import csrf, sign_in

from carnet.app import create_app
from carnet.demo.accounts import seed_accounts
from carnet.runtime import Runtime

SELECTED = re.compile(r'<option value="(\d+)" selected>([^<]+)</option>')


@pytest.fixture
def parent(rt: Runtime, app_client: TestClient) -> Iterator[TestClient]:
    del app_client
    seed_accounts(accounts=rt.accounts, transaction=rt.transaction)
    with rt.transaction(readonly=True) as db:
        account_id = rt.accounts.find_account(db, login="demo.parent")
    assert account_id is not None
    made = MadeAccount(account_id, "demo.parent", "Demo-Parent-2026!", "", None)
    with TestClient(create_app(rt), base_url="http://testserver") as browser:
        sign_in(browser, rt, made)
        yield browser


def switches(rt: Runtime) -> int:
    with rt.transaction(readonly=True) as db:
        return int(
            db.execute(
                text("SELECT count(*) FROM audit_event WHERE tag = 'identity:profile:switch'")
            ).scalar_one()
        )


def test_the_parent_switches_to_the_child(parent: TestClient, rt: Runtime) -> None:
    home = parent.get("/")
    assert SELECTED.search(home.text).group(1) == "0"  # type: ignore[union-attr]
    before, old_cookie = switches(rt), parent.cookies.get("carnet_session")
    switched = parent.post(
        "/profil", data={"csrf_token": csrf(parent, "/"), "profile": "1"}, follow_redirects=False
    )
    assert switched.status_code == 303
    new_cookie = parent.cookies.get("carnet_session")
    assert new_cookie and new_cookie != old_cookie  # the session id rotated
    key, label = SELECTED.search(parent.get("/").text).groups()  # type: ignore[union-attr]
    assert key == "1" and label != "Moi"
    assert switches(rt) == before + 1
    parent.cookies.clear()
    parent.cookies.set("carnet_session", old_cookie or "")  # the id before the switch: dead
    assert parent.get("/compte/securite", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("choice", ["2", "99", "-1", "abc", ""])
def test_a_profile_that_is_not_the_accounts_is_refused(
    parent: TestClient, rt: Runtime, choice: str
) -> None:
    before, cookie = switches(rt), parent.cookies.get("carnet_session")
    refused = parent.post(
        "/profil", data={"csrf_token": csrf(parent, "/"), "profile": choice}, follow_redirects=False
    )
    assert refused.status_code == 303 and refused.headers["location"] == "/"
    assert parent.cookies.get("carnet_session") == cookie  # nothing rotated
    assert SELECTED.search(parent.get("/").text).group(1) == "0"  # type: ignore[union-attr]
    assert switches(rt) == before
