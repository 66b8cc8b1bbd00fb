"""Structured logging that keeps identifiers and health data out of every line.

The first defence is structural: Carnet logs events and ids, never values (no request bodies, no
query strings, no resource content; SQL parameters are hidden by the engine). The second is the
``RedactionFilter`` on every handler: it rewrites anything that looks like a NIR/INS, an RPPS or
other long number, an e-mail address, a telephone number or a calendar date, in the message and
in exception text, so that a mistake in one log call cannot leak those shapes.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
"""The id of the request being served, stamped on every log line it causes."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # NIR / NIA (15 characters, Corsican 2A/2B allowed), RPPS (11), any long digit run.
    (re.compile(r"\b[0-9]{5}(?:2[AaBb]|[0-9]{2})[0-9]{6,8}\b"), "[number]"),
    # A NIR as people write it, in groups (1 85 05 78 006 084 36, 2.53.07.2B.073.004.70).
    (
        re.compile(
            r"\b[0-9](?:[\s.-]?[0-9]{2}){2}[\s.-]?(?:2[AaBb]|[0-9]{2})"
            r"[\s.-]?[0-9]{3}[\s.-]?[0-9]{3}(?:[\s.-]?[0-9]{2})?\b"
        ),
        "[number]",
    ),
    (re.compile(r"\b[0-9]{9,}\b"), "[number]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?:\+|00)\d{2}[\s.-]?\d(?:[\s.-]?\d{2}){4}\b"), "[phone]"),
    (re.compile(r"\b0\d(?:[\s.-]?\d{2}){4}\b"), "[phone]"),
    (re.compile(r"\b(?:1[89]|20)\d{2}-[01]\d-[0-3]\d\b"), "[date]"),
    (re.compile(r"\b[0-3]\d/[01]\d/(?:1[89]|20)\d{2}\b"), "[date]"),
)


def redact(text: str) -> str:
    """Replace every identifier-shaped or date-shaped value in ``text``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactionFilter(logging.Filter):
    """Freezes the message with its arguments, then redacts it (and any exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers in production."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_text:
            entry["exc"] = record.exc_text
        return orjson.dumps(entry).decode()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record (test runners and the
    CLI's runner swap it; a handler holding the old stream would write to a closed file)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Install one redacting handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "carnet", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.carnet = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Uvicorn's access log prints raw paths with query strings (FHIR searches carry identifiers
    # there); Carnet writes its own access line with the route template instead.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
