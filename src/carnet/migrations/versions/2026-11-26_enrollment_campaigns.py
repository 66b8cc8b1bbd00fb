"""Enrollment campaigns: notification waves (campaign, one notice per person and campaign),
activation codes (keyed hashes only) and the per-NIR throttle of code requests; the wave index
of beneficiaries gains the id, so a wave walks a département in id order by range scans.

Revision ID: a415b1a935cd
Revises: 3c93de278040
Created: 2026-11-26 01:31:48.910732
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "a415b1a935cd"
down_revision: str | None = "3c93de278040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_campaign",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("departements", sa.Text(), nullable=False),
        sa.Column("send_date", sa.Date(), nullable=False),
        sa.Column("opposition_ends", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cursor_departement", sa.String(length=3), nullable=True),
        sa.Column("cursor_id", sa.String(length=36), nullable=True),
        sa.Column("emailed", sa.BigInteger(), nullable=False),
        sa.Column("letters_due", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=160), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_campaign")),
    )
    op.create_table(
        "enrollment_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_enrollment_throttle")),
    )
    op.create_table(
        "enrollment_activation_code",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=36), nullable=False),
        sa.Column("code_mac", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["enrollment_beneficiary.id"],
            name=op.f("fk_enrollment_activation_code_beneficiary_id_enrollment_beneficiary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_activation_code")),
    )
    with op.batch_alter_table("enrollment_activation_code", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrollment_activation_code_beneficiary_id",
            ["beneficiary_id", "used_at"],
            unique=False,
        )

    op.create_table(
        "enrollment_notice",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opposition_ends", sa.Date(), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["enrollment_beneficiary.id"],
            name=op.f("fk_enrollment_notice_beneficiary_id_enrollment_beneficiary"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["enrollment_campaign.id"],
            name=op.f("fk_enrollment_notice_campaign_id_enrollment_campaign"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_notice")),
        sa.UniqueConstraint(
            "campaign_id",
            "beneficiary_id",
            name=op.f("uq_enrollment_notice_campaign_id_beneficiary_id"),
        ),
    )
    with op.batch_alter_table("enrollment_notice", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrollment_notice_beneficiary_id", ["beneficiary_id"], unique=False
        )

    with op.batch_alter_table("enrollment_beneficiary", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollment_beneficiary_departement"))
        batch_op.create_index(
            "ix_enrollment_beneficiary_wave", ["departement", "status", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("enrollment_beneficiary", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_beneficiary_wave")
        batch_op.create_index(
            batch_op.f("ix_enrollment_beneficiary_departement"),
            ["departement", "status"],
            unique=False,
        )

    with op.batch_alter_table("enrollment_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_notice_beneficiary_id")

    op.drop_table("enrollment_notice")
    with op.batch_alter_table("enrollment_activation_code", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_activation_code_beneficiary_id")

    op.drop_table("enrollment_activation_code")
    op.drop_table("enrollment_throttle")
    op.drop_table("enrollment_campaign")
