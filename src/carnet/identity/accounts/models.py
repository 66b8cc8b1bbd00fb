"""Tables of accounts and sign-in (private to ``identity.accounts``).

Nothing here is readable without the keys: logins are stored as keyed HMACs (blind index),
contacts and TOTP secrets sealed with AES-GCM, passwords as argon2id hashes, and every token
(session, trusted device, one-time and recovery codes) only as a keyed hash.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from carnet.core.db import UTCDateTime, metadata

account = Table(
    "identity_account",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),  # patient, professional, operator
    # The FHIR id of the Patient or Practitioner this account is (none for operators).
    Column("person_id", String(64), nullable=True),
    Column("login_mac", String(64), nullable=True, unique=True),
    Column("password_hash", String(200), nullable=True),
    Column("email_sealed", LargeBinary, nullable=True),
    Column("email_masked", String(80), nullable=True),
    Column("phone_sealed", LargeBinary, nullable=True),
    Column("phone_masked", String(40), nullable=True),
    Column("contact_verified_at", UTCDateTime, nullable=True),
    Column("second_factor", String(8), nullable=False),  # email, sms, totp
    Column("totp_sealed", LargeBinary, nullable=True),
    Column("totp_pending_sealed", LargeBinary, nullable=True),
    # The last 30-second step whose code was accepted: a code works once (no replay).
    Column("totp_last_step", BigInteger, nullable=False, default=0),
    # The person's names and birth date as the password rules compare them, sealed: checked
    # again when the password changes.
    Column("personal_sealed", LargeBinary, nullable=True),
    Column("roles", String(200), nullable=False, default=""),
    Column("dev_only", Boolean, nullable=False, default=False),
    Column("language", String(2), nullable=False, default="fr"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=True),
    Column("disabled_at", UTCDateTime, nullable=True),
    UniqueConstraint("kind", "person_id"),
)

profile = Table(
    "identity_account_profile",
    metadata,
    Column("account_id", String(36), ForeignKey("identity_account.id"), primary_key=True),
    Column("patient_id", String(64), primary_key=True),
    Column("relation", String(16), nullable=False),  # self, child
    Column("label_sealed", LargeBinary, nullable=False),
    Column("position", Integer, nullable=False),
)

session = Table(
    "identity_session",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_mac", String(64), nullable=False, unique=True),
    Column("account_id", String(36), ForeignKey("identity_account.id"), nullable=False),
    Column("stage", String(16), nullable=False),  # second-factor, active
    Column("method", String(32), nullable=False),
    Column("acr", String(100), nullable=True),
    Column("device_id", String(36), nullable=True),
    Column("patient_id", String(64), nullable=True),  # the profile acted as
    Column("user_agent", String(120), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
Index("ix_identity_session_account", session.c.account_id, session.c.created_at)

device = Table(
    "identity_device",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_mac", String(64), nullable=False, unique=True),
    Column("account_id", String(36), ForeignKey("identity_account.id"), nullable=False),
    Column("label", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)
Index("ix_identity_device_account", device.c.account_id)

code = Table(
    "identity_code",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("identity_account.id"), nullable=False),
    Column("purpose", String(16), nullable=False),  # sign-in, recovery, phone
    # The pending session (sign-in), recovery request or number (phone) the code belongs to.
    Column("binding", String(64), nullable=False),
    Column("code_mac", String(64), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)
Index("ix_identity_code_binding", code.c.binding)

recovery_code = Table(
    "identity_recovery_code",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("identity_account.id"), nullable=False),
    Column("code_mac", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)
Index("ix_identity_recovery_code_account", recovery_code.c.account_id)

throttle = Table(
    "identity_throttle",
    metadata,
    # "password:login:<mac>", "any:address:<mac>", "code:account:<id>": keyed, never in clear.
    Column("key", String(120), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)
