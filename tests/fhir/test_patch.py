"""JSON Patch: RFC 6902 itself, then ``PATCH /fhir/{type}/{id}`` over HTTP."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from tests.factories import observation, patient
from tests.fhir.clients import JSON_PATCH, bearer

from carnet.record.errors import PatchConflict, PatchMalformed
from carnet.record.json_patch import apply_patch
from carnet.runtime import Runtime

DOC = {"a": {"b": [1, 2, 3], "c": "x"}, "d": True, "e~f": 1, "g/h": 2}


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        ([{"op": "add", "path": "/a/b/1", "value": 9}], {"b": [1, 9, 2, 3], "c": "x"}),
        ([{"op": "add", "path": "/a/b/-", "value": 9}], {"b": [1, 2, 3, 9], "c": "x"}),
        (
            [{"op": "add", "path": "/a/z", "value": {"n": 1}}],
            {"b": [1, 2, 3], "c": "x", "z": {"n": 1}},
        ),
        ([{"op": "remove", "path": "/a/b/0"}], {"b": [2, 3], "c": "x"}),
        ([{"op": "replace", "path": "/a/c", "value": "y"}], {"b": [1, 2, 3], "c": "y"}),
        ([{"op": "replace", "path": "/a/b/2", "value": 0}], {"b": [1, 2, 0], "c": "x"}),
        ([{"op": "move", "from": "/a/c", "path": "/a/b/0"}], {"b": ["x", 1, 2, 3]}),
        ([{"op": "copy", "from": "/a/b/2", "path": "/a/c"}], {"b": [1, 2, 3], "c": 3}),
        (
            [
                {"op": "test", "path": "/a/b", "value": [1, 2.0, 3]},
                {"op": "remove", "path": "/a/c"},
            ],
            {"b": [1, 2, 3]},
        ),
    ],
)
def test_rfc_6902_operations(operations: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    assert apply_patch(DOC, operations)["a"] == expected
    assert DOC["a"] == {"b": [1, 2, 3], "c": "x"}  # the original is untouched


def test_pointer_escapes_and_the_whole_document() -> None:
    patched = apply_patch(DOC, [{"op": "replace", "path": "/e~0f", "value": 5}])
    assert patched["e~f"] == 5
    assert apply_patch(DOC, [{"op": "remove", "path": "/g~1h"}]).keys() == {"a", "d", "e~f"}
    assert apply_patch(DOC, [{"op": "replace", "path": "", "value": [1]}]) == [1]


@pytest.mark.parametrize(
    ("operations", "error"),
    [
        ({"op": "add"}, PatchMalformed),
        ([{"op": "frobnicate", "path": "/a"}], PatchMalformed),
        ([{"op": "add", "path": "a", "value": 1}], PatchMalformed),
        ([{"op": "add", "path": "/a"}], PatchMalformed),
        ([{"op": "move", "from": "/a", "path": "/a/b"}], PatchMalformed),
        ([{"op": "test", "path": "/d", "value": 1}], PatchConflict),  # true is not 1
        ([{"op": "test", "path": "/a/c", "value": "y"}], PatchConflict),
        ([{"op": "remove", "path": "/nothing"}], PatchConflict),
        ([{"op": "replace", "path": "/a/b/3", "value": 1}], PatchConflict),
        ([{"op": "add", "path": "/a/b/4", "value": 1}], PatchConflict),
        ([{"op": "add", "path": "/a/b/01", "value": 1}], PatchConflict),
        ([{"op": "add", "path": "/missing/x", "value": 1}], PatchConflict),
    ],
)
def test_malformed_and_conflicting_patches(operations: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        apply_patch(DOC, operations)


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


def _patch(client: TestClient, url: str, operations: Any, headers: dict[str, str]) -> Any:
    return client.patch(
        url,
        content=orjson.dumps(operations),
        headers={**headers, "Content-Type": JSON_PATCH},
    )


def _created(client: TestClient, writer: dict[str, str]) -> str:
    person = patient()
    client.put(f"/fhir/Patient/{person['id']}", json=person, headers=writer)
    response = client.post("/fhir/Observation", json=observation(person["id"]), headers=writer)
    assert response.status_code == 201
    return f"/fhir/Observation/{response.json()['id']}"


def test_patch_writes_a_new_version(client: TestClient, writer: dict[str, str]) -> None:
    url = _created(client, writer)
    operations = [
        {"op": "test", "path": "/status", "value": "final"},
        {"op": "replace", "path": "/status", "value": "amended"},
        {"op": "add", "path": "/note", "value": [{"text": "recontrôlé"}]},
    ]
    response = _patch(client, url, operations, {**writer, "If-Match": 'W/"1"'})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    assert response.headers["last-modified"].endswith("GMT")
    body = response.json()
    assert (body["status"], body["note"], body["meta"]["versionId"]) == (
        "amended",
        [{"text": "recontrôlé"}],
        "2",
    )
    assert client.get(url, headers=writer).json()["status"] == "amended"
    minimal = _patch(
        client,
        url,
        [{"op": "remove", "path": "/note"}],
        {**writer, "Prefer": "return=minimal"},
    )
    assert (minimal.status_code, minimal.content, minimal.headers["etag"]) == (200, b"", 'W/"3"')


def test_patch_failures(client: TestClient, writer: dict[str, str]) -> None:
    url = _created(client, writer)

    def status(operations: Any, **headers: str) -> int:
        response = _patch(client, url, operations, {**writer, **headers})
        assert response.json()["resourceType"] == "OperationOutcome"
        return response.status_code

    assert status([{"op": "test", "path": "/status", "value": "preliminary"}]) == 409
    assert status([{"op": "remove", "path": "/issued"}]) == 409
    assert status([{"op": "replace", "path": "/status", "value": "maybe"}]) == 422
    assert status([{"op": "replace", "path": "/id", "value": "other"}]) == 422
    assert status([{"op": "remove", "path": "/status"}]) == 422
    assert status({"op": "remove"}) == 400
    assert status([], **{"If-Match": 'W/"9"'}) == 412
    assert client.get(url, headers=writer).json()["meta"]["versionId"] == "1"  # nothing written
    assert _patch(client, "/fhir/Observation/nobody", [], writer).status_code == 404
    client.delete(url, headers=writer)
    assert _patch(client, url, [], writer).status_code == 410
    wrong = client.patch(url, json=[], headers=writer)  # application/json is not a JSON Patch
    assert wrong.status_code == 415
