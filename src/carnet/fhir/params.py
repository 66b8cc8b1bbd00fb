"""Query parameters shared by the operations and the type and system interactions.

``_count``, ``_since`` (a FHIR instant), ``_type`` (comma-separated, repeatable) and
``_cursor`` (the opaque position of a next page, made by the record); ``_format`` and
``_pretty`` are accepted everywhere (``FORMATTING``). Bad values are
InvalidInput (400) naming the parameter, never echoing what was sent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request

from carnet.core.errors import InvalidInput, Issue

_INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_CURSOR = re.compile(r"^[A-Za-z0-9.\-]{1,120}$")


FORMATTING = frozenset({"_format", "_pretty"})
"""Parameters of the response's form, accepted wherever others are refused, as on search:
``_format`` (``http.check_accept``), and ``_pretty``, accepted and ignored (the JSON is
compact everywhere)."""


def unsupported(request: Request, allowed: Collection[str]) -> None:
    """Refuse parameters outside ``allowed`` (and ``FORMATTING``): an export or a scan that
    ignored a filter would return more than was asked for."""
    for name in request.query_params:
        if name not in allowed and name not in FORMATTING:
            issue = Issue("not-supported", f"The parameter {name[:40]} is not supported here.")
            raise InvalidInput("unsupported parameter", issues=[issue])


def count(request: Request, *, default: int, maximum: int) -> int:
    raw = request.query_params.get("_count")
    if raw is None:
        return min(default, maximum)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        issue = Issue("value", f"_count must be a whole number from 1 to {maximum}.")
        raise InvalidInput("_count", issues=[issue])
    return int(raw)


def since(request: Request) -> datetime | None:
    """``_since`` as an aware instant; a date alone or a time without its zone is refused."""
    raw = request.query_params.get("_since")
    if raw is None:
        return None
    # An unencoded '+' in a query string arrives as a space.
    match = _INSTANT.match(raw.replace(" ", "+"))
    parsed = None
    if match is not None:
        fraction = (match[2] or "")[:7]  # Python keeps microseconds
        zone = "+00:00" if match[3] == "Z" else match[3]
        try:
            parsed = datetime.fromisoformat(match[1] + fraction + zone).astimezone(UTC)
        except ValueError:
            parsed = None
    if parsed is None:
        issue = Issue("value", "_since must be a FHIR instant, such as 2025-01-31T08:00:00Z.")
        raise InvalidInput("_since", issues=[issue])
    return parsed


def types(request: Request, known: Collection[str]) -> tuple[str, ...] | None:
    """The ``_type`` list (None when absent); every entry must be an R4 resource type."""
    values = request.query_params.getlist("_type")
    if not values:
        return None
    listed = tuple(dict.fromkeys(t.strip() for v in values for t in v.split(",") if t.strip()))
    if not listed or any(t not in known for t in listed):
        issue = Issue("not-supported", "_type must list FHIR R4 resource types.")
        raise InvalidInput("_type", issues=[issue])
    return listed


def cursor(request: Request) -> str | None:
    raw = request.query_params.get("_cursor")
    if raw is not None and not _CURSOR.match(raw):
        issue = Issue("value", "The paging cursor is not valid; start from the first page.")
        raise InvalidInput("_cursor", issues=[issue])
    return raw


def next_url(url: str, request: Request, next_cursor: str, keep: Iterable[str]) -> str:
    """The link to the next page: the parameters of this request (those in ``keep``) and the
    cursor of the next page."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k in keep]
    pairs.append(("_cursor", next_cursor))
    return f"{url}?{urlencode(pairs)}"


def self_url(url: str, request: Request) -> str:
    query = urlencode(request.query_params.multi_items())
    return f"{url}?{query}" if query else url
