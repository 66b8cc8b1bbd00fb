"""The ``carnet`` commands on a database of their own."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from carnet.core.db import normalise_url


def _sql(url: str, statement: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_the_operator_commands(carnet, fresh_database_url: str) -> None:
    carnet("db", "upgrade")
    seeded = carnet("demo", "seed", "--patients", "3", "--seed", "5")
    assert "3 demo patients" in seeded
    assert "client_secret" in seeded
    assert "already present" in carnet(
        "demo", "seed", "--patients", "3", "--seed", "5", "--if-empty"
    )
    assert carnet("audit", "verify").startswith("OK")

    registered = json.loads(
        carnet("clients", "add-system", "--name", "Labo", "--scope", "system/Observation.cruds")
    )
    assert registered["token_endpoint_auth_method"] == "client_secret_basic"
    assert "Labo" in carnet("clients", "list")
    assert "client disabled" in carnet("clients", "disable", registered["client_id"])

    rotated = carnet("keys", "rotate")
    assert "data keys re-wrapped" in rotated
    assert carnet("audit", "verify").startswith("OK")

    _sql(fresh_database_url, "UPDATE audit_event SET outcome = 'refused' WHERE seq = 2")
    broken = carnet("audit", "verify", code=1)
    assert broken.startswith("BROKEN")
    assert "altered" in broken

    assert "0 parked" in carnet("jobs", "failed")
    assert "pending:" in carnet("jobs", "status")


def test_shred_needs_confirmation(carnet) -> None:
    carnet("db", "upgrade")
    carnet("keys", "shred", "someone", code=2)
    assert "no live data key" in carnet("keys", "shred", "someone", "--yes", code=1)
