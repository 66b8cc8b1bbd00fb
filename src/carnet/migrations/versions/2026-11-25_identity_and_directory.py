"""Identity and directory: the bookkeeping of directory imports (runs and the entries that make
re-imports idempotent and find removals); the identity values themselves need no table.

Revision ID: 68bee9468f10
Revises: 5a983f55ca0a
Created: 2026-11-25 21:46:22.186664
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "68bee9468f10"
down_revision: str | None = "5a983f55ca0a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interop_directory_entry",
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("last_seen_run", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "resource_type", "resource_id", name=op.f("pk_interop_directory_entry")
        ),
    )
    op.create_table(
        "interop_directory_run",
        sa.Column(
            "run",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines_done", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("started_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", carnet.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run", name=op.f("pk_interop_directory_run")),
    )
    with op.batch_alter_table("interop_directory_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interop_directory_run_status", ["status", "source_digest"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("interop_directory_run", schema=None) as batch_op:
        batch_op.drop_index("ix_interop_directory_run_status")

    op.drop_table("interop_directory_run")
    op.drop_table("interop_directory_entry")
