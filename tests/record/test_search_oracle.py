"""The search oracle: the server's answers over Synthea data equal those of an independent engine.

The first ``BUNDLES`` Synthea bundles of ../shared/testdata (in file-name order; their
``urn:uuid:`` references resolved to ``Type/id``) are written through the repository into a
database of their own. A broad generated set of searches (every parameter type the data has,
modifiers, prefixes, partial dates, periods, units, composites, chains, _has, includes with
:iterate, sorts) is then run through ``Repository.search`` and through ``search_oracle``, which
evaluates the official SearchParameter expressions with fhirpathpy and applies the R4 matching
rules in plain Python of its own. Ids, totals and, for sorted searches, the order must agree.

Identifying parameters (Patient names, birth dates...) are matched exactly by design (a blind
index, DESIGN.md §4): the oracle applies that documented rule to them.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import TESTDATA, make_settings, new_database
from tests.factories import system_context
from tests.record.search_oracle import Oracle, Params, fold, references, spans, strings, tokens

from carnet import migrations
from carnet.runtime import Runtime, build_runtime

pytestmark = pytest.mark.corpus

BUNDLES = 12
SYNTHEA = TESTDATA / "synthea-r4" / "bundles"
DEFINITIONS = TESTDATA / "fhir-r4-spec" / "definitions" / "search-parameters.json"
BLIND = {("Patient", "family"), ("Patient", "given"), ("Patient", "name"), ("Patient", "birthdate")}
LOINC = "http://loinc.org"


def _resolve(value: Any, targets: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: targets.get(v, v)
            if k == "reference" and isinstance(v, str)
            else _resolve(v, targets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolve(item, targets) for item in value]
    return value


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Oracle]]:
    if not SYNTHEA.is_dir() or not DEFINITIONS.exists():
        pytest.skip(f"the Synthea corpus is not at {TESTDATA} (set CARNET_TESTDATA)")
    folder = tmp_path_factory.mktemp("oracle")
    with new_database(folder) as url:
        migrations.upgrade(url)
        rt = build_runtime(make_settings(url, folder / "var"), configure_logs=False)
        resources = []
        for path in sorted(SYNTHEA.glob("*.json"))[:BUNDLES]:
            entries = orjson.loads(path.read_bytes())["entry"]
            targets = {
                e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in entries
            }
            with rt.transaction() as db:
                repo = rt.record.repository(db=db, ctx=system_context())
                for entry in entries:
                    resource = _resolve(entry["resource"], targets)
                    repo.update(resource["resourceType"], resource["id"], resource)
                    resources.append(resource)
        yield rt, Oracle(Params(DEFINITIONS), resources)
        rt.close()


def _server(rt: Runtime, resource_type: str, query: list[tuple[str, str]]) -> Any:
    with rt.transaction() as db:
        repo = rt.record.repository(db=db, ctx=system_context())
        params = [*query, ("_count", "1000"), ("_total", "accurate")]
        return repo.search(resource_type, params)


class Expected:
    """The oracle's answer, with the documented exact rule for identifying parameters."""

    def __init__(self, oracle: Oracle) -> None:
        self.oracle = oracle

    def ids(self, resource_type: str, query: list[tuple[str, str]]) -> set[str]:
        plain = [(n, v) for n, v in query if (resource_type, n) not in BLIND]
        found = self.oracle.search(resource_type, plain)
        for name, value in query:
            if (resource_type, name) in BLIND:
                found = {i for i in found if self._exact(resource_type, i, name, value)}
        return found

    def _exact(self, resource_type: str, resource_id: str, name: str, value: str) -> bool:
        resource = self.oracle.by_type[resource_type][resource_id]
        values = self.oracle.values(resource, name)
        if name == "birthdate":
            return any(v == value or v.startswith(value + "-") for v in values)
        return any(fold(s) == fold(value) for v in values for s in strings(v))


def _of_type_queries(patient: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``identifier:of-type`` on a Patient's typed identifiers (blind keys on the server): the
    exact triple, any type system, and another type with the same value (Synthea's MR value is
    also the value of an untyped identifier)."""
    typed = {
        coding["code"]: (coding["system"], identifier["value"])
        for identifier in patient.get("identifier", [])
        for coding in identifier.get("type", {}).get("coding", [])
    }
    if "MR" not in typed:
        return []
    system, record_number = typed["MR"]
    found = [
        ("Patient", [("identifier:of-type", f"{system}|MR|{record_number}")]),
        ("Patient", [("identifier:of-type", f"|MR|{record_number}")]),
        ("Patient", [("identifier:of-type", f"{system}|SS|{record_number}")]),
    ]
    found += [
        ("Patient", [("identifier:of-type", f"{kind_system}|{kind}|{value}")])
        for kind, (kind_system, value) in sorted(typed.items())
        if kind != "MR"
    ]
    return found


def _queries(oracle: Oracle) -> list[tuple[str, list[tuple[str, str]]]]:
    """A broad, deterministic set of searches built from values the data holds."""
    rng = random.Random(20261125)
    found: list[tuple[str, list[tuple[str, str]]]] = []
    types = oracle.by_type
    patients = sorted(types["Patient"])
    patient = patients[0]
    observations = list(types["Observation"].values())
    quantities = [o for o in observations if "valueQuantity" in o]
    sample = rng.sample(quantities, 6)
    for obs in sample:
        coding = obs["code"]["coding"][0]
        value = obs["valueQuantity"]["value"]
        rounded = f"{value:.1f}"
        system, code = coding["system"], coding["code"]
        unit = obs["valueQuantity"].get("code", "")
        found += [
            ("Observation", [("code", code)]),
            ("Observation", [("code", f"{system}|{code}")]),
            ("Observation", [("code", f"|{code}")]),
            ("Observation", [("combo-code", f"{system}|{code}")]),
            ("Observation", [("code:not", code), ("patient", obs["subject"]["reference"])]),
            ("Observation", [("code", code), ("value-quantity", f"gt{rounded}")]),
            ("Observation", [("code", code), ("value-quantity", f"le{rounded}")]),
            ("Observation", [("value-quantity", f"{rounded}")]),
            ("Observation", [("value-quantity", f"ne{rounded}"), ("code", code)]),
            ("Observation", [("value-quantity", f"sa{rounded}|http://unitsofmeasure.org|{unit}")]),
            ("Observation", [("value-quantity", f"eb{rounded}||{unit}"), ("code", code)]),
            ("Observation", [("code-value-quantity", f"{system}|{code}$ge{rounded}")]),
            ("Observation", [("combo-code-value-quantity", f"{code}$lt{rounded}")]),
        ]
        effective = obs["effectiveDateTime"]
        for text in (effective[:4], effective[:7], effective[:10], effective):
            for prefix in ("", "ne", "gt", "lt", "ge", "le", "sa", "eb"):
                if rng.random() < 0.35:
                    found.append(("Observation", [("date", f"{prefix}{text}")]))
    found += [
        ("Observation", [("code", "http://loinc.org|")]),
        ("Observation", [("category", "vital-signs"), ("patient", patient)]),
        ("Observation", [("component-code", "8480-6")]),
        ("Observation", [("component-code-value-quantity", f"{LOINC}|8480-6$gt120")]),
        ("Observation", [("combo-code-value-quantity", f"{LOINC}|8480-6$gt120")]),
        ("Observation", [("value-concept:missing", "false")]),
        ("Observation", [("value-quantity:missing", "true")]),
        ("Observation", [("code:text", "body")]),
        ("Observation", [("code:text", "blood pres")]),
        ("Observation", [("date", "ge2010"), ("date", "lt2015")]),
        ("Observation", [("subject:Patient.gender", "female")]),
        ("Observation", [("encounter.class", "AMB"), ("patient", patient)]),
        (
            "Observation",
            [("_tag", "https://smarthealthit.org/tags|synthea-5-2019"), ("patient", patient)],
        ),
        ("Observation", [("subject", f"Patient/{patient}")]),
        ("Observation", [("subject:Patient", patient)]),
        ("Observation", [("patient", ",".join(patients[:2]))]),
    ]
    found += _other_types(oracle, rng)
    return found


def _other_types(oracle: Oracle, rng: random.Random) -> list[tuple[str, list[tuple[str, str]]]]:
    types = oracle.by_type
    found: list[tuple[str, list[tuple[str, str]]]] = []
    for encounter in rng.sample(list(types["Encounter"].values()), 4):
        start = encounter["period"]["start"]
        found += [
            ("Encounter", [("date", f"{p}{start[:10]}")])
            for p in ("", "ge", "le", "sa", "eb", "ne")
        ]
        found.append(("Encounter", [("class", encounter["class"]["code"])]))
        found.append(("Encounter", [("type", tokens(encounter["type"][0])[0][1])]))
        participant = encounter["participant"][0]["individual"]["reference"]
        found.append(("Encounter", [("participant", participant)]))
        found.append(("Encounter", [("practitioner", participant.split("/")[1])]))
    for condition in rng.sample(list(types["Condition"].values()), 3):
        code = condition["code"]["coding"][0]["code"]
        found += [
            ("Condition", [("code", code)]),
            ("Condition", [("clinical-status", "active"), ("code", code)]),
            ("Condition", [("onset-date", f"ge{condition['onsetDateTime'][:7]}")]),
            ("Condition", [("abatement-date:missing", "true"), ("code", code)]),
            ("Patient", [("_has:Condition:patient:code", code)]),
        ]
    for practitioner in rng.sample(list(types["Practitioner"].values()), 3):
        family = practitioner["name"][0]["family"]
        found += [
            ("Practitioner", [("name", family[:3])]),
            ("Practitioner", [("name:exact", family)]),
            ("Practitioner", [("name:exact", family.lower())]),
            ("Practitioner", [("name:contains", family[1:4].upper())]),
            ("Practitioner", [("_has:Encounter:participant:class", "AMB")]),
            ("Encounter", [("participant:Practitioner.name", family)]),
        ]
    for patient in rng.sample(list(types["Patient"].values()), 3):
        name = patient["name"][0]
        found += _of_type_queries(patient)
        found += [
            ("Patient", [("family", name["family"])]),
            ("Patient", [("given", name["given"][0].upper())]),
            ("Patient", [("birthdate", patient["birthDate"])]),
            ("Patient", [("birthdate", patient["birthDate"][:4]), ("gender", patient["gender"])]),
            ("Patient", [("_id", patient["id"])]),
            ("Immunization", [("patient", patient["id"]), ("date", "ge2015")]),
            ("Claim", [("patient.gender", patient["gender"]), ("use", "claim")]),
        ]
    for report in rng.sample(list(types["DiagnosticReport"].values()), 2):
        result = report.get("result", [{}])[0].get("reference")
        if result:
            found.append(("DiagnosticReport", [("result", result)]))
    found += [
        ("Organization", [("name", "hospital")]),
        ("Organization", [("address-state", "massachusetts")]),
        ("Procedure", [("date", "ge2018-06"), ("date", "lt2019")]),
        ("MedicationRequest", [("status", "active,stopped"), ("intent", "order")]),
        ("CarePlan", [("status:not", "completed")]),
    ]
    return found


def test_searches_agree_with_the_oracle(loaded: tuple[Runtime, Oracle]) -> None:
    rt, oracle = loaded
    expected = Expected(oracle)
    queries = _queries(oracle)
    assert len(queries) > 150
    failures = []
    for resource_type, query in queries:
        result = _server(rt, resource_type, query)
        got = {stored.id for stored in result.matches}
        want = expected.ids(resource_type, query)
        if got != want or result.total != len(want):
            failures.append((resource_type, query, len(got), len(want), result.total))
    assert not failures, failures[:10]


def _sorted_ok(keys: list[Any], descending: bool) -> bool:
    present = [k for k in keys if k is not None]
    if any(k is not None for k in keys[len(present) :]):
        return False  # a resource without a value sorts last
    return present == sorted(present, reverse=descending)


def test_sorted_searches_follow_the_order(loaded: tuple[Runtime, Oracle]) -> None:
    rt, oracle = loaded
    patient = sorted(oracle.by_type["Patient"])[1]
    cases = [
        ("Observation", [("patient", patient)], "date", True),
        ("Observation", [("patient", patient)], "date", False),
        ("Observation", [("code", "8302-2")], "value-quantity", False),
        ("Observation", [("code", "29463-7")], "value-quantity", True),
        ("Encounter", [("patient", patient)], "date", False),
        ("Practitioner", [], "name", False),
        ("Organization", [], "name", True),
        ("Condition", [("patient", patient)], "onset-date", True),
    ]
    for resource_type, query, code, descending in cases:
        sort = ("-" if descending else "") + code
        result = _server(rt, resource_type, [*query, ("_sort", sort)])
        ids = [stored.id for stored in result.matches]
        assert set(ids) == oracle.search(resource_type, query), (resource_type, query)
        keys = [oracle.sort_key(resource_type, i, code, descending) for i in ids]
        assert _sorted_ok(keys, descending), (resource_type, query, sort)
    # Two keys: by code's value, then by date within equal values.
    result = _server(rt, "Observation", [("patient", patient), ("_sort", "-date,value-quantity")])
    ids = [stored.id for stored in result.matches]
    pairs = [
        (
            oracle.sort_key("Observation", i, "date", True),
            oracle.sort_key("Observation", i, "value-quantity", False),
        )
        for i in ids
    ]
    for (date_a, value_a), (date_b, value_b) in itertools.pairwise(pairs):
        assert date_a is not None
        assert date_b is None or date_a >= date_b
        if date_a == date_b and value_a is not None and value_b is not None:
            assert value_a <= value_b


def test_includes_agree_with_the_oracle(loaded: tuple[Runtime, Oracle]) -> None:
    rt, oracle = loaded
    for patient in sorted(oracle.by_type["Patient"])[:3]:
        cases = [
            (
                "Observation",
                [("patient", patient), ("category", "vital-signs")],
                ["Observation:encounter"],
                [],
            ),
            (
                "Encounter",
                [("patient", patient)],
                ["Encounter:participant"],
                ["Observation:encounter"],
            ),
            ("DiagnosticReport", [("patient", patient)], ["DiagnosticReport:result"], []),
            ("Patient", [("_id", patient)], [], ["Encounter:patient", "Condition:subject"]),
        ]
        for resource_type, query, includes, revincludes in cases:
            params = [
                *query,
                *(("_include", s) for s in includes),
                *(("_revinclude", s) for s in revincludes),
            ]
            result = _server(rt, resource_type, params)
            ids = {stored.id for stored in result.matches}
            assert ids == oracle.search(resource_type, query)
            references_ = {f"{resource_type}/{i}" for i in ids}
            want: set[str] = set()
            for spec in includes:
                want |= oracle.include(ids, resource_type, spec)
            for spec in revincludes:
                want |= oracle.revinclude(references_, spec)
            assert {s.reference for s in result.included} == want - references_, (query, includes)


def test_include_iterate_agrees_with_the_oracle(loaded: tuple[Runtime, Oracle]) -> None:
    rt, oracle = loaded
    patient = sorted(oracle.by_type["Patient"])[2]
    query = [("patient", patient)]
    params = [
        *query,
        ("_include", "DiagnosticReport:result"),
        ("_include:iterate", "Observation:encounter"),
    ]
    result = _server(rt, "DiagnosticReport", params)
    ids = {stored.id for stored in result.matches}
    observations = oracle.include(ids, "DiagnosticReport", "DiagnosticReport:result")
    observation_ids = {ref.split("/")[1] for ref in observations}
    encounters = oracle.include(observation_ids, "Observation", "Observation:encounter")
    assert {s.reference for s in result.included} == observations | encounters


def test_the_oracle_reads_the_data_it_is_given(loaded: tuple[Runtime, Oracle]) -> None:
    """A guard against an oracle that finds nothing anywhere (and so agrees with anything)."""
    _, oracle = loaded
    observation = next(iter(oracle.by_type["Observation"].values()))
    assert tokens(oracle.values(observation, "code")[0])
    assert spans(oracle.values(observation, "date")[0])
    assert references(oracle.values(observation, "patient")[0])
    assert sum(len(v) for v in oracle.by_type.values()) > 2000
    assert isinstance(Path(DEFINITIONS), Path)
