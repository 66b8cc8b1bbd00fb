"""Values crossing the boundary of accounts and sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

AccountKind = Literal["patient", "professional", "operator"]
SecondFactor = Literal["email", "sms", "totp"]
CodeChannel = Literal["email", "sms"]
"""How one-time codes are sent (the factors a person chooses between on the security page)."""
PersonKind = Literal["patient", "professional"]


class OperatorRole(StrEnum):
    """What an operator may do in the administration area."""

    SUPPORT = "support"
    ENROLLMENT = "enrollment"
    REFERENCING = "referencing"
    SECURITY = "security"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A session just opened: ``token`` goes in the cookie (and nowhere else), once."""

    token: str
    session_id: str

    def __repr__(self) -> str:
        return f"IssuedSession(session_id={self.session_id!r}, token=<hidden>)"


@dataclass(frozen=True, slots=True)
class Profile:
    """Someone the signed-in person may act as: themselves, or a child they represent."""

    patient_id: str
    relation: Literal["self", "child"]
    label: str


@dataclass(frozen=True, slots=True)
class CurrentSession:
    """The session of a request, once its cookie has been checked."""

    session_id: str
    account_id: str
    kind: AccountKind
    person_id: str | None
    stage: Literal["second-factor", "active"]
    roles: frozenset[OperatorRole]
    patient_id: str | None
    """The profile acted as (patients: themselves or a child)."""
    profiles: tuple[Profile, ...]
    second_factor: SecondFactor
    method: str
    needs_touch: bool = False

    @property
    def active(self) -> bool:
        return self.stage == "active"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One session as its owner sees it in the security page."""

    session_id: str
    user_agent: str
    method: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_id: str
    label: str
    created_at: datetime
    last_used_at: datetime


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account_id: str
    kind: AccountKind
    second_factor: SecondFactor
    email_masked: str | None
    phone_masked: str | None
    totp_enabled: bool
    recovery_codes_left: int
    roles: frozenset[OperatorRole]
    has_password: bool = True
    """False for an account made by a federated sign-in (it has no password to change)."""
    sms_available: bool = False
    """Whether codes can be sent by SMS at all (an SMS provider is configured)."""


@dataclass(frozen=True, slots=True)
class PasswordAccepted:
    """A password was right: the pending session, and where the code went (or a TOTP is due)."""

    issued: IssuedSession
    second_factor: SecondFactor
    sent_to: str | None
    """The masked contact the code went to (``c…@example.org``); None for TOTP."""
    device_trusted: bool
    """The browser's trusted-device cookie is valid: no second factor, the session is active."""


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    uri: str
    qr_svg: str
