"""The notification centre: items (a kind and a portal path, nothing else), reading them, the
per-kind e-mail choices, and the grouped e-mail that says only that something new is waiting.

A runtime of its own, on its own database with a frozen clock, so that its worker runs only
these tests' jobs and the grouping period can be stepped through.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection
from tests.accounts.factories import MadeAccount, make_account
from tests.conftest import make_settings, new_database

from carnet import migrations
from carnet.core.clock import FrozenClock
from carnet.notify import service as notify_service
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.notify.errors import InvalidContext
from carnet.runtime import Runtime, build_runtime

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    directory: Path = tmp_path_factory.mktemp("inbox")
    with new_database(directory) as url:
        migrations.upgrade(url)
        settings = make_settings(url, directory / "var", public_base_url="https://carnet.test")
        runtime = build_runtime(settings, clock=FrozenClock(START), configure_logs=False)
        yield runtime
        runtime.close()


def outbox(rt: Runtime) -> list[notify_service.OutgoingEmail]:
    sender = rt.notify.email
    assert isinstance(sender, MemoryEmailSender)
    return sender.outbox


def run_jobs(rt: Runtime) -> None:
    rt.worker(name="inbox-test").run_until_idle()


def advance(rt: Runtime, delta: timedelta) -> None:
    clock = rt.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(delta)


def post(rt: Runtime, patient_id: str, kind: str = "new_document", link: str = "/documents") -> str:
    with rt.transaction() as db:
        return notify_service.post_to_inbox(
            db, rt.jobs, patient_id=patient_id, kind=kind, link=link
        )


def mails_to(rt: Runtime, account: MadeAccount) -> list[notify_service.OutgoingEmail]:
    return [m for m in outbox(rt) if m.to == account.email]


def test_items_are_listed_newest_first_with_the_unread_count(frozen: Runtime) -> None:
    account = make_account(frozen)
    person = account.person_id
    assert person is not None
    first = post(frozen, person, "new_document", "/documents/abc")
    advance(frozen, timedelta(seconds=1))
    second = post(frozen, person, "new_message", "/messages")
    with frozen.transaction() as db:
        page = notify_service.inbox_page(db, patient_id=person)
        assert [i.id for i in page.items] == [second, first]
        assert (page.unread, page.total, page.pages) == (2, 2, 1)
        assert page.items[1].link == "/documents/abc"
        assert page.items[1].kind == "new_document"
        assert notify_service.mark_inbox_read(
            db, patient_id=person, item_id=first, at=frozen.clock.now()
        )
        assert notify_service.unread_count(db, patient_id=person) == 1
        # Someone else's item is not theirs to mark.
        assert not notify_service.mark_inbox_read(
            db, patient_id="someone-else", item_id=second, at=frozen.clock.now()
        )
        assert notify_service.mark_all_read(db, patient_id=person, at=frozen.clock.now()) == 1
        assert notify_service.unread_count(db, patient_id=person) == 0


def test_paging(frozen: Runtime) -> None:
    person = "paging-person"
    with frozen.transaction() as db:
        for _ in range(25):
            notify_service.post_to_inbox(
                db, frozen.jobs, patient_id=person, kind="reminder", link="/agenda"
            )
        first = notify_service.inbox_page(db, patient_id=person, page=1)
        second = notify_service.inbox_page(db, patient_id=person, page=2)
        beyond = notify_service.inbox_page(db, patient_id=person, page=9)
    assert (len(first.items), len(second.items), first.pages) == (20, 5, 2)
    assert not {i.id for i in first.items} & {i.id for i in second.items}
    assert beyond.page == 2


@pytest.mark.parametrize(
    ("kind", "link"),
    [
        ("diagnosis", "/documents"),
        ("new_document", "https://elsewhere.example/x"),
        ("new_document", "//elsewhere.example/x"),
        ("new_document", "/documents?title=Cancer"),
        ("new_document", "/documents/../admin"),
        ("new_document", "/documents/Compte rendu"),
    ],
)
def test_an_item_is_a_kind_and_a_portal_path_only(db: Connection, rt: Runtime, kind, link) -> None:
    with pytest.raises(InvalidContext):
        notify_service.post_to_inbox(db, rt.jobs, patient_id="p", kind=kind, link=link)


def test_choices_default_to_email_and_are_kept_per_kind(db: Connection) -> None:
    person = "choices-person"
    assert notify_service.email_choices(db, patient_id=person) == dict.fromkeys(
        notify_service.INBOX_KINDS, True
    )
    notify_service.set_email_choices(db, patient_id=person, by_email={"new_message": False})
    notify_service.set_email_choices(db, patient_id=person, by_email={"reminder": False})
    choices = notify_service.email_choices(db, patient_id=person)
    assert choices == {
        "new_document": True,
        "new_message": False,
        "reminder": False,
        "connected_app": True,
    }
    with pytest.raises(InvalidContext):
        notify_service.set_email_choices(db, patient_id=person, by_email={"secret": True})


def test_a_batch_sends_one_email_that_says_only_that_something_is_waiting(
    frozen: Runtime,
) -> None:
    account = make_account(frozen)
    person = account.person_id
    assert person is not None
    inputs = [f"/documents/doc-{n:02d}" for n in range(50)]
    with frozen.transaction() as db:
        for link in inputs:
            notify_service.post_to_inbox(
                db, frozen.jobs, patient_id=person, kind="new_document", link=link
            )
    run_jobs(frozen)
    sent = mails_to(frozen, account)
    assert len(sent) == 1
    mail = sent[0]
    assert mail.kind == "inbox_news"
    assert "https://carnet.test/notifications" in mail.text
    whole = f"{mail.subject}\n{mail.text}\n{mail.html}"
    for value in (*inputs, "doc-", "new_document", person, "Martin", "Camille", "document"):
        assert value not in whole


def test_at_most_one_email_per_period_and_none_once_read(frozen: Runtime) -> None:
    account = make_account(frozen)
    person = account.person_id
    assert person is not None
    post(frozen, person)
    run_jobs(frozen)
    assert len(mails_to(frozen, account)) == 1
    # Within the period: nothing now, one at its end.
    advance(frozen, timedelta(hours=1))
    post(frozen, person, "new_message", "/messages")
    post(frozen, person, "reminder", "/agenda")
    run_jobs(frozen)
    assert len(mails_to(frozen, account)) == 1
    advance(frozen, timedelta(hours=5, minutes=1))
    run_jobs(frozen)
    assert len(mails_to(frozen, account)) == 2
    # Something new, but read before the period ends: no e-mail for it.
    advance(frozen, timedelta(hours=1))
    post(frozen, person)
    run_jobs(frozen)
    with frozen.transaction() as db:
        notify_service.mark_all_read(db, patient_id=person, at=frozen.clock.now())
    advance(frozen, timedelta(hours=6))
    run_jobs(frozen)
    assert len(mails_to(frozen, account)) == 2


def test_no_email_for_a_kind_turned_off_but_the_item_is_there(frozen: Runtime) -> None:
    account = make_account(frozen)
    person = account.person_id
    assert person is not None
    with frozen.transaction() as db:
        notify_service.set_email_choices(db, patient_id=person, by_email={"new_message": False})
    post(frozen, person, "new_message", "/messages")
    run_jobs(frozen)
    assert mails_to(frozen, account) == []
    with frozen.transaction() as db:
        assert notify_service.unread_count(db, patient_id=person) == 1


def test_a_later_post_through_the_job(frozen: Runtime) -> None:
    account = make_account(frozen)
    person = account.person_id
    assert person is not None
    with frozen.transaction() as db:
        frozen.jobs.enqueue(
            db,
            kind=notify_service.INBOX_JOB,
            payload={"patient": person, "kind": "connected_app", "link": "/applications"},
        )
    run_jobs(frozen)
    with frozen.transaction() as db:
        page = notify_service.inbox_page(db, patient_id=person)
    assert [(i.kind, i.link) for i in page.items] == [("connected_app", "/applications")]
    assert len(mails_to(frozen, account)) == 1


def test_nothing_is_posted_when_the_writer_rolls_back(frozen: Runtime) -> None:
    person = "rolled-back"

    class Boom(Exception):
        pass

    def write_then_fail() -> None:
        with frozen.transaction() as db:
            notify_service.post_to_inbox(
                db, frozen.jobs, patient_id=person, kind="new_document", link="/documents"
            )
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    with frozen.transaction() as db:
        assert notify_service.unread_count(db, patient_id=person) == 0
