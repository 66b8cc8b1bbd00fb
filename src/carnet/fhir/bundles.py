"""``POST /fhir`` with a Bundle of type transaction or batch, and the responses it gets.

The work itself is the record's (``Record.prepare_bundle`` then ``Repository.bundle``), shared
with ``carnet fhir load``. Here: the body is read, the plan prepared before the transaction
opens, the token's scopes checked entry by entry (a transaction lacking one fails whole; a batch
entry fails alone), and the result rendered as a transaction-response or batch-response Bundle:
each entry's ``response`` (status, location, etag, lastModified), with its resource or an
OperationOutcome as ``Prefer: return=`` asks (representation by default).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from carnet.access.schemas import AccessContext, Action
from carnet.core.errors import Forbidden, Issue
from carnet.fhir.auth import require_scope
from carnet.fhir.history import history_bundle
from carnet.fhir.http import check_accept, json_response, prefer_return, read_json_body
from carnet.fhir.outcome import operation_outcome, status_for
from carnet.fhir.runner import Runner
from carnet.fhir.search import searchset
from carnet.record.errors import EntryFailed
from carnet.record.service import BundlePlan, BundleResult, EntryOutcome, StoredResource

_ACTIONS = {
    "POST": Action.CREATE,
    "PUT": Action.UPDATE,
    "PATCH": Action.UPDATE,
    "DELETE": Action.DELETE,
    "GET": Action.READ,
    "HEAD": Action.READ,
}
_STATUS = {"created": 201, "updated": 200, "matched": 200, "read": 200, "deleted": 204}
_MESSAGES = {"created": "Created.", "updated": "Updated.", "matched": "Already there."}


class Bundles:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.deps = runner.deps

    async def post(self, request: Request) -> Response:
        """Process a transaction or batch and answer its response Bundle."""
        check_accept(request)
        body = await read_json_body(request, self.deps.settings.max_body_bytes)
        result, plan = await self.runner.authenticated(request, lambda ctx: self.process(ctx, body))
        return json_response(render(result, plan, prefer_return(request), self.deps.base_url))

    async def single(self, request: Request, entry: dict[str, Any]) -> EntryOutcome:
        """One conditional interaction, run as a transaction of one entry; its failure is
        raised as the interaction's own error (not as an entry of a bundle)."""
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
        try:
            result, _ = await self.runner.authenticated(
                request, lambda ctx: self.process(ctx, bundle)
            )
        except EntryFailed as exc:
            raise exc.cause from None
        return result.entries[0]

    def process(self, ctx: AccessContext, body: dict[str, Any]) -> tuple[BundleResult, BundlePlan]:
        """Plan (before the transaction), check scopes, then run in one transaction."""
        record = self.deps.record
        plan = record.prepare_bundle(
            body,
            max_entries=self.deps.settings.bundle_max_entries,
            base_url=self.deps.base_url,
        )
        _check_scopes(ctx, plan)
        with self.deps.database.transaction() as db:
            return record.repository(db=db, ctx=ctx).bundle(plan), plan


def _check_scopes(ctx: AccessContext, plan: BundlePlan) -> None:
    """Mark the entries the token has no scope for (the repository audits and refuses them).

    Conditional entries and searches also need the search scope: whether criteria match tells
    something about the data."""
    for entry in plan.entries:
        if entry.error is not None or entry.url is None:
            continue
        url = entry.url
        try:
            require_scope(ctx, url.resource_type, _ACTIONS[entry.method])
            searches = entry.conditional or (
                entry.method in ("GET", "HEAD") and not url.resource_id
            )
            if searches or entry.conditional_refs:
                require_scope(ctx, url.resource_type, Action.SEARCH)
        except Forbidden as exc:
            entry.error = exc


def render(result: BundleResult, plan: BundlePlan, prefer: str, base_url: str) -> dict[str, Any]:
    """The transaction-response or batch-response Bundle, entries in the request's order."""
    entries = [
        _entry(outcome, planned.method, prefer, base_url)
        for outcome, planned in zip(result.entries, plan.entries, strict=True)
    ]
    return {"resourceType": "Bundle", "type": f"{result.kind}-response", "entry": entries}


def entry_status(outcome: EntryOutcome) -> int:
    if outcome.error is not None:
        return status_for(outcome.error)
    return _STATUS.get(outcome.action, 200)


def _entry(outcome: EntryOutcome, method: str, prefer: str, base_url: str) -> dict[str, Any]:
    status = entry_status(outcome)
    response: dict[str, Any] = {"status": f"{status} {HTTPStatus(status).phrase}"}
    item: dict[str, Any] = {"response": response}
    if outcome.error is not None:
        response["outcome"] = operation_outcome(outcome.error.issues)
        return item
    if outcome.action == "deleted" and outcome.version is not None:
        response["etag"] = f'W/"{outcome.version}"'
    stored = outcome.resource
    if stored is not None:
        _describe(response, stored, located=outcome.action != "read")
        if method != "HEAD" and (prefer == "representation" or outcome.action == "read"):
            item["fullUrl"] = f"{base_url}/{stored.resource_type}/{stored.id}"
            item["resource"] = orjson.Fragment(stored.body)
        elif prefer == "OperationOutcome":
            issue = Issue(
                "informational", _MESSAGES.get(outcome.action, "Done."), severity="information"
            )
            response["outcome"] = operation_outcome([issue])
    if outcome.history is not None and method != "HEAD":
        item["resource"] = history_bundle(list(outcome.history), base_url)
    if outcome.searchset is not None and method != "HEAD":
        item["resource"] = searchset(outcome.searchset, base_url)
    return item


def _describe(response: dict[str, Any], stored: StoredResource, *, located: bool) -> None:
    if located:
        response["location"] = f"{stored.resource_type}/{stored.id}/_history/{stored.version}"
    response["etag"] = stored.etag
    response["lastModified"] = stored.last_updated.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
