"""Search: ``GET [type]?params`` and ``POST [type]/_search`` (form-encoded body, merged with the
query string), answered with a ``searchset`` Bundle.

Entries carry ``search.mode`` ``match`` or ``include``; parameters ignored under
``Prefer: handling=lenient`` are reported by an OperationOutcome entry (mode ``outcome``).
Without that preference, an unknown or unsupported parameter is a 400 OperationOutcome naming
it. ``total`` is given when the search computed it (``_total=accurate``, ``_summary=count``, or
a first page with nothing after it).

Links: ``next`` carries only the record's sealed cursor (``_cursor``), which holds the search
itself; ``self`` repeats the parameters, unless one is identifying (a name, a birth date, an
INS...), in which case it is the sealed cursor of this page too: identifying values never travel
in a URL in clear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import AccessContext, Action
from carnet.core.errors import InvalidInput, Issue, PayloadTooLarge
from carnet.fhir.auth import require_scope
from carnet.fhir.http import check_accept, json_response
from carnet.fhir.outcome import UnsupportedMediaType, operation_outcome
from carnet.fhir.runner import Runner
from carnet.record.service import SearchLimits, SearchResult, StoredResource

_CURSOR = re.compile(r"^[A-Za-z0-9_\-]{16,16000}$")
_FORM = "application/x-www-form-urlencoded"
_MAX_FORM_BYTES = 64 * 1024
_KEPT_WITH_CURSOR = ("_format",)


class Search:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def get(self, request: Request) -> Response:
        """``GET [type]?...``."""
        return await self._search(request, request.query_params.multi_items())

    async def post(self, request: Request) -> Response:
        """``POST [type]/_search``: the body's parameters, then the query string's. An empty
        body needs no content type (clients send ``POST [type]/_search?params`` bare)."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await _read_form(request)
        if media_type != _FORM and body:
            issue = Issue("not-supported", f"Send the search parameters as {_FORM}.")
            raise UnsupportedMediaType("media type", issues=[issue])
        pairs = parse_qsl(body, keep_blank_values=True)
        return await self._search(request, [*pairs, *request.query_params.multi_items()])

    async def _search(self, request: Request, pairs: Sequence[tuple[str, str]]) -> Response:
        check_accept(request)
        resource_type = request.path_params["type"]
        cursor = _cursor(pairs)
        lenient = _lenient(request)
        settings = self.deps.settings
        limits = SearchLimits(settings.search_default_count, settings.search_max_count)
        params = [(name, value) for name, value in pairs if name != "_cursor"]

        def work(ctx: AccessContext) -> SearchResult:
            require_scope(ctx, resource_type, Action.SEARCH)
            with self.deps.database.transaction() as db:
                repo = self.deps.record.repository(db=db, ctx=ctx)
                return repo.search(
                    resource_type, params, lenient=lenient, cursor=cursor, limits=limits
                )

        result = await self.runner.authenticated(request, work)
        return json_response(searchset(result, self.deps.base_url, cursor=cursor))


def searchset(result: SearchResult, base_url: str, *, cursor: str | None = None) -> dict[str, Any]:
    """The searchset Bundle of one page (``cursor``: the one this page was asked with)."""
    url = f"{base_url}/{result.resource_type}"
    if cursor is not None:
        self_url = f"{url}?{urlencode([('_cursor', cursor)])}"
    elif result.identifying and result.self_cursor is not None:
        self_url = f"{url}?{urlencode([('_cursor', result.self_cursor)])}"
    else:
        query = urlencode(result.params)
        self_url = f"{url}?{query}" if query else url
    links = [{"relation": "self", "url": self_url}]
    if result.next_cursor is not None:
        links.append(
            {"relation": "next", "url": f"{url}?{urlencode([('_cursor', result.next_cursor)])}"}
        )
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if result.total is not None:
        bundle["total"] = result.total
    bundle["link"] = links
    entries = [_entry(stored, base_url, "match") for stored in result.matches]
    entries += [_entry(stored, base_url, "include") for stored in result.included]
    if result.warnings:
        issues = [Issue("not-supported", text, severity="warning") for text in result.warnings]
        entries.append({"resource": operation_outcome(issues), "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


def _entry(stored: StoredResource, base_url: str, mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url}/{stored.resource_type}/{stored.id}",
        # The stored bytes go out as they are: no parse and re-serialise per resource.
        "resource": orjson.Fragment(stored.body),
        "search": {"mode": mode},
    }


def _cursor(pairs: Sequence[tuple[str, str]]) -> str | None:
    values = [value for name, value in pairs if name == "_cursor"]
    if not values:
        return None
    if len(values) > 1 or not _CURSOR.match(values[0]):
        issue = Issue("value", "The paging cursor is not valid; start from the first page.")
        raise InvalidInput("_cursor", issues=[issue])
    return values[0]


def _lenient(request: Request) -> bool:
    """``Prefer: handling=lenient`` (RFC 7240: preferences separated by commas)."""
    for part in request.headers.get("prefer", "").replace(",", ";").split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip() == "handling":
            return value.strip().strip('"') == "lenient"
    return False


async def _read_form(request: Request) -> str:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_FORM_BYTES:
            issue = Issue("too-costly", f"The form is larger than {_MAX_FORM_BYTES} bytes.")
            raise PayloadTooLarge("too large", issues=[issue])
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode()
    except UnicodeDecodeError:
        raise InvalidInput(
            "form", issues=[Issue("structure", "The form is not UTF-8 text.")]
        ) from None
