"""Settings section of the notify area (``CARNET_NOTIFY__*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

EmailBackend = Literal["smtp", "memory", "console"]
SmsBackend = Literal["console", "memory", "none"]
DEFAULT_FROM = "Carnet <no-reply@carnet.invalid>"


class NotifySettings(BaseModel):
    email_backend: EmailBackend | None = None
    """``smtp``, ``console`` (prints to stderr) or ``memory`` (tests); default: console in dev,
    memory in test, smtp in prod."""
    sms_backend: SmsBackend | None = None
    """``console``, ``memory`` or ``none`` (no SMS provider: SMS features are off); default:
    console in dev, memory in test, none in prod."""
    email_from: str = Field(default=DEFAULT_FROM, min_length=3, max_length=200)
    """The From header; the placeholder default is refused in prod."""
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    """``starttls`` (port 587), ``ssl`` (implicit TLS, port 465) or ``none`` (a local relay)."""
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    smtp_ca_file: Path | None = None
    """CA bundle to verify the relay's certificate (default: the system's)."""

    def resolved_email_backend(self, environment: str) -> EmailBackend:
        if self.email_backend is not None:
            return self.email_backend
        return {"dev": "console", "test": "memory"}.get(environment, "smtp")  # type: ignore[return-value]

    def resolved_sms_backend(self, environment: str) -> SmsBackend:
        if self.sms_backend is not None:
            return self.sms_backend
        return {"dev": "console", "test": "memory"}.get(environment, "none")  # type: ignore[return-value]

    def production_problems(self) -> list[str]:
        """Why this configuration may not run in production (empty: it may)."""
        problems = []
        if self.resolved_email_backend("prod") != "smtp":
            problems.append("CARNET_NOTIFY__EMAIL_BACKEND must be smtp in production")
        if self.resolved_sms_backend("prod") != "none":
            problems.append(
                "CARNET_NOTIFY__SMS_BACKEND console/memory send nothing: use none until an SMS "
                "provider adapter exists"
            )
        if self.email_from == DEFAULT_FROM:
            problems.append("CARNET_NOTIFY__EMAIL_FROM is the placeholder address")
        if self.smtp_tls == "none" and self.smtp_password is not None:
            problems.append("SMTP credentials would travel in clear (CARNET_NOTIFY__SMTP_TLS=none)")
        return problems
