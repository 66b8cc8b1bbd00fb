"""Logs carry no identifiers and no health data."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from carnet.core.logging import RedactionFilter, redact
from carnet.demo import service as demo_service
from carnet.demo.population import generate_directory, generate_patients
from carnet.runtime import Runtime


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("nir 295109912611193 read", "nir [number] read"),
        ("corsica 253072B07300470", "corsica [number]"),
        ("nir 1 85 05 78 006 084 36 typed", "nir [number] typed"),
        ("nir 2.53.07.2B.073.004.70 typed", "nir [number] typed"),
        ("nir 1-85-05-78-006-084 without its key", "nir [number] without its key"),
        ("rpps 10001045367", "rpps [number]"),
        ("mail anais.lefebvre@example.org sent", "mail [email] sent"),
        ("call +33 6 12 34 56 78 now", "call [phone] now"),
        ("call 06.12.34.56.78 now", "call [phone] now"),
        ("born 1984-06-17", "born [date]"),
        ("born 17/06/1984", "born [date]"),
        ("GET /fhir/Patient/{id} 200 3.1ms", "GET /fhir/Patient/{id} 200 3.1ms"),
    ],
)
def test_redaction(raw: str, expected: str) -> None:
    assert redact(raw) == expected


def test_filter_redacts_arguments_and_exceptions() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "patient %s", ("295109912611193",), None
    )
    try:
        raise ValueError("bad birth date 1984-06-17")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactionFilter().filter(record)
    assert record.getMessage() == "patient [number]"
    assert "1984-06-17" not in (record.exc_text or "")


def test_no_identity_reaches_the_logs(
    rt: Runtime, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handler_filter = RedactionFilter()
    seed = 777
    directory = generate_directory(seed=seed)
    people = list(generate_patients(3, seed=seed, directory=directory))
    demo_service.seed(repository=rt.carnet_repository, patients=3, seed=seed)
    for person in people:
        client.get(f"/fhir/Patient/{person.patient['id']}")  # unauthenticated: logged, refused
    text = "\n".join(
        (handler_filter.filter(r) and r.getMessage()) + (r.exc_text or "") for r in caplog.records
    )
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for person in people:
        resource = person.patient
        for name in resource["name"]:
            for part in [name["family"], *name.get("given", [])]:
                assert part not in text
        assert resource["birthDate"] not in text
        for identifier in resource["identifier"]:
            assert identifier["value"] not in text
