"""Enrollment registry: the insurer's beneficiaries (a blind index of the NIR, the département
and status in clear, every identifying value sealed with the person's data key, dependants
linked to their holder) and the bookkeeping of registry imports (for resuming).

Revision ID: 3c93de278040
Revises: 9e1cf1242e16
Created: 2026-11-26 00:52:43.545508
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "3c93de278040"
down_revision: str | None = "9e1cf1242e16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_beneficiary",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nir_index", sa.String(length=32), nullable=False),
        sa.Column("holder_id", sa.String(length=36), nullable=True),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("content_mac", sa.String(length=32), nullable=False),
        sa.Column("seen_run", sa.BigInteger(), nullable=False),
        sa.Column("seen_line", sa.BigInteger(), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_id"],
            ["enrollment_beneficiary.id"],
            name=op.f("fk_enrollment_beneficiary_holder_id_enrollment_beneficiary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_beneficiary")),
        sa.UniqueConstraint("nir_index", name=op.f("uq_enrollment_beneficiary_nir_index")),
    )
    with op.batch_alter_table("enrollment_beneficiary", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrollment_beneficiary_departement", ["departement", "status"], unique=False
        )
        batch_op.create_index("ix_enrollment_beneficiary_holder_id", ["holder_id"], unique=False)

    op.create_table(
        "enrollment_registry_run",
        sa.Column(
            "run",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines_done", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("report_path", sa.String(length=1024), nullable=True),
        sa.Column("started_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run", name=op.f("pk_enrollment_registry_run")),
    )
    with op.batch_alter_table("enrollment_registry_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrollment_registry_run_status", ["status", "source_digest"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("enrollment_registry_run", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_registry_run_status")

    op.drop_table("enrollment_registry_run")
    with op.batch_alter_table("enrollment_beneficiary", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_beneficiary_holder_id")
        batch_op.drop_index("ix_enrollment_beneficiary_departement")

    op.drop_table("enrollment_beneficiary")
