"""Enrollment: per-département status counts kept by triggers (the operators' dashboard).

Revision ID: b7c1e2a30007
Revises: b7c1e2a30006
Created: 2026-11-26 07:30:00

``enrollment_status_tally`` receives signed deltas from triggers on ``enrollment_beneficiary``
(``enrollment.tally`` says why and how it is read and compacted). The table starts from the
current counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c1e2a30007"
down_revision: str | None = "b7c1e2a30006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("insert", "update", "delete")

# PostgreSQL: one trigger per statement, fed the statement's rows (transition tables), so a
# bulk UPDATE of a thousand people appends a few rows, not a thousand.
_PG_FUNCTION = """
CREATE FUNCTION enrollment_status_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO enrollment_status_tally (departement, status, delta)
        SELECT departement, status, count(*) FROM new_rows GROUP BY departement, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO enrollment_status_tally (departement, status, delta)
        SELECT departement, status, -count(*) FROM old_rows GROUP BY departement, status;
    ELSE
        INSERT INTO enrollment_status_tally (departement, status, delta)
        SELECT departement, status, sum(delta) FROM (
            SELECT departement, status, 1 AS delta FROM new_rows
            UNION ALL
            SELECT departement, status, -1 AS delta FROM old_rows
        ) AS moved
        GROUP BY departement, status
        HAVING sum(delta) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""
_PG_TRIGGERS = {
    "insert": "AFTER INSERT ON enrollment_beneficiary REFERENCING NEW TABLE AS new_rows",
    "update": (
        "AFTER UPDATE ON enrollment_beneficiary"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "delete": "AFTER DELETE ON enrollment_beneficiary REFERENCING OLD TABLE AS old_rows",
}
# SQLite (development): one trigger per row.
_SQLITE_TRIGGERS = {
    "insert": (
        "AFTER INSERT ON enrollment_beneficiary BEGIN"
        " INSERT INTO enrollment_status_tally (departement, status, delta)"
        " VALUES (NEW.departement, NEW.status, 1); END"
    ),
    "update": (
        "AFTER UPDATE OF status, departement ON enrollment_beneficiary"
        " WHEN OLD.status IS NOT NEW.status OR OLD.departement IS NOT NEW.departement BEGIN"
        " INSERT INTO enrollment_status_tally (departement, status, delta)"
        " VALUES (OLD.departement, OLD.status, -1), (NEW.departement, NEW.status, 1); END"
    ),
    "delete": (
        "AFTER DELETE ON enrollment_beneficiary BEGIN"
        " INSERT INTO enrollment_status_tally (departement, status, delta)"
        " VALUES (OLD.departement, OLD.status, -1); END"
    ),
}


def upgrade() -> None:
    op.create_table(
        "enrollment_status_tally",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_status_tally")),
    )
    op.execute(
        "INSERT INTO enrollment_status_tally (departement, status, delta)"
        " SELECT departement, status, count(*) FROM enrollment_beneficiary"
        " GROUP BY departement, status"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name, when in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER enrollment_status_tally_{name} {when}"
                " FOR EACH STATEMENT EXECUTE FUNCTION enrollment_status_tally_rows()"
            )
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER enrollment_status_tally_{name} {body}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    on_table = " ON enrollment_beneficiary" if postgresql else ""
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS enrollment_status_tally_{name}{on_table}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS enrollment_status_tally_rows()")
    op.drop_table("enrollment_status_tally")
