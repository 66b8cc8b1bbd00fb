"""The compact index: stable hashes and ids, composite pairs, parameters stored once."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import orjson
import pytest
from tests.conftest import TESTDATA

from carnet.record import composites
from carnet.record.definitions import get_definitions
from carnet.record.hashes import param_id, reference_hash, value_hash
from carnet.record.indexing import Indexer

SYNTHEA = TESTDATA / "synthea-r4" / "bundles"
EXAMPLES = TESTDATA / "fhir-r4-spec" / "examples"


def test_hashes_are_stable() -> None:
    # Part of the stored format: a change here means re-indexing every resource.
    assert param_id("Observation", "code") == 1397518552
    assert 0 < param_id("Patient", "family:text") < 2**31
    assert value_hash("8302-2") == value_hash("8302-2") != value_hash("8302-3")
    assert reference_hash("Patient", "p1") == value_hash("Patient/p1")
    assert -(2**63) <= value_hash("x") < 2**63


def test_every_parameter_and_modifier_row_has_its_own_id() -> None:
    definitions = get_definitions()
    names = definitions.param_names
    assert len(names) > 5000
    assert names[param_id("Observation", "code:text")] == ("Observation", "code:text")
    assert names[param_id("Observation", "subject:identifier")] == (
        "Observation",
        "subject:identifier",
    )


def test_unions_and_narrowed_twins_are_stored_once() -> None:
    definitions = get_definitions()
    combo = definitions.search_param("Observation", "combo-code")
    assert combo is not None
    assert combo.covered_by == ("code", "component-code")
    subject = definitions.search_param("Observation", "subject")
    assert subject is not None
    assert subject.narrowed_by == ("patient",)
    indexer = Indexer(definitions)
    entries = indexer.extract(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "s", "code": "c"}]},
            "component": [{"code": {"coding": [{"system": "s", "code": "k"}]}}],
            "subject": {"reference": "Patient/p1"},
        }
    )
    params = {row.param for row in entries.token} | {row.param for row in entries.reference}
    assert {"code", "component-code", "patient"} <= params
    assert not {"combo-code", "subject"} & params


def _resources() -> list[dict[str, Any]]:
    found = []
    for path in sorted(SYNTHEA.glob("*.json"))[:10]:
        found += [e["resource"] for e in orjson.loads(path.read_bytes())["entry"]]
    for path in sorted(EXAMPLES.glob("*.json")):
        resource = orjson.loads(path.read_bytes())
        if resource.get("resourceType") in (
            "Observation",
            "DocumentReference",
            "Group",
            "Questionnaire",
        ):
            found.append(resource)
    return found


@pytest.mark.corpus
def test_composite_pairs_read_directly_equal_fhirpath() -> None:
    """The plain forms read from the JSON (``code``, ``value.ofType(Quantity)``) give the pairs
    FHIRPath gives."""
    if not SYNTHEA.is_dir():
        pytest.skip(f"the corpus is not at {TESTDATA}")
    definitions = get_definitions()
    compared = 0
    for resource in _resources():
        resource_type = resource["resourceType"]
        for param in definitions.search_params(resource_type):
            if param.type != "composite" or param.covered_by:
                continue
            compiled = composites.compile_composite(definitions, resource_type, param)
            if compiled is None:
                continue
            slow = dataclasses.replace(
                compiled,
                first=dataclasses.replace(compiled.first, direct=None),
                second=dataclasses.replace(compiled.second, direct=None),
            )
            fast = composites.composite_entries(compiled, resource, definitions.resource_types)
            reference = composites.composite_entries(slow, resource, definitions.resource_types)
            assert Counter(fast) == Counter(reference), (resource_type, param.code)
            compared += len(fast)
    assert compared > 1000
