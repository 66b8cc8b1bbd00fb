"""The kernel's settings sections: database and logging."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Environment = Literal["dev", "test", "prod"]


class DatabaseSettings(BaseModel):
    url: str | None = None
    """SQLAlchemy URL. Default: a SQLite file under the data directory."""
    allow_sqlite_in_prod: bool = False
    """SQLite in production is refused unless this is set (a single-machine pilot, say)."""
    pool_size: int = Field(default=10, ge=1, le=200)


class LoggingSettings(BaseModel):
    level: str = "INFO"
    json_lines: bool | None = None
    """One JSON object per line. Default: on in prod, off elsewhere."""
