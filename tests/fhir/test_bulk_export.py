"""Bulk Data export over HTTP, end to end with a real job worker: kick-off, status, manifest,
NDJSON files, deletion, expiry, crypto-shredding, and who may see what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from tests.conftest import make_settings
from tests.factories import observation, patient
from tests.fhir.clients import bearer

from carnet.core.clock import FrozenClock
from carnet.record.exports import export_requester
from carnet.runtime import Runtime, build_runtime

FHIR = "application/fhir+json"
ASYNC = {"Prefer": "respond-async", "Accept": FHIR}


@pytest.fixture(scope="module")
def writer(rt: Runtime, app_client: TestClient) -> dict[str, str]:
    return bearer(rt, app_client, "system/*.cruds")


def _since(rt: Runtime) -> str:
    moment = rt.clock.now().astimezone(UTC) - timedelta(milliseconds=1)
    return quote(moment.isoformat(timespec="microseconds").replace("+00:00", "Z"))


def _post(client: TestClient, auth: dict[str, str], resource: dict[str, Any]) -> dict[str, Any]:
    if "id" in resource:
        url = f"/fhir/{resource['resourceType']}/{resource['id']}"
        response = client.put(url, json=resource, headers={**auth, "Content-Type": FHIR})
    else:
        url = f"/fhir/{resource['resourceType']}"
        response = client.post(url, json=resource, headers={**auth, "Content-Type": FHIR})
    assert response.status_code in {200, 201}, response.text
    body: dict[str, Any] = response.json()
    return body


def _people(client: TestClient, auth: dict[str, str], family: str = "Lefebvre") -> dict[str, Any]:
    first = _post(client, auth, patient(family=family))
    second = _post(client, auth, patient())
    return {
        "first": first,
        "second": second,
        "first_obs": [_post(client, auth, observation(first["id"], value=i)) for i in (1, 2)],
        "second_obs": [_post(client, auth, observation(second["id"], value=3))],
        "doctor": _post(
            client, auth, {"resourceType": "Practitioner", "name": [{"family": "Roux"}]}
        ),
    }


def _kick_off(client: TestClient, url: str, auth: dict[str, str]) -> str:
    response = client.get(url, headers={**auth, **ASYNC})
    assert response.status_code == 202, response.text
    location = response.headers["content-location"]
    assert location.startswith("http://testserver/fhir/_export/")
    return location.removeprefix("http://testserver")


def _complete(rt: Runtime, client: TestClient, status_url: str, auth: dict[str, str]) -> Any:
    rt.worker().run_until_idle()
    response = client.get(status_url, headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "expires" in response.headers
    return response.json()


def _lines(
    client: TestClient, manifest: dict[str, Any], auth: dict[str, str]
) -> dict[str, list[bytes]]:
    by_type: dict[str, list[bytes]] = {}
    for item in manifest["output"]:
        response = client.get(item["url"].removeprefix("http://testserver"), headers=auth)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        lines = response.content.splitlines()
        assert len(lines) == item["count"]
        by_type.setdefault(item["type"], []).extend(lines)
    return by_type


def test_system_export_life_cycle(rt: Runtime, client: TestClient, writer: dict[str, str]) -> None:
    since = _since(rt)
    world = _people(client, writer)
    status_url = _kick_off(
        client, f"/fhir/$export?_type=Patient,Observation,Practitioner&_since={since}", writer
    )
    waiting = client.get(status_url, headers=writer)
    assert waiting.status_code == 202
    assert waiting.headers["x-progress"] == "0 resources written"
    manifest = _complete(rt, client, status_url, writer)
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].startswith("http://testserver/fhir/$export?_type=")
    assert manifest["error"] == []
    assert datetime.fromisoformat(manifest["transactionTime"]) <= datetime.now(UTC)
    by_type = _lines(client, manifest, writer)
    assert set(by_type) == {"Patient", "Observation", "Practitioner"}
    assert len(by_type["Observation"]) == 3
    assert len(by_type["Patient"]) == 2
    # Each line is exactly the stored resource.
    for resource_type, lines in by_type.items():
        for line in lines:
            resource_id = orjson.loads(line)["id"]
            stored = client.get(f"/fhir/{resource_type}/{resource_id}", headers=writer)
            assert stored.content == line
    events = _export_events(rt, None, "record:export:")
    assert {"record:export:start", "record:export:complete", "record:export:download"} <= events
    assert client.delete(status_url, headers=writer).status_code == 202
    assert client.get(status_url, headers=writer).status_code == 404
    file_url = manifest["output"][0]["url"].removeprefix("http://testserver")
    assert client.get(file_url, headers=writer).status_code == 404
    assert world["doctor"]["id"] in b"".join(by_type["Practitioner"]).decode()


def _export_events(rt: Runtime, chain: str | None, prefix: str) -> set[str]:
    with rt.transaction(readonly=True) as db:
        events = rt.audit.chain_events(db, chain_id=chain or "_system", limit=50)
    return {e.tag for e in events if e.tag.startswith(prefix)}


def test_group_and_patient_exports_stay_in_their_compartments(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    since = _since(rt)
    world = _people(client, writer)
    outsider = _post(client, writer, patient())
    _post(client, writer, observation(outsider["id"]))
    group = _post(
        client,
        writer,
        {
            "resourceType": "Group",
            "type": "person",
            "actual": True,
            "member": [
                {"entity": {"reference": f"Patient/{world['first']['id']}"}},
                {"entity": {"reference": f"Patient/{world['second']['id']}"}},
                {"entity": {"reference": f"Patient/{outsider['id']}"}, "inactive": True},
            ],
        },
    )
    status_url = _kick_off(client, f"/fhir/Group/{group['id']}/$export", writer)
    by_type = _lines(client, _complete(rt, client, status_url, writer), writer)
    ids = {orjson.loads(line)["id"] for lines in by_type.values() for line in lines}
    expected = {world["first"]["id"], world["second"]["id"]} | {
        o["id"] for o in world["first_obs"] + world["second_obs"]
    }
    # No practitioner, nor the Group itself (both outside every compartment), nothing of the
    # outsider (an inactive member).
    assert ids == expected
    assert "record:export:complete" in _export_events(rt, world["first"]["id"], "record:export:")
    assert "record:export:complete" not in _export_events(rt, outsider["id"], "record:export:")
    everyone = _kick_off(
        client, f"/fhir/Patient/$export?_type=Patient,Practitioner&_since={since}", writer
    )
    by_type = _lines(client, _complete(rt, client, everyone, writer), writer)
    assert set(by_type) == {"Patient"}  # a Patient-level export reads compartments only
    assert len(by_type["Patient"]) == 3


def test_only_the_requester_sees_an_export(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    since = _since(rt)
    _people(client, writer)
    status_url = _kick_off(client, f"/fhir/$export?_type=Patient&_since={since}", writer)
    manifest = _complete(rt, client, status_url, writer)
    file_url = manifest["output"][0]["url"].removeprefix("http://testserver")
    other = bearer(rt, client, "system/*.rs")
    assert client.get(status_url, headers=other).status_code == 404
    assert client.get(file_url, headers=other).status_code == 404
    assert client.delete(status_url, headers=other).status_code == 404
    assert client.get(file_url).status_code == 401
    assert client.get(file_url, headers=writer).status_code == 200
    assert "record:export:status" in _export_events(rt, None, "record:export:")


def test_kick_off_refuses_bad_requests(
    rt: Runtime, client: TestClient, writer: dict[str, str]
) -> None:
    bad = [
        ("/fhir/$export", {"Accept": FHIR}),  # no Prefer: respond-async
        ("/fhir/$export?_type=Unicorn", ASYNC),
        ("/fhir/$export?_since=last-week", ASYNC),
        ("/fhir/$export?_outputFormat=text/csv", ASYNC),
        ("/fhir/$export?_typeFilter=Observation%3Fstatus%3Dfinal", ASYNC),
        ("/fhir/Patient/$export?patient=Patient/1", ASYNC),
    ]
    for url, headers in bad:
        response = client.get(url, headers={**writer, **headers})
        assert response.status_code == 400, (url, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
    assert (
        client.get(
            f"/fhir/Group/{patient()['id']}/$export", headers={**writer, **ASYNC}
        ).status_code
        == 404
    )
    patients_only = bearer(rt, client, "system/Patient.rs")
    response = client.get("/fhir/$export?_type=Observation", headers={**patients_only, **ASYNC})
    assert response.status_code == 403
    assert client.get("/fhir/$export", headers=ASYNC).status_code == 401
    assert client.get(f"/fhir/_export/{patient()['id']}", headers=writer).status_code == 404


def test_kick_off_accepts_the_formatting_parameters(
    client: TestClient, writer: dict[str, str]
) -> None:
    """``_pretty`` (ignored) and ``_format`` (the kick-off's own answer) are accepted, as on
    search: neither filters what is exported."""
    for query in ("_pretty=true", "_format=json", "_type=Patient&_pretty=false"):
        status_url = _kick_off(client, f"/fhir/$export?{query}", writer)
        assert client.delete(status_url, headers=writer).status_code == 202


def test_a_failed_export_says_so(rt: Runtime, client: TestClient, writer: dict[str, str]) -> None:
    status_url = _kick_off(
        client, "/fhir/$export?_type=Patient&_since=2999-01-01T00:00:00Z", writer
    )
    export_id = status_url.rsplit("/", 1)[-1]
    with rt.transaction() as db:
        ctx = export_requester(db, export_id)
        assert ctx is not None
        repo = rt.record.repository(db=db, ctx=ctx)
        assert repo.export_step_failed(export_id)
        assert repo.export_step_failed(export_id)
        assert not repo.export_step_failed(export_id)
    response = client.get(status_url, headers=writer)
    assert response.status_code == 500
    assert response.json()["resourceType"] == "OperationOutcome"
    rt.worker().run_until_idle()  # the step already queued finds nothing to do
    assert client.get(status_url, headers=writer).status_code == 500


def test_shredded_patients_vanish_from_exports_and_exports_expire(
    fresh_database_url: str, tmp_path: Path
) -> None:
    from carnet.app import create_app

    clock = FrozenClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    settings = make_settings(fresh_database_url, tmp_path / "var")
    rt = build_runtime(settings, clock=clock, configure_logs=False)
    try:
        with TestClient(create_app(rt), base_url="http://testserver") as client:
            writer = bearer(rt, client, "system/*.cruds")
            world = _people(client, writer, family="Zyxwvut")
            status_url = _kick_off(client, "/fhir/$export?_type=Patient,Observation", writer)
            manifest = _complete(rt, client, status_url, writer)
            export_id = status_url.rsplit("/", 1)[-1]
            with rt.transaction(readonly=True) as db:
                progress = db.execute(
                    text("SELECT progress FROM record_export WHERE id = :i"), {"i": export_id}
                ).scalar_one()
            blob_ids = [b for f in orjson.loads(progress)["files"] for b in f["parts"]]
            for blob_id in blob_ids:  # nothing in clear at rest
                sealed = rt.storage.blobs.get(blob_id)
                assert sealed is not None
                assert b"Zyxwvut" not in sealed
                assert world["first"]["id"].encode() not in sealed
            with rt.transaction() as db:
                assert rt.storage.destroy_data_key(db, owner_id=world["first"]["id"])
            by_type = _lines_after_shred(client, manifest, writer)
            ids = {orjson.loads(line)["id"] for lines in by_type.values() for line in lines}
            assert world["first"]["id"] not in ids
            assert not {o["id"] for o in world["first_obs"]} & ids
            assert world["second"]["id"] in ids
            # A day later the export and its files are gone.
            clock.advance(timedelta(hours=25))
            rt.worker().run_until_idle()
            writer = bearer(rt, client, "system/*.cruds")  # the first token has expired too
            assert client.get(status_url, headers=writer).status_code == 404
            assert all(rt.storage.blobs.get(b) is None for b in blob_ids)
            assert "record:export:expire" in _export_events(rt, None, "record:export:")
            # A new export reports what it could not export, without saying whose it was.
            again = _kick_off(client, "/fhir/$export?_type=Observation", writer)
            manifest = _complete(rt, client, again, writer)
            assert [e["type"] for e in manifest["error"]] == ["OperationOutcome"]
            error_url = manifest["error"][0]["url"].removeprefix("http://testserver")
            outcome = orjson.loads(client.get(error_url, headers=writer).content)
            assert "2 Observation" in outcome["issue"][0]["diagnostics"]
    finally:
        rt.close()


def _lines_after_shred(
    client: TestClient, manifest: dict[str, Any], auth: dict[str, str]
) -> dict[str, list[bytes]]:
    """The files' lines once counts no longer match (the shredded patient's lines are gone)."""
    by_type: dict[str, list[bytes]] = {}
    for item in manifest["output"]:
        response = client.get(item["url"].removeprefix("http://testserver"), headers=auth)
        assert response.status_code == 200
        by_type.setdefault(item["type"], []).extend(response.content.splitlines())
    return by_type
