"""Fixtures shared by the whole suite.

One database per test run and tier (``CARNET_TEST_DB``: sqlite, or postgres when
``CARNET_TEST_POSTGRES_URL`` is set): created, migrated for real with Alembic, and dropped at the
end, so parallel runs never collide. Service tests get ``db``, a connection whose transaction is
rolled back after the test (a savepoint per test, as in Warehouse). HTTP tests get ``client`` on
the real app, whose transactions commit; they create their own patients, so they never collide.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from carnet import migrations
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings

TIER = os.environ.get("CARNET_TEST_DB", "sqlite")
TESTDATA = Path(
    os.environ.get("CARNET_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "testdata")
)


def pytest_report_header() -> str:
    return f"carnet test tier: {TIER}"


@contextmanager
def new_database(directory: Path) -> Iterator[str]:
    """A new, empty database of the current tier, dropped afterwards."""
    if TIER == "sqlite":
        yield f"sqlite:///{directory / 'carnet.sqlite3'}"
        return
    base = os.environ.get("CARNET_TEST_POSTGRES_URL")
    if not base:
        pytest.fail("CARNET_TEST_DB=postgres needs CARNET_TEST_POSTGRES_URL")
    name = f"carnet_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(
        make_url(base).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with new_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated, for tests that need an empty one or a real server."""
    with new_database(tmp_path) as url:
        migrations.upgrade(url)
        yield url


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    """Test settings, independent of the developer's environment."""
    values: dict[str, object] = {
        "environment": "test",
        "data_dir": data_dir,
        "database": {"url": database_url},
        "jobs": {"worker_in_server": False},
        "public_base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    migrations.upgrade(database_url)
    return make_settings(database_url, tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def db(rt: Runtime) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with rt.database.engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def app_client(rt: Runtime) -> Iterator[TestClient]:
    from carnet.app import create_app

    with TestClient(create_app(rt), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    app_client.headers.clear()
    app_client.cookies.clear()
    return app_client
