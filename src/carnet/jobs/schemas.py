"""Values crossing the jobs area's boundary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

JobHandler = Callable[[Connection, Mapping[str, Any]], None]
"""Runs one job inside its own transaction; raising makes it retry later."""


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: str
    kind: str
    status: str
    attempts: int
    run_after: datetime
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: str
    kind: str
    payload: Mapping[str, Any]
    attempts: int
