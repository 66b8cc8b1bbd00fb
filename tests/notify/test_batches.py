"""Many e-mails of one kind (``queue_emails``): checked before anything is queued, sent after
commit as a few batch jobs, each over one SMTP connection, each message written exactly as
rendering it alone would; an interrupted batch sends the rest later without repeating what was
sent; refusals are handed to the job kind the caller named."""

from __future__ import annotations

import email
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Connection
from tests.conftest import make_settings
from tests.notify.test_smtp import free_port

from carnet.core.clock import FrozenClock
from carnet.core.errors import InvalidInput
from carnet.notify import service as notify_service
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.notify.adapters.smtp import SmtpEmailSender
from carnet.notify.errors import DeliveryRefused, InvalidContext, InvalidRecipient
from carnet.notify.schemas import BatchEmail, OutgoingEmail
from carnet.runtime import Runtime, build_runtime

SHARED = {"link": "https://carnet.example/activation", "opposition_ends": "2027-01-07"}
REFUSED_JOB = "test:refused"


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(
        make_settings(fresh_database_url, tmp_path / "var"), clock=clock, configure_logs=False
    )
    yield runtime
    runtime.close()


def batch(count: int, start: int = 0) -> list[BatchEmail]:
    return [
        BatchEmail(
            to=f"person{n}@example.org",
            context={"code": f"ABCD-EFGH-{n:04d}"},
            reference=f"notice.{n:04d}",
        )
        for n in range(start, start + count)
    ]


def queue(rt: Runtime, messages: list[BatchEmail], **options: Any) -> list[str]:
    with rt.transaction() as db:
        return notify_service.queue_emails(
            db, rt.jobs, template="space_opening", shared=SHARED, messages=messages, **options
        )


def use_sender(rt: Runtime, sender: Any) -> None:
    rt.notify.email = sender
    rt.notify.register_jobs(rt.jobs)


def notify_jobs(rt: Runtime) -> list:
    with rt.transaction(readonly=True) as db:
        return [job for job in rt.jobs.jobs(db) if job.kind.startswith("notify:")]


def test_a_batch_is_sent_after_commit_and_each_message_as_if_rendered_alone(rt: Runtime) -> None:
    messages = batch(7)
    assert len(queue(rt, messages, per_job=3)) == 3
    assert isinstance(rt.notify.email, MemoryEmailSender)
    assert rt.notify.email.outbox == []
    rt.worker().run_until_idle()
    sent = rt.notify.email.outbox
    assert [m.to for m in sent] == [m.to for m in messages]
    renderer = rt.notify.renderer
    for message, queued in zip(sent, messages, strict=True):
        context = {**SHARED, **queued.context}
        assert message.subject == renderer.render("space_opening", "subject.txt", context, "fr")
        assert message.text == renderer.render("space_opening", "body.txt", context, "fr")
        assert message.html == renderer.render("space_opening", "body.html", context, "fr")
        assert queued.context["code"] in message.text
        assert message.reference == queued.reference
    assert notify_jobs(rt) == []


def test_a_value_that_is_not_plain_is_rendered_alone(rt: Runtime) -> None:
    # Escaped in HTML: the batch's stencil cannot paste it, rendering does it right.
    queue(rt, [BatchEmail(to="a@example.org", context={"code": "AB&CD"}), *batch(1)])
    rt.worker().run_until_idle()
    assert isinstance(rt.notify.email, MemoryEmailSender)
    first, second = rt.notify.email.outbox
    assert "AB&amp;CD" in (first.html or "") and "AB&CD" in first.text
    assert "ABCD-EFGH-0000" in (second.html or "")


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([BatchEmail(to="not-an-address", context={"code": "1234"})], InvalidRecipient),
        ([BatchEmail(to="a@example.org", context={"code": "1234"}, reference="<x>")], InvalidInput),
        (
            [BatchEmail(to="a@example.org", context={"code": "185057800608436"})],
            InvalidContext,
        ),
        ([BatchEmail(to="a@example.org", context={"cod": "1234"})], InvalidContext),
    ],
)
def test_nothing_is_queued_when_one_message_is_wrong(
    rt: Runtime, messages: list[BatchEmail], error: type[Exception]
) -> None:
    with pytest.raises(error), rt.transaction() as db:
        notify_service.queue_emails(
            db,
            rt.jobs,
            template="space_opening",
            shared=SHARED,
            messages=[*batch(2), *messages],
        )
    assert notify_jobs(rt) == []


class Flaky(MemoryEmailSender):
    """Fails (as an unreachable relay would) on the listed sends, counting every attempt."""

    def __init__(self, failing: set[int]) -> None:
        super().__init__()
        self.failing = failing
        self.attempts = 0

    def send(self, message: OutgoingEmail) -> None:
        self.attempts += 1
        if self.attempts in self.failing:
            raise ConnectionResetError("the relay went away")
        if message.to.startswith("refused"):
            raise DeliveryRefused("the relay refused the recipient")
        super().send(message)


def test_an_interrupted_batch_sends_the_rest_later_and_nothing_twice(rt: Runtime) -> None:
    sender = Flaky(failing={4})
    use_sender(rt, sender)
    messages = batch(6)
    queue(rt, messages)
    rt.worker().run_until_idle()
    assert [m.to for m in sender.outbox] == [m.to for m in messages[:3]]
    (follow_up,) = notify_jobs(rt)
    assert (follow_up.status, follow_up.attempts) == ("pending", 0)
    assert follow_up.run_after > rt.clock.now()
    # Once its back-off has passed, the rest goes, each once.
    _run_due_later(rt)
    assert [m.to for m in sender.outbox] == [m.to for m in messages]
    assert notify_jobs(rt) == []


def _run_due_later(rt: Runtime) -> None:
    """Run the jobs as if their back-off had passed."""
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(hours=2))
    rt.worker().run_until_idle()


def test_a_batch_that_fails_at_once_is_retried_whole(rt: Runtime) -> None:
    sender = Flaky(failing={1})
    use_sender(rt, sender)
    queue(rt, batch(3))
    rt.worker().run_until_idle()
    (job,) = notify_jobs(rt)
    assert (job.kind, job.status, job.attempts) == ("notify:send-email-batch", "pending", 1)
    assert "person" not in (job.last_error or "")
    _run_due_later(rt)
    assert len(sender.outbox) == 3
    assert notify_jobs(rt) == []


def test_refusals_go_to_the_named_job_kind(rt: Runtime) -> None:
    handed: list[list[str]] = []

    def refused(db: Connection, payload: Any) -> None:
        handed.append(list(payload["references"]))

    rt.jobs.register(REFUSED_JOB, refused)
    use_sender(rt, Flaky(failing=set()))
    messages = [
        *batch(2),
        BatchEmail(to="refused@example.org", context={"code": "X"}, reference="r.1"),
    ]
    queue(rt, messages, on_refused=REFUSED_JOB)
    rt.worker().run_until_idle()
    assert handed == [["r.1"]]
    assert notify_jobs(rt) == []


@dataclass
class CountingRelay:
    """An SMTP relay that remembers each message and the connection it came on, and says 421
    (closing) on every third message of a connection, as relays capping connections do."""

    received: list[tuple[int, Message]] = field(default_factory=list)
    per_session: dict[int, int] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=itertools.count)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if not hasattr(session, "carnet_number"):
            session.carnet_number = next(self.numbers)
        number = session.carnet_number
        count = self.per_session[number] = self.per_session.get(number, 0) + 1
        if count == 3:
            return "421 4.7.0 too many messages on this connection, closing"
        self.received.append((number, email.message_from_bytes(envelope.content)))
        return "250 OK"


def test_a_batch_goes_over_one_connection_with_named_message_ids(rt: Runtime) -> None:
    relay = CountingRelay()
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = SmtpEmailSender(
            host="127.0.0.1", port=port, tls="none", sender="Carnet <no-reply@carnet.example>"
        )
        use_sender(rt, smtp)
        messages = batch(5)
        queue(rt, messages)
        rt.worker().run_until_idle()
    finally:
        controller.stop()
    ids = [message["Message-ID"] for _, message in relay.received]
    assert ids == [f"<{m.reference}@carnet.example>" for m in messages]
    first = relay.received[0][1]
    subject = str(make_header(decode_header(first["Subject"])))
    assert subject == "Carnet : votre espace santé va être ouvert"
    parts = {part.get_content_type(): part for part in first.walk()}
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert "ABCD-EFGH-0000" in body
    assert "santé" in body
    assert "ABCD-EFGH-0000" in parts["text/html"].get_payload(decode=True).decode()
    # Two per connection, then the relay closed it: the third went on a new one, resent once.
    sessions = [session for session, _ in relay.received]
    assert len(set(sessions)) == 3
    assert notify_jobs(rt) == []
