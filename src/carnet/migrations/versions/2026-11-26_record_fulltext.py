"""The per-person full-text index: record_text_key (each patient's sealed text key) and
record_text_token (keyed hashes of words and prefixes, per resource).

Revision ID: f6a0c1d20001
Revises: n6b0a4c10001
Create Date: 2026-11-26

New tables only: resources stored before this revision are indexed when next written (their
display texts) or when a document is (re)indexed by the ``record:index-document`` job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "f6a0c1d20001"
down_revision: str | None = "n6b0a4c10001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_text_key",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", carnet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_record_text_key")),
    )
    op.create_table(
        "record_text_token",
        sa.Column("resource_key", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=16), nullable=False),
    )
    with op.batch_alter_table("record_text_token") as batch:
        batch.create_index("ix_record_text_token_resource_key", ["resource_key"], unique=False)
        batch.create_index("ix_record_text_token_lookup", ["patient_id", "hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_text_token") as batch:
        batch.drop_index("ix_record_text_token_lookup")
        batch.drop_index("ix_record_text_token_resource_key")
    op.drop_table("record_text_token")
    op.drop_table("record_text_key")
