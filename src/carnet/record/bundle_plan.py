"""A Bundle of type transaction or batch, checked and prepared before the transaction (pure).

Planning does the CPU work outside the database transaction (on SQLite, outside the single
writer's lock): it checks every entry's request, gives each created entry its id, rewrites the
links between entries to those ids (``references``), and validates and indexes every resource
(``Record.prepare``). What needs data (conditional criteria, access, existing versions) is left
to the repository (``transactions``), which re-prepares the few entries whose links only a search
can settle.

Faults found here do not raise: they are kept on the plan (a bundle-level ``error``) or on the
entry (``error``), so that the repository can audit them like any other failed write. Each names
the entry (``Bundle.entry[i]``) and the element at fault.

Decisions (FHIR R4 http.html, "transaction" and "batch"):
- ``request`` is required on every entry; methods GET, HEAD, POST, PUT, PATCH, DELETE.
- A POST ignores the resource's id (the server assigns one); PUT and PATCH name the resource by
  ``Type/id`` or by search criteria (``Type?query``: conditional update and patch); DELETE too.
- An absolute request URL has its base ignored (the spec: "assuming the base is the same as the
  server base"); operations (``$name``) are not processed in bundles.
- Links between entries are resolved in a transaction only: a batch's entries are independent,
  so a batch entry referring to another entry (or by a conditional reference) fails alone.
- A Bundle of type transaction, batch or their responses cannot be an entry of another: it would
  be stored, never executed, which is not what the sender meant. Other Bundles (documents,
  collections) are ordinary resources.
- A PATCH entry carries its JSON Patch as a Binary of type ``application/json-patch+json``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson

from carnet.core.errors import ClientError
from carnet.core.ids import new_id
from carnet.record.errors import (
    BundleTooLarge,
    InvalidBundle,
    InvalidResource,
    UnknownResourceType,
)
from carnet.record.prepared import PreparedWrite
from carnet.record.references import is_urn, rewrite

BundleKind = Literal["transaction", "batch"]
JSON_PATCH = "application/json-patch+json"
PROCESSING_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
"""FHIR's processing order: deletions, creations, updates and patches, then reads."""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NESTED = frozenset({"transaction", "batch", "transaction-response", "batch-response"})
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ETAG = re.compile(r'^(?:W/)?"(\d{1,9})"$')


@dataclass(frozen=True, slots=True)
class RequestUrl:
    """An entry's ``request.url``, relative to the server base."""

    resource_type: str
    resource_id: str | None = None
    version: int | None = None
    history: bool = False
    query: str | None = None
    """Search criteria after ``?`` (None when the URL has none)."""

    @property
    def conditional(self) -> bool:
        return self.resource_id is None and bool(self.query)


@dataclass(slots=True, eq=False)
class PlannedEntry:
    index: int
    method: str
    full_url: str | None = None
    url: RequestUrl | None = None
    resource: dict[str, Any] | None = None
    """The resource as sent, with the id it will be written under; links not yet rewritten."""
    if_none_exist: str | None = None
    if_match: int | None = None
    patch: Any = None
    resource_id: str | None = None
    """The id written: assigned for a POST, from the URL for PUT, PATCH and DELETE; for a
    conditional entry, the id it gets if its criteria match nothing (settled in the repository)."""
    id_from_client: bool = False
    """A conditional PUT whose resource carries its own id (checked against a match)."""
    existing: bool = False
    """A conditional create whose criteria found the resource: nothing is written."""
    prepared: PreparedWrite | None = None
    conditional_refs: tuple[str, ...] = ()
    links_used: frozenset[str] = frozenset()
    error: ClientError | None = None

    @property
    def order(self) -> int:
        return PROCESSING_ORDER.get(self.method, len(PROCESSING_ORDER))

    @property
    def conditional(self) -> bool:
        """Whether the entry's target is found by search (conditional create/update/...)."""
        if self.method == "POST":
            return self.if_none_exist is not None
        return self.method in WRITE_METHODS and self.url is not None and self.url.conditional

    @property
    def resource_type(self) -> str:
        return self.url.resource_type if self.url is not None else "-"


@dataclass(slots=True, eq=False)
class BundlePlan:
    kind: BundleKind
    entries: list[PlannedEntry] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    """What each link of the bundle (a fullUrl, or its ``Type/id`` tail) now points at."""
    error: ClientError | None = None
    """A fault of the bundle as a whole: nothing in it is processed."""

    def failures(self) -> list[PlannedEntry]:
        return [entry for entry in self.entries if entry.error is not None]

    def only_valid(self) -> BundlePlan:
        """The plan without its failed entries (a loader keeps what it can; indexes stay)."""
        return replace(self, entries=[e for e in self.entries if e.error is None])


def plan_bundle(
    bundle: dict[str, Any],
    *,
    prepare: Callable[[dict[str, Any]], PreparedWrite],
    resource_types: frozenset[str],
    max_entries: int,
    base_url: str = "",
) -> BundlePlan:
    """Check and prepare ``bundle`` (a transaction or batch) without touching any data."""
    kind = bundle.get("type")
    if bundle.get("resourceType") != "Bundle" or kind not in ("transaction", "batch"):
        message = "Only a Bundle of type transaction or batch is processed here."
        return BundlePlan("transaction", error=InvalidBundle(message, "Bundle.type"))
    raw_entries = bundle.get("entry", [])
    if not isinstance(raw_entries, list):
        return BundlePlan(kind, error=InvalidBundle("Bundle.entry must be an array.", "Bundle"))
    if len(raw_entries) > max_entries:
        return BundlePlan(kind, error=BundleTooLarge(max_entries))
    parser = _EntryParser(resource_types, base_url)
    plan = BundlePlan(kind, [parser.parse(i, raw) for i, raw in enumerate(raw_entries)])
    plan.error = _duplicate_full_urls(raw_entries)
    if plan.error is not None:
        return plan
    if kind == "transaction":
        plan.links = links_of(plan.entries)
    for entry in plan.entries:
        prepare_entry(entry, plan.links, prepare, transaction=kind == "transaction")
    return plan


def links_of(entries: list[PlannedEntry]) -> dict[str, str]:
    """Each created or updated entry's fullUrl mapped to its ``Type/id``.

    An absolute fullUrl also maps its ``Type/id`` tail: relative references inside a bundle are
    relative to the fullUrl's base (``Patient/a2`` beside ``http://x/fhir/Patient/a2``).
    """
    links: dict[str, str] = {}
    for entry in entries:
        if entry.error is not None or entry.method not in ("POST", "PUT") or not entry.full_url:
            continue
        target = f"{entry.resource_type}/{entry.resource_id}"
        links[entry.full_url] = target
        if not is_urn(entry.full_url):
            parts = urlsplit(entry.full_url).path.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == entry.resource_type:
                links.setdefault(f"{parts[-2]}/{parts[-1]}", target)
    return links


def prepare_entry(
    entry: PlannedEntry,
    links: dict[str, str],
    prepare: Callable[[dict[str, Any]], PreparedWrite],
    *,
    transaction: bool,
) -> None:
    """Rewrite the entry's links with ``links`` and validate and index the result.

    An entry with conditional references is left unprepared: its links wait for a search.
    """
    if entry.error is not None or entry.resource is None or entry.method not in ("POST", "PUT"):
        return
    rewritten = rewrite(entry.resource, links)
    where = f"Bundle.entry[{entry.index}]"
    if rewritten.unresolved:
        path = rewritten.unresolved[0]
        message = f"The reference at {path} names no entry of this bundle."
        if not transaction:
            message += " The entries of a batch are independent: use a transaction."
        entry.error = InvalidBundle(message, _in_entry(where, path), "not-found")
        return
    if rewritten.conditional and not transaction:
        message = "Conditional references are resolved in transactions only."
        entry.error = InvalidBundle(message, where, "not-supported")
        return
    entry.conditional_refs = rewritten.conditional
    entry.links_used = rewritten.used
    if rewritten.conditional:
        entry.prepared = None
        return
    entry.prepared = prepare(rewritten.resource)
    if entry.prepared.issues:
        entry.error = InvalidResource(list(entry.prepared.issues))


def _in_entry(where: str, path: str) -> str:
    _, _, rest = path.partition(".")
    return f"{where}.resource.{rest}"


def _duplicate_full_urls(raw_entries: list[Any]) -> ClientError | None:
    """Bundle invariant bdl-7: a fullUrl appears once (unless versions differ)."""
    seen: dict[tuple[str, Any], int] = {}
    for index, raw in enumerate(raw_entries):
        if not isinstance(raw, dict) or not isinstance(raw.get("fullUrl"), str):
            continue
        resource = raw.get("resource")
        meta = resource.get("meta") if isinstance(resource, dict) else None
        version = meta.get("versionId") if isinstance(meta, dict) else None
        key = (raw["fullUrl"], version)
        if key in seen:
            message = f"Entry {index} repeats the fullUrl of entry {seen[key]} (bdl-7)."
            return InvalidBundle(message, f"Bundle.entry[{index}].fullUrl")
        seen[key] = index
    return None


class _EntryParser:
    def __init__(self, resource_types: frozenset[str], base_url: str) -> None:
        self.resource_types = resource_types
        self.base_url = base_url.rstrip("/")

    def parse(self, index: int, raw: Any) -> PlannedEntry:
        entry = PlannedEntry(index=index, method="")
        try:
            self._parse(entry, raw)
        except ClientError as exc:
            entry.error = exc
        return entry

    def _parse(self, entry: PlannedEntry, raw: Any) -> None:
        where = f"Bundle.entry[{entry.index}]"
        if not isinstance(raw, dict):
            raise InvalidBundle("An entry is a JSON object.", where)
        full_url = raw.get("fullUrl")
        entry.full_url = full_url if isinstance(full_url, str) else None
        request = raw.get("request")
        if not isinstance(request, dict):
            raise InvalidBundle("Every entry needs a request.", f"{where}.request", "required")
        method = request.get("method")
        if method not in PROCESSING_ORDER:
            message = "request.method must be GET, HEAD, POST, PUT, PATCH or DELETE."
            raise InvalidBundle(message, f"{where}.request.method", "not-supported")
        entry.method = method
        entry.url = self._url(request.get("url"), f"{where}.request.url")
        entry.if_match = _if_match(request.get("ifMatch"), f"{where}.request.ifMatch")
        _check_shape(entry, where)
        if method in ("POST", "PUT"):
            entry.resource = self._resource(entry, raw.get("resource"), where)
            if method == "POST":
                entry.if_none_exist = _criteria(request.get("ifNoneExist"), entry.resource_type)
        elif method == "PATCH":
            entry.patch = _patch_document(raw.get("resource"), where)
            entry.resource_id = entry.url.resource_id
        elif method == "DELETE":
            entry.resource_id = entry.url.resource_id

    def _url(self, raw: Any, where: str) -> RequestUrl:
        if not isinstance(raw, str) or not raw:
            raise InvalidBundle("request.url is required.", where, "required")
        text = raw
        if self.base_url and text.startswith(self.base_url + "/"):
            text = text[len(self.base_url) + 1 :]
        path, mark, query = text.partition("?")
        if "://" in path:
            path = _foreign_base_removed(path, self.resource_types)
        segments = [s for s in path.split("/") if s]
        if any(s.startswith("$") for s in segments):
            raise InvalidBundle("Operations are not processed in bundles.", where, "not-supported")
        if not segments or segments[0] not in self.resource_types:
            raise InvalidBundle("request.url must start with a FHIR resource type.", where)
        return _request_url(segments, query if mark else None, where)

    def _resource(self, entry: PlannedEntry, raw: Any, where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise InvalidBundle(f"A {entry.method} entry needs a resource.", where, "required")
        resource_type = raw.get("resourceType")
        if resource_type not in self.resource_types:
            raise UnknownResourceType
        assert entry.url is not None
        if resource_type != entry.url.resource_type:
            message = "The resource's type differs from the request URL's."
            raise InvalidBundle(message, f"{where}.resource.resourceType")
        if resource_type == "Bundle" and raw.get("type") in _NESTED:
            message = "A transaction or batch cannot be an entry of another: send it on its own."
            raise InvalidBundle(message, f"{where}.resource", "not-supported")
        if entry.method == "POST":
            entry.resource_id = new_id()
        elif entry.url.resource_id is not None:
            if raw.get("id", entry.url.resource_id) != entry.url.resource_id:
                message = "The resource's id differs from the request URL's."
                raise InvalidBundle(message, f"{where}.resource.id")
            entry.resource_id = entry.url.resource_id
        else:
            given = raw.get("id")
            entry.id_from_client = isinstance(given, str) and _ID.match(given) is not None
            entry.resource_id = given if entry.id_from_client else new_id()
        return {**raw, "id": entry.resource_id}


def _request_url(segments: list[str], query: str | None, where: str) -> RequestUrl:
    resource_type, rest = segments[0], segments[1:]
    if rest and not _ID.match(rest[0]):
        raise InvalidBundle("A resource id is 1 to 64 letters, digits, '-' or '.'.", where)
    if not rest:
        return RequestUrl(resource_type, query=query)
    if len(rest) == 1:
        return RequestUrl(resource_type, rest[0], query=query)
    if rest[1:] == ["_history"]:
        return RequestUrl(resource_type, rest[0], history=True, query=query)
    if len(rest) == 3 and rest[1] == "_history" and rest[2].isdigit() and len(rest[2]) <= 9:
        return RequestUrl(resource_type, rest[0], version=int(rest[2]), query=query)
    raise InvalidBundle("This request.url is not an interaction Carnet processes.", where)


def _foreign_base_removed(url: str, resource_types: frozenset[str]) -> str:
    """``Type/id…`` of an absolute URL on another base (that base is ignored)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for start in range(len(segments)):
        if segments[start] in resource_types and len(segments) - start <= 4:
            return "/".join(segments[start:])
    return ""


def _check_shape(entry: PlannedEntry, where: str) -> None:
    """Which URL forms each method takes."""
    url = entry.url
    assert url is not None
    plain_instance = url.resource_id is not None and not url.history and url.version is None
    if entry.method == "POST":
        ok = url.resource_id is None and url.query is None
    elif entry.method in ("PUT", "PATCH", "DELETE"):
        ok = (plain_instance and url.query is None) or url.conditional
    else:
        ok = True  # GET and HEAD: read, vread, history or search
    if not ok:
        message = f"A {entry.method} entry cannot take this request.url."
        raise InvalidBundle(message, f"{where}.request.url")


def _if_match(raw: Any, where: str) -> int | None:
    if raw is None:
        return None
    match = _ETAG.match(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        raise InvalidBundle('request.ifMatch must be an ETag such as W/"3".', where)
    return int(match.group(1))


def _criteria(raw: Any, resource_type: str) -> str | None:
    """``ifNoneExist`` as a query string (``Patient?identifier=x`` and ``?x`` forms accepted)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if text.startswith(f"{resource_type}?"):
        text = text[len(resource_type) + 1 :]
    return text.removeprefix("?")


def _patch_document(raw: Any, where: str) -> Any:
    """The operations of a PATCH entry, carried by a Binary (FHIR R4 http.html#patch)."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "Binary":
        message = "A PATCH entry carries its JSON Patch as a Binary resource."
        raise InvalidBundle(message, f"{where}.resource", "not-supported")
    if raw.get("contentType") != JSON_PATCH:
        message = f"Only JSON Patch ({JSON_PATCH}) is supported."
        raise InvalidBundle(message, f"{where}.resource.contentType", "not-supported")
    try:
        return orjson.loads(base64.b64decode(str(raw.get("data", "")), validate=True))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        message = "The Binary's data is not a base64 JSON Patch."
        raise InvalidBundle(message, f"{where}.resource.data") from None
