"""Every Synthea bundle is POSTed as one transaction over HTTP; no ``urn:uuid`` survives in any
stored reference.

The PostgreSQL tier takes the first 15 bundles (the SQLite tier all 50): the code path is the
same, and the suite stays within a few minutes per tier.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from tests.conftest import TIER
from tests.corpus import synthea_bundle_paths
from tests.fhir.clients import bearer

from carnet.runtime import Runtime

_REFERENCE = re.compile(rb'"reference":"([^"]*)"')


@pytest.mark.corpus
def test_every_synthea_bundle_loads_as_one_transaction(rt: Runtime, client: TestClient) -> None:
    auth = bearer(rt, client, "system/*.cruds")
    paths = synthea_bundle_paths(limit=15 if TIER == "postgres" else None)
    total = 0
    for path in paths:
        sent = json.loads(path.read_text(encoding="utf-8"))
        response = client.post("/fhir", json=sent, headers=auth)
        assert response.status_code == 200, (path.name, response.text[:500])
        entries = response.json()["entry"]
        assert len(entries) == len(sent["entry"])
        assert {e["response"]["status"] for e in entries} == {"201 Created"}
        for entry in entries:
            body = orjson.dumps(entry["resource"])
            references = _REFERENCE.findall(body)
            assert not [r for r in references if r.startswith(b"urn:")], path.name
        total += len(entries)
        _check_stored(client, auth, entries[:: max(1, len(entries) // 20)])
    assert total > 0


def _check_stored(client: TestClient, auth: dict[str, str], entries: list[dict[str, Any]]) -> None:
    """What was stored is what the response said (read back through the API)."""
    for entry in entries:
        location = entry["response"]["location"].rsplit("/_history/", 1)[0]
        read = client.get(f"/fhir/{location}", headers=auth)
        assert read.status_code == 200
        assert read.json() == entry["resource"]
        assert b"urn:uuid:" not in b"".join(_REFERENCE.findall(read.content))
