"""Checks of an IPS document Bundle shared by the service and HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for child in value.values():
            yield from references(child)
    elif isinstance(value, list):
        for child in value:
            yield from references(child)


def unresolved(bundle: dict[str, Any]) -> list[str]:
    """References of the Bundle's resources that no entry's fullUrl answers (FHIR's rules:
    absolute and urn references match a fullUrl; a relative one resolves against the base of
    its entry's RESTful fullUrl)."""
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    missing = []
    for entry in bundle["entry"]:
        for ref in references(entry["resource"]):
            if ref.startswith("#"):
                continue
            if ref.startswith("urn:") or "://" in ref:
                target = ref
            else:
                base = entry["fullUrl"].rsplit("/", 2)[0]
                target = f"{base}/{ref}"
            if target not in full_urls:
                missing.append(ref)
    return missing


def sections_by_code(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    composition = bundle["entry"][0]["resource"]
    return {s["code"]["coding"][0]["code"]: s for s in composition["section"]}
