"""Bounces back to notices: each notice e-mail names its notice (not its person) in its
Message-ID; a refusal by the relay while sending, or a delivery report read later (RFC 3464
DSN, ARF, the relay's export of Message-IDs; ``carnet enrollment bounces FILE``), turns the
person to a letter. Reports are written the way Postfix and large mailbox providers write them."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file
from tests.enrollment.test_campaigns import Row, emails, holders, id_of, run_jobs, start, status_of
from typer.testing import CliRunner

from carnet.audit import models as audit_models
from carnet.cli import app
from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.bounces import read_bounces
from carnet.enrollment.notices import notice_from_reference
from carnet.notify.adapters.local import MemoryEmailSender
from carnet.notify.errors import DeliveryRefused
from carnet.notify.schemas import OutgoingEmail
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
DOMAIN = "carnet.example"

POSTFIX_DSN = """\
Return-Path: <>
Received: by relay.carnet.example (Postfix)
\tid 4F2A1C0123; Thu, 26 Nov 2026 10:12:03 +0100 (CET)
Date: Thu, 26 Nov 2026 10:12:03 +0100 (CET)
From: MAILER-DAEMON@relay.carnet.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: no-reply@carnet.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F2A1C0123.1795684323/relay.carnet.example"
Content-Transfer-Encoding: 8bit
Message-Id: <20261126091203.4F2A1C0123@relay.carnet.example>

This is a MIME-encapsulated message.

--4F2A1C0123.1795684323/relay.carnet.example
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host relay.carnet.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{to}>: host mx.example.org[203.0.113.5] said: 550 5.1.1
    <{to}>: Recipient address rejected: User unknown in virtual mailbox
    table (in reply to RCPT TO command)

--4F2A1C0123.1795684323/relay.carnet.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.carnet.example
X-Postfix-Queue-ID: 4F2A1C0123
X-Postfix-Sender: rfc822; no-reply@carnet.example
Arrival-Date: Thu, 26 Nov 2026 10:12:01 +0100 (CET)

Final-Recipient: rfc822; {to}
Original-Recipient: rfc822;{to}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{to}>: Recipient address rejected: User
    unknown in virtual mailbox table

--4F2A1C0123.1795684323/relay.carnet.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <no-reply@carnet.example>
Received: from app.carnet.example (app.carnet.example [10.0.0.4])
\tby relay.carnet.example (Postfix) with ESMTPS id 4F2A1C0123
\tfor <{to}>; Thu, 26 Nov 2026 10:12:01 +0100 (CET)
From: Carnet <no-reply@carnet.example>
To: {to}
Subject: =?utf-8?q?Carnet_=3A_votre_espace_sant=C3=A9_va_=C3=AAtre_ouvert?=
Date: Thu, 26 Nov 2026 09:12:01 -0000
Message-ID: {message_id}
Auto-Submitted: auto-generated
MIME-Version: 1.0

--4F2A1C0123.1795684323/relay.carnet.example--
"""

# A provider's report: the envelope id (RFC 3461 ENVID) and the whole message returned.
ENVID_DSN = """\
From: Mail Delivery Subsystem <mailer-daemon@mx.example.net>
To: no-reply@carnet.example
Subject: Delivery Status Notification (Failure)
Date: Thu, 26 Nov 2026 09:30:00 +0000
Message-ID: <dsn-8841@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status"; boundary="XyZ-1"

--XyZ-1
Content-Type: text/plain; charset="UTF-8"

Your message wasn't delivered: the mailbox is full and has been for 30 days.

--XyZ-1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Original-Envelope-Id: {envid}

Final-Recipient: rfc822; {to}
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 mailbox full

--XyZ-1
Content-Type: message/rfc822

From: Carnet <no-reply@carnet.example>
To: {to}
Subject: Carnet
Message-ID: <unrelated-4411@carnet.example>

Bonjour,

--XyZ-1--
"""

ARF = """\
From: <feedback@fbl.example.com>
To: <abuse@carnet.example>
Subject: FW: Carnet
Date: Thu, 26 Nov 2026 11:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
\tboundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 26 Nov 2026 10:12:01 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <no-reply@carnet.example>
Original-Rcpt-To: <{to}>
Arrival-Date: Thu, 26 Nov 2026 10:12:01 +0000
Source-IP: 192.0.2.1

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: Carnet <no-reply@carnet.example>
To: {to}
Subject: Carnet
Message-ID: {message_id}
Date: Thu, 26 Nov 2026 10:12:01 +0000

Bonjour,

--part1_13d.2e68ed54_boundary--
"""


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = make_settings(fresh_database_url, tmp_path / "var", enrollment={"campaign_batch": 3})
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def rows(rt: Runtime, tmp_path: Path) -> list[Row]:
    generated = list(synthetic_registry(80, seed=5))
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", generated),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    return generated


def notice_mails(rt: Runtime) -> list[OutgoingEmail]:
    return [m for m in emails(rt).outbox if m.kind == "space_opening"]


def message_id(mail: OutgoingEmail) -> str:
    """The Message-ID the SMTP sender writes for ``mail`` (tests/notify checks it does)."""
    return f"<{mail.reference}@{DOMAIN}>"


def dsn(mail: OutgoingEmail, action: str = "failed", status: str = "5.1.1") -> str:
    return POSTFIX_DSN.format(to=mail.to, action=action, status=status, message_id=message_id(mail))


def row_of(rows: list[Row], mail: OutgoingEmail) -> Row:
    return next(r for r in rows if r["email"] == mail.to)


@pytest.fixture
def sent(rt: Runtime, rows: list[Row]) -> list[OutgoingEmail]:
    """A campaign over the pilot départements, run: its notice e-mails."""
    start(rt)
    run_jobs(rt)
    mails = notice_mails(rt)
    assert len(mails) >= 4
    return mails


@pytest.fixture
def carnet_cli(
    rt: Runtime, fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Run ``carnet ARGS…`` in-process on ``rt``'s database and keys; return its output."""
    monkeypatch.setenv("CARNET_ENVIRONMENT", "test")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CARNET_DATABASE__URL", fresh_database_url)
    monkeypatch.setenv("CARNET_JOBS__WORKER_IN_SERVER", "false")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    return run


def test_each_notice_e_mail_names_its_notice_and_not_its_person(
    rt: Runtime, rows: list[Row], sent: list[OutgoingEmail]
) -> None:
    nirs = {r["nir"] for r in rows}
    references = {mail.reference for mail in sent}
    assert len(references) == len(sent)
    for mail in sent:
        notice_id = notice_from_reference(message_id(mail))
        with rt.transaction(readonly=True) as db:
            [(own, channel, _)] = rt.enrollment.notices(
                db, beneficiary_id=id_of(rt, row_of(rows, mail)["nir"])
            )
        assert (notice_id, channel) == (own, "email")
        assert not set(re.findall(r"\w+", mail.reference)) & nirs


def test_a_postfix_dsn_turns_the_person_to_a_letter(
    rt: Runtime, rows: list[Row], sent: list[OutgoingEmail], tmp_path: Path
) -> None:
    bounced = sent[0]
    report = tmp_path / "dsn.eml"
    report.write_text(dsn(bounced))
    reading = read_bounces(report)
    assert (reading.reports, reading.bounces, reading.ignored) == (1, 1, 0)
    with rt.transaction() as db:
        assert rt.enrollment.waves.record_bounces(db, references=reading.references) == 1
    with rt.transaction() as db:  # the same report again changes nothing
        assert rt.enrollment.waves.record_bounces(db, references=reading.references) == 0
    row = row_of(rows, bounced)
    assert status_of(rt, row["nir"]) is Status.LETTER_DUE
    with rt.transaction(readonly=True) as db:
        [(_, _, status)] = rt.enrollment.notices(db, beneficiary_id=id_of(rt, row["nir"]))
    assert status == "bounced"
    for other in sent[1:]:
        assert status_of(rt, row_of(rows, other)["nir"]) is Status.NOTIFIED


def test_an_mbox_of_reports_counts_failures_only(
    rt: Runtime, rows: list[Row], sent: list[OutgoingEmail], tmp_path: Path
) -> None:
    failed, delayed, by_envid, complained = sent[:4]
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for text in (
        dsn(failed),
        dsn(delayed, action="delayed", status="4.4.1"),  # still trying: no bounce
        ENVID_DSN.format(envid=by_envid.reference, to=by_envid.to),
        ARF.format(to=complained.to, message_id=message_id(complained)),
        "From: someone@example.org\nSubject: out of office\n\nI am away.\n",
    ):
        box.add(mailbox.mboxMessage(text))
    box.close()
    reading = read_bounces(path)
    assert (reading.reports, reading.bounces, reading.complaints, reading.ignored) == (5, 2, 1, 2)
    with rt.transaction() as db:
        assert rt.enrollment.waves.record_bounces(db, references=reading.references) == 3
    expected = {failed: Status.LETTER_DUE, delayed: Status.NOTIFIED}
    expected |= {by_envid: Status.LETTER_DUE, complained: Status.LETTER_DUE}
    for mail, status in expected.items():
        assert status_of(rt, row_of(rows, mail)["nir"]) is status


def test_the_cli_reads_a_maildir_and_an_export(
    rt: Runtime,
    rows: list[Row],
    sent: list[OutgoingEmail],
    tmp_path: Path,
    carnet_cli: Callable[..., str],
) -> None:
    maildir = tmp_path / "Maildir" / "new"
    maildir.mkdir(parents=True)
    (maildir / "1764144723.M1P2.relay").write_text(dsn(sent[0]))
    output = carnet_cli("enrollment", "bounces", str(maildir.parent))
    assert "1 reports read: 1 bounces" in output
    assert "1 people now due a letter" in output

    export = tmp_path / "bounced.txt"
    export.write_text(
        "# message-id, recipient domain, reason\n"
        f"{message_id(sent[1])},example.org,550 5.1.1\n"
        f"{sent[2].reference}\n"
        "<20261126.abc@other.example>\n"  # another service's mail: ignored
        f"{message_id(sent[0])}\n"  # already recorded
        "\n"
    )
    output = carnet_cli("enrollment", "bounces", str(export))
    assert "4 reports read: 3 bounces" in output and "1 ignored" in output
    assert "2 people now due a letter" in output
    for mail in sent[:3]:
        assert status_of(rt, row_of(rows, mail)["nir"]) is Status.LETTER_DUE
        assert mail.to not in output
    with rt.transaction(readonly=True) as db:
        audited = db.execute(
            select(audit_models.event.c.entity).where(
                audit_models.event.c.tag == "enrollment:notice:bounce"
            )
        ).scalars()
        expected = [notice_from_reference(mail.reference) for mail in sent[:3]]
        assert sorted(audited) == sorted(f"enrollment-notice/{n}" for n in expected)


def test_a_refusal_while_sending_turns_the_person_to_a_letter(rt: Runtime, rows: list[Row]) -> None:
    refused = {r["email"] for r in holders(rows) if r["email"]}
    refused = set(sorted(refused)[:2])

    class Relay(MemoryEmailSender):
        """Refuses two recipients for good, takes the others."""

        def send(self, message: OutgoingEmail) -> None:
            if message.to in refused:
                raise DeliveryRefused("the relay refused the recipient")
            super().send(message)

    rt.notify.email = Relay()
    rt.notify.register_jobs(rt.jobs)
    campaign_id = start(rt)
    run_jobs(rt)
    for row in holders(rows):
        if row["email"] in refused:
            assert status_of(rt, row["nir"]) is Status.LETTER_DUE
        elif row["email"]:
            assert status_of(rt, row["nir"]) is Status.NOTIFIED
    assert len(notice_mails(rt)) == len([r for r in holders(rows) if r["email"]]) - 2
    with rt.transaction(readonly=True) as db:
        campaign = rt.enrollment.campaign(db, campaign_id=campaign_id)
        left = [job.kind for job in rt.jobs.jobs(db) if job.status != "pending"]
        left += [job.kind for job in rt.jobs.jobs(db) if job.kind.startswith("notify:")]
        assert left == []  # nothing parked, nothing left to send
    assert campaign.emailed == len([r for r in holders(rows) if r["email"]])


def test_a_file_of_nothing_useful(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n")
    assert read_bounces(empty).reports == 0
    message = Message()
    message["Subject"] = "hello"
    other = tmp_path / "other.eml"
    other.write_bytes(message.as_bytes())
    reading = read_bounces(other)
    assert (reading.reports, reading.ignored, reading.references) == (1, 1, [])
