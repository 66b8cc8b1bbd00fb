"""Enrollment: the space of each person: opening, first choices, closure and retention.

Revision ID: b7c1e2a30001
Revises: 5d1e0c7b9a42
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "b7c1e2a30001"
down_revision: str | None = "5d1e0c7b9a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_space",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("opened_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=16), nullable=False),
        sa.Column("dmp_merge", sa.String(length=16), nullable=False),
        sa.Column("activated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("terms_version", sa.String(length=16), nullable=True),
        sa.Column("terms_accepted_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("default_confidentiality", sa.String(length=16), nullable=False),
        sa.Column("samu_access", sa.Boolean(), nullable=False),
        sa.Column("break_glass_access", sa.Boolean(), nullable=False),
        sa.Column("emergency_masked_access", sa.Boolean(), nullable=False),
        sa.Column("suspended_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspended_by", sa.String(length=160), nullable=True),
        sa.Column("closed_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column(
            "deletion_requested_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("erase_after", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["enrollment_beneficiary.id"],
            name=op.f("fk_enrollment_space_patient_id_enrollment_beneficiary"),
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_enrollment_space")),
    )
    op.create_index("ix_enrollment_space_erase_after", "enrollment_space", ["erase_after"])
    op.create_index("ix_enrollment_space_suspended_at", "enrollment_space", ["suspended_at"])
    op.create_index("ix_enrollment_beneficiary_status", "enrollment_beneficiary", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_enrollment_beneficiary_status", table_name="enrollment_beneficiary")
    op.drop_index("ix_enrollment_space_suspended_at", table_name="enrollment_space")
    op.drop_index("ix_enrollment_space_erase_after", table_name="enrollment_space")
    op.drop_table("enrollment_space")
