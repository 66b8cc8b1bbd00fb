"""History: ``GET [type]/[id]/_history``, ``GET [type]/_history`` and ``GET _history``.

Versions newest first, deletions included (as entries with ``request.method`` DELETE and no
resource), with ``_since`` (versions made at or after that instant) and ``_count``; further pages
follow the ``next`` link, whose cursor is the record's keyset position (the version number for
one resource; the last version's time, row and number for a type or the system), so pages
neither skip nor repeat while writes go on. ``history_bundle`` is the one renderer of a history
Bundle, also used for the history entries of a batch or transaction response.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import AccessContext, Action
from carnet.core.errors import Forbidden, Issue
from carnet.fhir import params
from carnet.fhir.auth import require_scope
from carnet.fhir.http import check_accept, check_id, json_response
from carnet.fhir.runner import Runner
from carnet.record.service import HistoryEntry, HistoryPage

_PARAMETERS = ("_since", "_count", "_cursor", "_format")
_KEPT = ("_since", "_count", "_format")


class History:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def of_instance(self, request: Request) -> Response:
        """``GET [type]/[id]/_history``."""
        resource_type = request.path_params["type"]
        resource_id = check_id(request.path_params["id"])
        count, since, cursor = self._parse(request)
        page = await self.runner.call(
            request,
            resource_type,
            Action.READ,
            lambda repo, _: repo.history_page(
                resource_type, resource_id, count=count, since=since, cursor=cursor
            ),
        )
        url = f"{self.deps.base_url}/{resource_type}/{resource_id}/_history"
        return self._render(page, request, url)

    async def of_type(self, request: Request) -> Response:
        """``GET [type]/_history``."""
        resource_type = request.path_params["type"]
        count, since, cursor = self._parse(request)
        ctx = await self.runner.context(request)
        require_scope(ctx, resource_type, Action.READ)
        page = await self.runner.run(
            ctx,
            lambda repo: repo.history_type(resource_type, count=count, since=since, cursor=cursor),
        )
        return self._render(page, request, f"{self.deps.base_url}/{resource_type}/_history")

    async def of_system(self, request: Request) -> Response:
        """``GET _history``: every type the token may read."""
        count, since, cursor = self._parse(request)
        ctx = await self.runner.context(request)
        _require_some_read(ctx, self.deps.record.resource_types)
        page = await self.runner.run(
            ctx, lambda repo: repo.history_system(count=count, since=since, cursor=cursor)
        )
        return self._render(page, request, f"{self.deps.base_url}/_history")

    def _parse(self, request: Request) -> tuple[int, Any, str | None]:
        check_accept(request)
        params.unsupported(request, _PARAMETERS)
        maximum = self.deps.settings.history_max_count
        count = params.count(request, default=100, maximum=maximum)
        return count, params.since(request), params.cursor(request)

    def _render(self, page: HistoryPage, request: Request, url: str) -> Response:
        links = [{"relation": "self", "url": params.self_url(url, request)}]
        if page.next_cursor is not None:
            next_url = params.next_url(url, request, page.next_cursor, _KEPT)
            links.append({"relation": "next", "url": next_url})
        return json_response(history_bundle(page.entries, self.deps.base_url, links=links))


def history_bundle(
    entries: Iterable[HistoryEntry], base_url: str, *, links: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A ``history`` Bundle of ``entries``. No ``total``: a page does not know it."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history"}
    if links:
        bundle["link"] = links
    bundle["entry"] = [_entry(entry, base_url) for entry in entries]
    return bundle


def _require_some_read(ctx: AccessContext, resource_types: frozenset[str]) -> None:
    """Refuse (403) a token that may read no type at all."""
    for resource_type in sorted(resource_types):
        try:
            require_scope(ctx, resource_type, Action.READ)
        except Forbidden:
            continue
        return
    issue = Issue("forbidden", "The access token has no scope allowing 'r' on any type.")
    raise Forbidden("insufficient scope", issues=[issue])


def _entry(entry: HistoryEntry, base_url: str) -> dict[str, Any]:
    url = f"{entry.resource_type}/{entry.id}"
    status = "204" if entry.method == "DELETE" else ("201" if entry.version == 1 else "200")
    item: dict[str, Any] = {
        "fullUrl": f"{base_url}/{url}",
        "request": {
            "method": entry.method,
            "url": url if entry.method != "POST" else entry.resource_type,
        },
        "response": {
            "status": status,
            "etag": f'W/"{entry.version}"',
            "lastModified": entry.last_updated.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
        },
    }
    if entry.body is not None:
        item["resource"] = orjson.Fragment(entry.body)
    return item
