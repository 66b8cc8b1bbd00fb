"""Builders of transaction and batch Bundles for the tests (no shared state)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def post(
    resource: dict[str, Any], full_url: str | None = None, if_none_exist: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": "POST", "url": resource["resourceType"]}
    if if_none_exist is not None:
        request["ifNoneExist"] = if_none_exist
    entry: dict[str, Any] = {"resource": resource, "request": request}
    if full_url is not None:
        entry["fullUrl"] = full_url
    return entry


def put(
    resource: dict[str, Any],
    url: str | None = None,
    full_url: str | None = None,
    if_match: str | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": "PUT",
        "url": url or f"{resource['resourceType']}/{resource['id']}",
    }
    if if_match is not None:
        request["ifMatch"] = if_match
    entry: dict[str, Any] = {"resource": resource, "request": request}
    if full_url is not None:
        entry["fullUrl"] = full_url
    return entry


def delete(url: str) -> dict[str, Any]:
    return {"request": {"method": "DELETE", "url": url}}


def get(url: str) -> dict[str, Any]:
    return {"request": {"method": "GET", "url": url}}


def patch(url: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
    binary = {
        "resourceType": "Binary",
        "contentType": "application/json-patch+json",
        "data": base64.b64encode(orjson.dumps(operations)).decode(),
    }
    return {"resource": binary, "request": {"method": "PATCH", "url": url}}


def observation_of(subject: str, value: float = 70.0) -> dict[str, Any]:
    """An Observation whose subject is ``subject`` (a ``Patient/id`` or a fullUrl)."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": subject},
        "valueQuantity": {
            "value": value,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }
