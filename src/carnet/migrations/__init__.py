"""Alembic migrations: files named ``YYYY-MM-DD_slug.py``, batch mode on SQLite.

The CLI (``carnet db upgrade|check|revision``) and the test fixtures drive Alembic through these
functions; there is no alembic.ini to keep in step with the settings.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    config.set_main_option("version_path_separator", "os")
    # Passed as an attribute, not an option: options are %-interpolated, URLs may contain %.
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Upgrade the database at ``url``, then fail if the models and migrations differ."""
    config = alembic_config(url)
    command.upgrade(config, "heads")
    command.check(config)


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the difference between the models and ``url``."""
    config = alembic_config(url)
    command.upgrade(config, "heads")
    command.revision(config, message=message, autogenerate=True)


def current(url: str) -> None:
    command.current(alembic_config(url), verbose=False)
