"""``carnet fhir load``: bundles and NDJSON, the report, and resuming after a crash."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, text
from tests.bundles import bundle, observation_of, post, urn
from tests.factories import patient

from carnet.cli import loading
from carnet.core.db import normalise_url


def _count(url: str, resource_type: str) -> int:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM record_resource WHERE resource_type = :t"),
            {"t": resource_type},
        ).scalar_one()
    engine.dispose()
    return int(count)


def _transaction(observations: int) -> dict[str, Any]:
    person = urn()
    entries = [post(observation_of(person, value=50 + i), urn()) for i in range(observations)]
    return bundle("transaction", post(patient(), person), *entries)


def _data(directory: Path) -> Path:
    """Two transaction bundles and an NDJSON file with three bad lines among five."""
    directory.mkdir()
    (directory / "a.json").write_bytes(orjson.dumps(_transaction(3)))
    (directory / "b.json").write_bytes(orjson.dumps(_transaction(2)))
    first, second = patient(), patient()
    lines = [
        json.dumps(first),
        "{not json",
        "",
        json.dumps({"resourceType": "Patient", "name": [{"family": "Sans-Id"}]}),
        json.dumps(second),
        json.dumps({**patient(), "gender": "sometimes"}),
    ]
    (directory / "people.ndjson").write_text("\n".join(lines) + "\n")
    return directory


def test_load_reports_and_skips_what_is_done(
    carnet: Any, fresh_database_url: str, tmp_path: Path
) -> None:
    data = _data(tmp_path / "data")
    output = carnet("fhir", "load", str(data), "--workers", "1", "--batch-size", "2", code=1)
    assert re.search(r"9 resources loaded from 5 units in .*; 0 units skipped", output)
    assert "3 failures" in output
    assert f"FAILED {data}/people.ndjson:2: Not valid JSON" in output
    assert f"FAILED {data}/people.ndjson:4: The resource has no id" in output
    assert f"FAILED {data}/people.ndjson:6: The resource is not valid FHIR R4" in output
    assert _count(fresh_database_url, "Patient") == 4
    assert _count(fresh_database_url, "Observation") == 5

    again = carnet("fhir", "load", str(data), "--workers", "1", "--batch-size", "2", code=1)
    assert re.search(r"0 resources loaded from 0 units.*; 5 units skipped", again)
    assert "(earlier run)" in again
    assert _count(fresh_database_url, "Patient") == 4

    (data / "b.json").write_bytes(orjson.dumps(_transaction(1)))  # changed: loaded again
    third = carnet("fhir", "load", str(data / "b.json"), "--workers", "1")
    assert "2 resources loaded from 1 units" in third
    assert _count(fresh_database_url, "Patient") == 5


def test_a_failed_transaction_is_reported_and_retried(
    carnet: Any, fresh_database_url: str, tmp_path: Path
) -> None:
    broken = bundle("transaction", post(patient(), urn()), post(observation_of(urn()), urn()))
    path = tmp_path / "broken.json"
    path.write_bytes(orjson.dumps(broken))
    output = carnet("fhir", "load", str(path), "--workers", "1", code=1)
    assert f"FAILED {path} entry 1: The reference at Observation.subject.reference" in output
    assert _count(fresh_database_url, "Patient") == 0
    # Nothing of it was stored, so it is tried again (not skipped) on the next run.
    assert "1 failures" in carnet("fhir", "load", str(path), "--workers", "1", code=1)


def test_a_crash_after_the_commit_does_not_load_twice(
    carnet: Any, fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a", "b", "c"):
        (data / f"{name}.json").write_bytes(orjson.dumps(_transaction(2)))
    original = loading.LoadState.done
    calls = 0

    def dies_on_the_second(self: loading.LoadState, report: loading.UnitReport) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # the process dies between the commit and its record
        original(self, report)

    monkeypatch.setattr(loading.LoadState, "done", dies_on_the_second)
    carnet("fhir", "load", str(data), "--workers", "1", code=130)  # interrupted
    assert _count(fresh_database_url, "Patient") == 2
    monkeypatch.setattr(loading.LoadState, "done", original)
    output = carnet("fhir", "load", str(data), "--workers", "1")
    assert re.search(r"3 resources loaded from 1 units.*; 2 units skipped", output)
    assert _count(fresh_database_url, "Patient") == 3  # the second bundle was not loaded twice


def test_a_crash_before_the_commit_loads_the_unit_again(
    carnet: Any, fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "one.json"
    path.write_bytes(orjson.dumps(_transaction(2)))

    def dies(*_args: Any) -> None:
        raise KeyboardInterrupt  # after "begin", before anything is committed

    original = loading._run
    monkeypatch.setattr(loading, "_run", dies)
    carnet("fhir", "load", str(path), "--workers", "1", code=130)  # interrupted
    monkeypatch.setattr(loading, "_run", original)
    assert _count(fresh_database_url, "Patient") == 0
    carnet("fhir", "load", str(path), "--workers", "1")
    assert _count(fresh_database_url, "Patient") == 1


@pytest.mark.slow
def test_workers_load_in_parallel(carnet: Any, fresh_database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for index in range(4):
        (data / f"{index}.json").write_bytes(orjson.dumps(_transaction(3)))
    output = carnet("fhir", "load", str(data), "--workers", "2")
    assert "16 resources loaded from 4 units" in output
    assert _count(fresh_database_url, "Observation") == 12
