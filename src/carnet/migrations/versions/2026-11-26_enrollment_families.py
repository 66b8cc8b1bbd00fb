"""Enrollment: legal representatives and caregivers (proches aidants).

Revision ID: b7c1e2a30003
Revises: b7c1e2a30002
Created: 2026-11-26 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carnet.core.db

revision: str = "b7c1e2a30003"
down_revision: str | None = "b7c1e2a30002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_B = "enrollment_beneficiary"


def _when(name: str, *, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, carnet.core.db.UTCDateTime(timezone=True), nullable=nullable)


def _person(table: str, name: str) -> list[sa.Column[str] | sa.ForeignKeyConstraint]:
    return [
        sa.Column(name, sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint([name], [f"{_B}.id"], name=op.f(f"fk_{table}_{name}_{_B}")),
    ]


def upgrade() -> None:
    t = "enrollment_representative"
    op.create_table(
        t,
        *_person(t, "child_id"),
        *_person(t, "representative_id"),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        _when("since", nullable=False),
        _when("ended_at", nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("child_id", "representative_id", name=op.f(f"pk_{t}")),
    )
    op.create_index(f"ix_{t}_representative_id", t, ["representative_id"])
    t = "enrollment_family_invitation"
    op.create_table(
        t,
        sa.Column("id", sa.String(length=36), nullable=False),
        *_person(t, "child_id"),
        *_person(t, "inviter_id"),
        *_person(t, "invitee_id"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("answered_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(f"ix_{t}_child_id", t, ["child_id"])
    op.create_index(f"ix_{t}_invitee", t, ["invitee_id", "status"])
    t = "enrollment_caregiver"
    op.create_table(
        t,
        sa.Column("id", sa.String(length=36), nullable=False),
        *_person(t, "person_id"),
        *_person(t, "caregiver_id"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("created_at", nullable=False),
        _when("expires_at", nullable=False),
        _when("answered_at", nullable=True),
        _when("ended_at", nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("document_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(f"ix_{t}_person", t, ["person_id", "status"])
    op.create_index(f"ix_{t}_caregiver", t, ["caregiver_id", "status"])
    t = "enrollment_dependant"
    op.create_table(
        t,
        *_person(t, "beneficiary_id"),
        sa.Column("adult_mac", sa.String(length=32), nullable=False),
        _when("adult_done_at", nullable=True),
        sa.PrimaryKeyConstraint("beneficiary_id", name=op.f(f"pk_{t}")),
    )
    op.create_index(f"ix_{t}_adult_mac", t, ["adult_mac"])


def downgrade() -> None:
    op.drop_index("ix_enrollment_dependant_adult_mac", table_name="enrollment_dependant")
    op.drop_table("enrollment_dependant")
    op.drop_index("ix_enrollment_caregiver_caregiver", table_name="enrollment_caregiver")
    op.drop_index("ix_enrollment_caregiver_person", table_name="enrollment_caregiver")
    op.drop_table("enrollment_caregiver")
    t = "enrollment_family_invitation"
    op.drop_index(f"ix_{t}_invitee", table_name=t)
    op.drop_index(f"ix_{t}_child_id", table_name=t)
    op.drop_table(t)
    t = "enrollment_representative"
    op.drop_index(f"ix_{t}_representative_id", table_name=t)
    op.drop_table(t)
