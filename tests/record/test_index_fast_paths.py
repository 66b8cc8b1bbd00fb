"""The plain-Python path walkers (``index_paths``) find exactly what fhirpathpy finds.

The reference is an ``Indexer(fast_paths=False)``: every expression evaluated by fhirpathpy,
no walker and no shortcut. Both indexers must give the same entries, in the same order, and the
same compartment owners, for every resource of every corpus: the official R4 examples and the
Synthea bundles (both from ../shared/testdata, skipped when absent) and the demo generator's
output (always available). Each walker is also compared branch by branch with fhirpathpy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fhirpathpy
import orjson
import pytest
from fhirpathpy.models import models

from carnet.demo.population import generate_directory, generate_patients
from carnet.record import indexing
from carnet.record.definitions import get_definitions
from carnet.record.index_paths import DeceasedWalker, Walker, compile_walker
from carnet.record.indexing import Indexer

TESTDATA = Path(
    os.environ.get(
        "CARNET_TESTDATA", Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
    )
)


@pytest.fixture(scope="module")
def fast() -> Indexer:
    return Indexer(get_definitions())


@pytest.fixture(scope="module")
def reference() -> Indexer:
    return Indexer(get_definitions(), fast_paths=False)


def _official_examples() -> list[dict[str, Any]]:
    folder = TESTDATA / "fhir-r4-spec" / "examples"
    if not folder.is_dir():
        pytest.skip(f"the official R4 examples are not at {folder} (set CARNET_TESTDATA)")
    return [orjson.loads(path.read_bytes()) for path in sorted(folder.glob("*.json"))]


def _synthea() -> list[dict[str, Any]]:
    folder = TESTDATA / "synthea-r4" / "bundles"
    if not folder.is_dir():
        pytest.skip(f"the Synthea bundles are not at {folder} (set CARNET_TESTDATA)")
    return [
        entry["resource"]
        for path in sorted(folder.glob("*.json"))
        for entry in orjson.loads(path.read_bytes())["entry"]
    ]


def _demo() -> list[dict[str, Any]]:
    directory = generate_directory(seed=7)
    found = list(directory.resources())
    for person in generate_patients(60, seed=7, directory=directory, documents=False):
        found += [person.patient, *person.resources]
    return found


def _corpus(name: str) -> list[dict[str, Any]]:
    return {"official": _official_examples, "synthea": _synthea, "demo": _demo}[name]()


def _walkers(fast: Indexer, resource_type: str) -> Iterator[tuple[str, Walker | DeceasedWalker]]:
    for compiled in fast._plan(resource_type).params:
        for branch in compiled.branches:
            if branch.walk is not None:
                yield branch.expression, branch.walk


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["official", "synthea", "demo"])
def test_fast_extraction_equals_fhirpathpy(name: str, fast: Indexer, reference: Indexer) -> None:
    resources = _corpus(name)
    assert resources
    for resource in resources:
        where = (resource["resourceType"], resource.get("id"))
        assert fast.extract(resource) == reference.extract(resource), where
        assert fast.patient_refs(resource) == reference.patient_refs(resource), where


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["official", "synthea", "demo"])
def test_each_walker_equals_its_expression(name: str, fast: Indexer, reference: Indexer) -> None:
    walked = 0
    for resource in _corpus(name):
        branches = {
            b.expression: b
            for c in reference._plan(resource["resourceType"]).params
            for b in c.branches
        }
        for expression, walk in _walkers(fast, resource["resourceType"]):
            expected = indexing._evaluate(branches[expression], "test", resource)
            found = walk(resource)
            assert found is None or found == expected, (resource["resourceType"], expression)
            walked += found is not None and bool(found)
    assert walked > 0


def test_most_expressions_are_walked(fast: Indexer) -> None:
    """The fallback stays the exception: a regression in the parser would show here."""
    definitions = get_definitions()
    total = walked = 0
    for resource_type in definitions.resource_types:
        for param in definitions.search_params(resource_type):
            for branch in param.branches:
                total += 1
                walked += compile_walker(branch, resource_type) is not None
    assert walked / total > 0.97


@pytest.mark.parametrize(
    ("expression", "walked"),
    [
        ("Observation.code", True),
        ("Observation.value.ofType(Quantity)", True),
        ("Observation.component.value.ofType(CodeableConcept)", True),
        ("Patient.telecom.where(system='email')", True),
        ("Patient.deceased.exists() and Patient.deceased != false", True),
        ("Patient.nothing.exists() and Patient.nothing != false", False),
        ("Bundle.entry[0].resource", False),
        ("Observation", False),
        ("Observation.code.first()", False),
        ("Patient.name.length", False),
        ("Encounter.subject", True),
    ],
)
def test_which_expressions_are_walked(expression: str, walked: bool) -> None:
    resource_type = expression.split(".", 1)[0]
    assert (compile_walker(expression, resource_type) is not None) == walked


@pytest.mark.parametrize(
    ("resource", "expression"),
    [
        # primitive extensions, choices, contained resources, odd shapes
        ({"resourceType": "Patient", "_gender": {"extension": [{"url": "u"}]}}, "Patient.gender"),
        (
            {
                "resourceType": "Patient",
                "name": [{"given": ["A", None], "_given": [None, {"id": "x"}]}],
            },
            "Patient.name.given",
        ),
        (
            {"resourceType": "Observation", "valueString": "x", "valueQuantity": {"value": 1}},
            "Observation.value.ofType(Quantity)",
        ),
        (
            {"resourceType": "Observation", "valueQuantity": {"value": 1}},
            "Observation.value.ofType(string)",
        ),
        (
            {"resourceType": "Observation", "component": [{"valueQuantity": {"value": 2}}, {}]},
            "Observation.component.value.ofType(Quantity)",
        ),
        (
            {
                "resourceType": "Patient",
                "telecom": [
                    {"system": "email", "value": "a"},
                    {"system": ["email"], "value": "b"},
                    {"value": "c"},
                ],
            },
            "Patient.telecom.where(system='email')",
        ),
        (
            {"resourceType": "Patient", "telecom": [{"system": {"x": 1}, "value": "b"}]},
            "Patient.telecom.where(system='email')",
        ),
        (
            {"resourceType": "Patient", "telecom": [[{"system": "email"}]]},
            "Patient.telecom.where(system='email')",
        ),
        (
            {
                "resourceType": "Patient",
                "link": [{"other": {"resourceType": "Patient", "id": "x"}}],
            },
            "Patient.link.other",
        ),
        (
            {"resourceType": "Patient", "link": [{"other": {"resourceType": 3}}]},
            "Patient.link.other",
        ),
        ({"resourceType": "Patient", "gender": [], "name": "x"}, "Patient.name.family"),
        ({"resourceType": "Patient", "name": [{"family": 3}, True, 1.5]}, "Patient.name.family"),
        *(
            (resource, "Patient.deceased.exists() and Patient.deceased != false")
            for resource in (
                {"resourceType": "Patient"},
                {"resourceType": "Patient", "deceasedBoolean": False},
                {"resourceType": "Patient", "deceasedBoolean": True},
                {"resourceType": "Patient", "deceasedDateTime": "2020-01-01"},
                {"resourceType": "Patient", "deceasedBoolean": "false"},
                {"resourceType": "Patient", "_deceasedBoolean": {"extension": [{"url": "u"}]}},
                {"resourceType": "Patient", "deceasedBoolean": False, "deceasedDateTime": "2020"},
            )
        ),
    ],
)
def test_odd_shapes_agree_or_fall_back(resource: dict[str, Any], expression: str) -> None:
    walk = compile_walker(expression, resource["resourceType"])
    assert walk is not None
    found = walk(resource)
    branch = indexing._Branch(expression, _compiled(expression), None, None)
    expected = indexing._evaluate(branch, "test", resource)
    assert found is None or found == expected


@pytest.mark.parametrize(
    ("resource", "deceased"),
    [
        ({"resourceType": "Patient"}, False),
        ({"resourceType": "Patient", "deceasedBoolean": False}, False),
        ({"resourceType": "Patient", "deceasedBoolean": True}, True),
    ],
)
def test_the_deceased_test_is_walked_for_the_usual_shapes(
    resource: dict[str, Any], deceased: bool
) -> None:
    walk = compile_walker("Patient.deceased.exists() and Patient.deceased != false", "Patient")
    assert walk is not None
    assert walk(resource) == [("boolean", deceased)]


def _compiled(expression: str) -> Any:
    """The expression compiled for fhirpathpy as ``indexing`` compiles it."""
    return fhirpathpy.compile(expression, models["r4"], {"returnRawData": True})
