"""Real-world material from ../shared/testdata for the corpus tests, and how to load it.

The material is never copied into the repository: tests read it where it lies and skip, saying
why, when it is absent (a fresh clone). ``CARNET_TESTDATA`` points elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import TESTDATA

from carnet.record.service import Repository

SYNTHEA_BUNDLES = TESTDATA / "synthea-r4" / "bundles"
R4_EXAMPLES = TESTDATA / "fhir-r4-spec" / "examples"


def synthea_bundle_paths(limit: int | None = None) -> list[Path]:
    """The Synthea transaction bundles, in a stable order; skips the test when absent."""
    paths = sorted(SYNTHEA_BUNDLES.glob("*.json"))
    if not paths:
        pytest.skip(f"the Synthea bundles are not at {SYNTHEA_BUNDLES} (set CARNET_TESTDATA)")
    return paths[:limit] if limit is not None else paths


def r4_example_paths() -> list[Path]:
    """The official R4 example resources; skips the test when absent."""
    paths = sorted(R4_EXAMPLES.glob("*.json"))
    if not paths:
        pytest.skip(f"the official R4 examples are not at {R4_EXAMPLES} (set CARNET_TESTDATA)")
    return paths


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def resolve_urn_uuids(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The bundle's resources with every ``urn:uuid:`` reference rewritten to ``Type/id``.

    A test-side stand-in for the server's transaction processing, for tests that load data
    through the repository directly: each entry keeps the id its fullUrl names.
    """
    targets = {}
    resources = []
    for entry in bundle.get("entry", []):
        resource = dict(entry["resource"])
        full_url = entry.get("fullUrl", "")
        if full_url.startswith("urn:uuid:"):
            resource.setdefault("id", full_url.removeprefix("urn:uuid:"))
            targets[full_url] = f"{resource['resourceType']}/{resource['id']}"
        resources.append(resource)
    return [_rewrite(resource, targets) for resource in resources]


def _rewrite(value: Any, targets: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                targets.get(item, item)
                if key == "reference" and isinstance(item, str)
                else _rewrite(item, targets)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(item, targets) for item in value]
    return value


def load_through_repository(repo: Repository, bundle: dict[str, Any]) -> list[tuple[str, str]]:
    """PUT every resource of a (resolved) bundle; return the (type, id) pairs written."""
    written = []
    for resource in resolve_urn_uuids(bundle):
        repo.update(resource["resourceType"], resource["id"], resource)
        written.append((resource["resourceType"], resource["id"]))
    return written


def iter_synthea(limit: int | None = None) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in synthea_bundle_paths(limit):
        yield path, read_json(path)
