"""Enrollment: activation tickets (code, identity proof, contact verification).

Revision ID: b7c1e2a30004
Revises: b7c1e2a30003
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "b7c1e2a30004"
down_revision: str | None = "b7c1e2a30003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = carnet.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "enrollment_activation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_mac", sa.String(length=32), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("code_id", sa.String(length=36), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("otp_mac", sa.String(length=32), nullable=True),
        sa.Column("otp_attempts", sa.Integer(), nullable=False),
        sa.Column("otp_sent", sa.Integer(), nullable=False),
        sa.Column("otp_expires_at", when, nullable=True),
        sa.Column("terms_version", sa.String(length=16), nullable=True),
        sa.Column("terms_accepted_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("finished_at", when, nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["enrollment_beneficiary.id"],
            name=op.f("fk_enrollment_activation_beneficiary_id_enrollment_beneficiary"),
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["enrollment_activation_code.id"],
            name=op.f("fk_enrollment_activation_code_id_enrollment_activation_code"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_activation")),
        sa.UniqueConstraint("token_mac", name=op.f("uq_enrollment_activation_token_mac")),
    )
    op.create_index(
        "ix_enrollment_activation_beneficiary_id", "enrollment_activation", ["beneficiary_id"]
    )
    op.create_index("ix_enrollment_activation_expires_at", "enrollment_activation", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_enrollment_activation_expires_at", table_name="enrollment_activation")
    op.drop_index("ix_enrollment_activation_beneficiary_id", table_name="enrollment_activation")
    op.drop_table("enrollment_activation")
