"""Messages are queued in the caller's transaction and sent by a job after commit: a change that
rolls back sends nothing (DESIGN.md §7). Each test has a database of its own, so its worker runs
its jobs only."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import make_settings

from carnet.core.errors import ConfigurationError
from carnet.notify import service as notify_service
from carnet.notify.adapters.local import ConsoleEmailSender, MemoryEmailSender, MemorySmsSender
from carnet.notify.config import NotifySettings
from carnet.notify.errors import DeliveryRefused, InvalidRecipient
from carnet.runtime import Runtime, build_runtime

ADDRESS = "anais.lefebvre@example.org"
PHONE = "+33612345678"


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(
        make_settings(fresh_database_url, tmp_path / "var"), configure_logs=False
    )
    yield runtime
    runtime.close()


def outbox(rt: Runtime) -> MemoryEmailSender:
    assert isinstance(rt.notify.email, MemoryEmailSender)
    return rt.notify.email


def notify_jobs(rt: Runtime) -> list:
    with rt.transaction(readonly=True) as db:
        return [job for job in rt.jobs.jobs(db) if job.kind.startswith("notify:")]


def queue_code(rt: Runtime, db, language: str = "fr") -> str:
    return notify_service.queue_email(
        db,
        rt.jobs,
        to=ADDRESS,
        template="sign_in_code",
        context={"code": "483920", "expires_minutes": 10},
        language=language,
    )


def test_an_e_mail_is_sent_after_commit(rt: Runtime) -> None:
    with rt.transaction() as db:
        queue_code(rt, db, language="en")
        assert outbox(rt).outbox == []  # nothing leaves inside the transaction
    assert rt.worker().run_until_idle() == 1
    (sent,) = outbox(rt).outbox
    assert sent.to == ADDRESS
    assert sent.subject == "Carnet: your sign-in code"
    assert "483920" in sent.text and sent.html is not None and "483920" in sent.html
    assert ADDRESS not in repr(sent)


def test_nothing_is_sent_for_a_change_that_rolled_back(rt: Runtime) -> None:
    def change_that_fails() -> None:
        with rt.transaction() as db:
            queue_code(rt, db)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert rt.worker().run_until_idle() == 0
    assert outbox(rt).outbox == []


def test_an_sms_is_sent_after_commit(rt: Runtime) -> None:
    assert rt.notify.sms_available
    with rt.transaction() as db:
        notify_service.queue_sms(
            db,
            rt.jobs,
            to=PHONE,
            template="sign_in_code",
            context={"code": "483920", "expires_minutes": 10},
        )
    rt.worker().run_until_idle()
    assert isinstance(rt.notify.sms, MemorySmsSender)
    (sms,) = rt.notify.sms.outbox
    assert sms.to == PHONE
    assert sms.text.startswith("483920 est votre code de connexion Carnet")


@pytest.mark.parametrize("to", ["not-an-address", "a@b", "x@example.org\r\nBcc: y@example.org", ""])
def test_bad_addresses_are_refused_at_once(rt: Runtime, to: str) -> None:
    with rt.transaction() as db, pytest.raises(InvalidRecipient) as caught:
        notify_service.queue_email(db, rt.jobs, to=to, template="password_changed", context={})
    assert to not in caught.value.message or not to


@pytest.mark.parametrize("to", ["0612345678", "+33 6 12 34 56 78", "+0612345678"])
def test_bad_phone_numbers_are_refused(rt: Runtime, to: str) -> None:
    with rt.transaction() as db, pytest.raises(InvalidRecipient):
        notify_service.queue_sms(
            db, rt.jobs, to=to, template="sign_in_code", context={"code": "1", "expires_minutes": 1}
        )


def test_a_permanent_refusal_drops_the_job_and_logs_no_address(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    class Refusing:
        def send(self, message: object) -> None:
            raise DeliveryRefused("the relay refused the recipient")

    rt.notify.email = Refusing()
    rt.notify.register_jobs(rt.jobs)
    with rt.transaction() as db:
        queue_code(rt, db)
    with caplog.at_level(logging.INFO):
        rt.worker().run_until_idle()
    assert notify_jobs(rt) == []
    assert "not delivered" in caplog.text
    assert ADDRESS not in caplog.text


def test_a_transient_failure_is_retried(rt: Runtime) -> None:
    class Down:
        def send(self, message: object) -> None:
            raise ConnectionRefusedError(f"cannot reach the relay for {ADDRESS}")

    rt.notify.email = Down()
    rt.notify.register_jobs(rt.jobs)
    with rt.transaction() as db:
        queue_code(rt, db)
    rt.worker().run_until_idle()
    (job,) = notify_jobs(rt)
    assert job.status == "pending" and job.attempts == 1
    assert ADDRESS not in (job.last_error or "")  # the error is redacted


def test_without_an_sms_provider_sms_jobs_fail(fresh_database_url: str, tmp_path: Path) -> None:
    settings = make_settings(fresh_database_url, tmp_path / "var", notify={"sms_backend": "none"})
    rt = build_runtime(settings, configure_logs=False)
    try:
        assert not rt.notify.sms_available
        with rt.transaction() as db:
            notify_service.queue_sms(
                db,
                rt.jobs,
                to=PHONE,
                template="sign_in_code",
                context={"code": "1", "expires_minutes": 1},
            )
        rt.worker().run_until_idle()
        (job,) = notify_jobs(rt)
        assert "SmsUnavailable" in (job.last_error or "")
    finally:
        rt.close()


def test_backends_follow_the_environment() -> None:
    settings = NotifySettings()
    assert settings.resolved_email_backend("dev") == "console"
    assert settings.resolved_email_backend("test") == "memory"
    assert settings.resolved_email_backend("prod") == "smtp"
    assert settings.resolved_sms_backend("prod") == "none"
    notifier = notify_service.Notifier.from_settings(settings, environment="dev")
    assert isinstance(notifier.email, ConsoleEmailSender)


def test_production_refuses_senders_that_deliver_nothing(tmp_path: Path) -> None:
    base = {
        "environment": "prod",
        "public_base_url": "https://carnet.example",
        "database": {"url": "postgresql://db/carnet"},
        "storage": {"key_file": str(tmp_path / "k.json")},
        "authz": {"signing_key_file": str(tmp_path / "s.json")},
    }
    from carnet.settings import Settings

    for notify, expected in (
        ({"email_backend": "console"}, "EMAIL_BACKEND must be smtp"),
        ({"email_backend": "memory"}, "EMAIL_BACKEND must be smtp"),
        ({"sms_backend": "console"}, "SMS_BACKEND"),
        ({}, "EMAIL_FROM is the placeholder"),
        ({"smtp_tls": "none", "smtp_password": "x"}, "in clear"),
    ):
        settings = Settings.model_validate({**base, "notify": notify})
        with pytest.raises(ConfigurationError, match=expected):
            settings.check_safe_to_start()
    fine = Settings.model_validate(
        {**base, "notify": {"email_from": "Carnet <no-reply@carnet.example>"}}
    )
    assert fine.notify.production_problems() == []
