"""Enrollment letters: a notice printed in a batch records the batch (its PDF's reference).

Revision ID: 5d1e0c7b9a42
Revises: a415b1a935cd
Created: 2026-11-26 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d1e0c7b9a42"
down_revision: str | None = "a415b1a935cd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollment_notice") as batch_op:
        batch_op.add_column(sa.Column("letter_batch", sa.String(length=48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrollment_notice") as batch_op:
        batch_op.drop_column("letter_batch")
