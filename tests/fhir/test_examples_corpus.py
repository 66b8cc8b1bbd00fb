"""Every official R4 example is stored with its id (PUT) and read back equal, apart from ``meta``.

Two examples are not valid R4 (tests/record/test_validation.py says why): they are refused with
a 422 naming the element at fault, and nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.corpus import r4_example_paths
from tests.fhir.clients import bearer

from carnet.runtime import Runtime

_NOT_R4 = {
    "DiagnosticReport-gingival-mass.json": "DiagnosticReport.resultsInterpreter[0].display",
    "Questionnaire-qs1.json": "Questionnaire.item[0].item[",
}


def _without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in resource.items() if key != "meta"}
    if resource["resourceType"] == "Binary" and "data" in kept:
        # Whitespace inside base64 carries nothing: the content is kept, not its line breaks.
        kept["data"] = "".join(kept["data"].split())
    return kept


@pytest.mark.corpus
def test_every_example_round_trips(rt: Runtime, client: TestClient) -> None:
    auth = bearer(rt, client, "system/*.cruds")
    paths = r4_example_paths()
    stored = refused = 0
    for path in paths:
        example = json.loads(path.read_text(encoding="utf-8"))
        resource_type, resource_id = example["resourceType"], example["id"]
        if resource_type not in rt.record.resource_types:
            continue
        url = f"/fhir/{resource_type}/{resource_id}"
        response = client.put(url, json=example, headers=auth)
        if path.name in _NOT_R4:
            assert response.status_code == 422, (path.name, response.text)
            expressions = [e for i in response.json()["issue"] for e in i.get("expression", [])]
            assert any(e.startswith(_NOT_R4[path.name]) for e in expressions), expressions
            assert client.get(url, headers=auth).status_code == 404
            refused += 1
            continue
        assert response.status_code in {200, 201}, (path.name, response.text)
        read = client.get(url, headers=auth)
        assert read.status_code == 200, (path.name, read.text)
        assert _without_meta(read.json()) == _without_meta(example), path.name
        stored += 1
    assert refused == len(_NOT_R4)
    assert stored >= len(paths) - len(_NOT_R4) - 5
