"""Enrollment: per-département notice counts kept by triggers (letters printed, bounces).

Revision ID: b7c1e2a30008
Revises: b7c1e2a30007
Created: 2026-11-26 07:40:00

``enrollment_notice_tally`` receives signed deltas per (département of the person, channel,
status) from triggers on ``enrollment_notice``, as ``enrollment_status_tally`` does for
statuses (``enrollment.tally``); a person who moves takes their notices' counts along (a
trigger on ``enrollment_beneficiary``). The table starts from the current counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c1e2a30008"
down_revision: str | None = "b7c1e2a30007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("insert", "update", "delete")

# PostgreSQL: one trigger per statement; the person's département read by their id.
_PG_FUNCTION = """
CREATE FUNCTION enrollment_notice_tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO enrollment_notice_tally (departement, channel, status, delta)
        SELECT b.departement, n.channel, n.status, count(*)
        FROM new_rows AS n JOIN enrollment_beneficiary AS b ON b.id = n.beneficiary_id
        GROUP BY b.departement, n.channel, n.status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO enrollment_notice_tally (departement, channel, status, delta)
        SELECT b.departement, n.channel, n.status, -count(*)
        FROM old_rows AS n JOIN enrollment_beneficiary AS b ON b.id = n.beneficiary_id
        GROUP BY b.departement, n.channel, n.status;
    ELSE
        INSERT INTO enrollment_notice_tally (departement, channel, status, delta)
        SELECT b.departement, moved.channel, moved.status, sum(moved.delta)
        FROM (
            SELECT beneficiary_id, channel, status, 1 AS delta FROM new_rows
            UNION ALL
            SELECT beneficiary_id, channel, status, -1 AS delta FROM old_rows
        ) AS moved
        JOIN enrollment_beneficiary AS b ON b.id = moved.beneficiary_id
        GROUP BY b.departement, moved.channel, moved.status
        HAVING sum(moved.delta) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""
# A person who moves takes their notices' counts to their new département.
_PG_MOVES = """
CREATE FUNCTION enrollment_notice_tally_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrollment_notice_tally (departement, channel, status, delta)
    SELECT moved.departement, n.channel, n.status, sum(moved.delta)
    FROM (
        SELECT before.id, before.departement, -1 AS delta
        FROM old_rows AS before JOIN new_rows AS after ON after.id = before.id
        WHERE after.departement <> before.departement
        UNION ALL
        SELECT after.id, after.departement, 1 AS delta
        FROM old_rows AS before JOIN new_rows AS after ON after.id = before.id
        WHERE after.departement <> before.departement
    ) AS moved
    JOIN enrollment_notice AS n ON n.beneficiary_id = moved.id
    GROUP BY moved.departement, n.channel, n.status
    HAVING sum(moved.delta) <> 0;
    RETURN NULL;
END
$$
"""
_PG_TRIGGERS = {
    "insert": "AFTER INSERT ON enrollment_notice REFERENCING NEW TABLE AS new_rows",
    "update": (
        "AFTER UPDATE ON enrollment_notice REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    ),
    "delete": "AFTER DELETE ON enrollment_notice REFERENCING OLD TABLE AS old_rows",
}
# SQLite (development): one trigger per row.
_SQLITE_TRIGGERS = {
    "insert": (
        "AFTER INSERT ON enrollment_notice BEGIN"
        " INSERT INTO enrollment_notice_tally (departement, channel, status, delta) VALUES ("
        "(SELECT departement FROM enrollment_beneficiary WHERE id = NEW.beneficiary_id),"
        " NEW.channel, NEW.status, 1); END"
    ),
    "update": (
        "AFTER UPDATE OF channel, status ON enrollment_notice"
        " WHEN OLD.channel IS NOT NEW.channel OR OLD.status IS NOT NEW.status BEGIN"
        " INSERT INTO enrollment_notice_tally (departement, channel, status, delta) VALUES ("
        "(SELECT departement FROM enrollment_beneficiary WHERE id = OLD.beneficiary_id),"
        " OLD.channel, OLD.status, -1), ("
        "(SELECT departement FROM enrollment_beneficiary WHERE id = NEW.beneficiary_id),"
        " NEW.channel, NEW.status, 1); END"
    ),
    "delete": (
        "AFTER DELETE ON enrollment_notice BEGIN"
        " INSERT INTO enrollment_notice_tally (departement, channel, status, delta) VALUES ("
        "(SELECT departement FROM enrollment_beneficiary WHERE id = OLD.beneficiary_id),"
        " OLD.channel, OLD.status, -1); END"
    ),
}
_SQLITE_MOVES = (
    "CREATE TRIGGER enrollment_notice_tally_moves"
    " AFTER UPDATE OF departement ON enrollment_beneficiary"
    " WHEN OLD.departement IS NOT NEW.departement BEGIN"
    " INSERT INTO enrollment_notice_tally (departement, channel, status, delta)"
    " SELECT OLD.departement, channel, status, -count(*) FROM enrollment_notice"
    " WHERE beneficiary_id = OLD.id GROUP BY channel, status;"
    " INSERT INTO enrollment_notice_tally (departement, channel, status, delta)"
    " SELECT NEW.departement, channel, status, count(*) FROM enrollment_notice"
    " WHERE beneficiary_id = NEW.id GROUP BY channel, status; END"
)


def upgrade() -> None:
    op.create_table(
        "enrollment_notice_tally",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_notice_tally")),
    )
    op.execute(
        "INSERT INTO enrollment_notice_tally (departement, channel, status, delta)"
        " SELECT b.departement, n.channel, n.status, count(*) FROM enrollment_notice AS n"
        " JOIN enrollment_beneficiary AS b ON b.id = n.beneficiary_id"
        " GROUP BY b.departement, n.channel, n.status"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name, when in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER enrollment_notice_tally_{name} {when}"
                " FOR EACH STATEMENT EXECUTE FUNCTION enrollment_notice_tally_rows()"
            )
        op.execute(_PG_MOVES)
        op.execute(
            "CREATE TRIGGER enrollment_notice_tally_moves AFTER UPDATE ON enrollment_beneficiary"
            " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION enrollment_notice_tally_moves()"
        )
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER enrollment_notice_tally_{name} {body}")
        op.execute(_SQLITE_MOVES)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    on_table = " ON enrollment_notice" if postgresql else ""
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS enrollment_notice_tally_{name}{on_table}")
    moves_on = " ON enrollment_beneficiary" if postgresql else ""
    op.execute(f"DROP TRIGGER IF EXISTS enrollment_notice_tally_moves{moves_on}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS enrollment_notice_tally_rows()")
        op.execute("DROP FUNCTION IF EXISTS enrollment_notice_tally_moves()")
    op.drop_table("enrollment_notice_tally")
