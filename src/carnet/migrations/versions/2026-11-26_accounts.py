"""Accounts and sign-in: accounts (logins as a blind index, sealed contacts and TOTP secrets,
argon2id hashes), children's profiles, server-side sessions, trusted devices, one-time and
recovery codes (keyed hashes), and the rate-limit counters.

Revision ID: 9e1cf1242e16
Revises: 68bee9468f10
Created: 2026-11-26 23:49:07.925179
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "9e1cf1242e16"
down_revision: str | None = "68bee9468f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_account",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("login_mac", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("email_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("email_masked", sa.String(length=80), nullable=True),
        sa.Column("phone_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("phone_masked", sa.String(length=40), nullable=True),
        sa.Column("contact_verified_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("second_factor", sa.String(length=8), nullable=False),
        sa.Column("totp_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_pending_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=False),
        sa.Column("personal_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("dev_only", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_account")),
        sa.UniqueConstraint("kind", "person_id", name=op.f("uq_identity_account_kind_person_id")),
        sa.UniqueConstraint("login_mac", name=op.f("uq_identity_account_login_mac")),
    )
    op.create_table(
        "identity_throttle",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_identity_throttle")),
    )
    op.create_table(
        "identity_account_profile",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("label_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_account_profile_account_id_identity_account"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "patient_id", name=op.f("pk_identity_account_profile")
        ),
    )
    op.create_table(
        "identity_code",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("binding", sa.String(length=64), nullable=False),
        sa.Column("code_mac", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_code_account_id_identity_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_code")),
    )
    with op.batch_alter_table("identity_code", schema=None) as batch_op:
        batch_op.create_index("ix_identity_code_binding", ["binding"], unique=False)

    op.create_table(
        "identity_device",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_mac", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_device_account_id_identity_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_device")),
        sa.UniqueConstraint("token_mac", name=op.f("uq_identity_device_token_mac")),
    )
    with op.batch_alter_table("identity_device", schema=None) as batch_op:
        batch_op.create_index("ix_identity_device_account", ["account_id"], unique=False)

    op.create_table(
        "identity_recovery_code",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("code_mac", sa.String(length=64), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_recovery_code_account_id_identity_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_recovery_code")),
        sa.UniqueConstraint("code_mac", name=op.f("uq_identity_recovery_code_code_mac")),
    )
    with op.batch_alter_table("identity_recovery_code", schema=None) as batch_op:
        batch_op.create_index("ix_identity_recovery_code_account", ["account_id"], unique=False)

    op.create_table(
        "identity_session",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_mac", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("acr", sa.String(length=100), nullable=True),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=120), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["identity_account.id"],
            name=op.f("fk_identity_session_account_id_identity_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_session")),
        sa.UniqueConstraint("token_mac", name=op.f("uq_identity_session_token_mac")),
    )
    with op.batch_alter_table("identity_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identity_session_account", ["account_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_session", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_session_account")

    op.drop_table("identity_session")
    with op.batch_alter_table("identity_recovery_code", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_recovery_code_account")

    op.drop_table("identity_recovery_code")
    with op.batch_alter_table("identity_device", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_device_account")

    op.drop_table("identity_device")
    with op.batch_alter_table("identity_code", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_code_binding")

    op.drop_table("identity_code")
    op.drop_table("identity_account_profile")
    op.drop_table("identity_throttle")
    op.drop_table("identity_account")
