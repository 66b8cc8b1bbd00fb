"""Reading search parameters: values, prefixes, modifiers, chains, controls, and every bad input
refused with an error that names the parameter and never repeats the value."""

from __future__ import annotations

from typing import Any

import pytest

from carnet.record.definitions import get_definitions
from carnet.record.errors import InvalidSearch, UnsupportedSearch
from carnet.record.hashes import param_id, value_hash
from carnet.record.search import catalog
from carnet.record.search.model import (
    BlindMatch,
    Chain,
    CompositeMatch,
    DateMatch,
    Has,
    IdMatch,
    Missing,
    Negated,
    NumberMatch,
    ParsedSearch,
    ReferenceMatch,
    SearchLimits,
    TextMatch,
    TokenMatch,
)
from carnet.record.search.parse import SearchParser
from carnet.record.search.values import parse_number, split_escaped, unescape

NOW = 1_780_000_000_000_000


def _blind(domain: str, key: str) -> str:
    return value_hash(f"{domain}|{key}").to_bytes(8, "big", signed=True).hex() * 2


@pytest.fixture(scope="module")
def parser() -> SearchParser:
    return SearchParser(get_definitions(), blind_hash=_blind, limits=SearchLimits(50, 200))


def parse(
    parser: SearchParser, resource_type: str, *pairs: tuple[str, str], **kw: Any
) -> ParsedSearch:
    return parser.parse(resource_type, list(pairs), now=NOW, **kw)


# --- values ---------------------------------------------------------------------------------------
def test_escapes() -> None:
    assert split_escaped(r"a\,b,c", ",") == [r"a\,b", "c"]
    assert unescape(r"a\,b\$c\|d\\e") == "a,b$c|d\\e"
    assert split_escaped(r"x\$y$z", "$") == [r"x\$y", "z"]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("100", 99.5, 100.5), ("100.00", 99.995, 100.005), ("5.4", 5.35, 5.45), ("1e2", 50, 150)],
)
def test_numbers_carry_their_precision(text: str, low: float, high: float) -> None:
    number = parse_number("value", "eq", text)
    assert number.low == pytest.approx(low)
    assert number.high == pytest.approx(high)


def test_tokens_and_systems(parser: SearchParser) -> None:
    parsed = parse(parser, "Observation", ("code", "http://loinc.org|1,|2,3,http://x|"))
    (condition,) = parsed.conditions
    assert isinstance(condition, TokenMatch)
    first, second, third, fourth = condition.values
    assert (first.code_hash, first.system_hash) == (value_hash("1"), value_hash("http://loinc.org"))
    assert second.no_system
    assert (third.system_hash, third.no_system) == (None, False)
    assert (fourth.code_hash, fourth.system_hash) == (None, value_hash("http://x"))


def test_covered_and_narrowed_parameters_read_the_rows_holding_them(parser: SearchParser) -> None:
    (combo,) = parse(parser, "Observation", ("combo-code", "1")).conditions
    assert isinstance(combo, TokenMatch)
    assert set(combo.param_ids) == {
        param_id("Observation", "code"),
        param_id("Observation", "component-code"),
    }
    (subject,) = parse(parser, "Observation", ("subject", "Patient/p1")).conditions
    assert isinstance(subject, ReferenceMatch)
    assert set(subject.param_ids) == {
        param_id("Observation", "subject"),
        param_id("Observation", "patient"),
    }


def test_modifiers(parser: SearchParser) -> None:
    conditions = parse(
        parser,
        "Observation",
        ("code:not", "1"),
        ("code:text", "Poids"),
        ("status:missing", "true"),
        ("subject:Patient", "p1"),
    ).conditions
    assert isinstance(conditions[0], Negated)
    assert isinstance(conditions[1], TextMatch)
    assert [v.value for v in conditions[1].values] == ["poids"]  # type: ignore[attr-defined]
    assert isinstance(conditions[2], Missing)
    assert isinstance(conditions[3], ReferenceMatch)
    assert conditions[3].hashes == (value_hash("Patient/p1"),)


def test_plain_reference_id_means_every_allowed_target(parser: SearchParser) -> None:
    (condition,) = parse(parser, "Observation", ("subject", "x1")).conditions
    assert isinstance(condition, ReferenceMatch)
    assert len(condition.hashes) == 4  # Device, Group, Location, Patient
    (patient,) = parse(parser, "Observation", ("patient", "x1")).conditions
    assert isinstance(patient, ReferenceMatch)
    assert patient.hashes == (value_hash("Patient/x1"),)


def test_owner_is_proved_by_the_subject_only(parser: SearchParser) -> None:
    assert parse(parser, "Observation", ("patient", "p1")).owner_hint == "p1"
    assert parse(parser, "Observation", ("subject", "Patient/p1")).owner_hint == "p1"
    assert parse(parser, "Observation", ("subject", "p1")).owner_hint is None  # Group/p1?
    assert parse(parser, "Observation", ("performer", "Patient/p1")).owner_hint is None
    assert parse(parser, "Observation", ("patient", "p1,p2")).owner_hint is None
    assert parse(parser, "Provenance", ("patient", "p1")).owner_hint is None  # target repeats
    assert parse(parser, "Patient", ("_id", "p1")).owner_hint == "p1"


def test_dates_prefixes_and_quantities(parser: SearchParser) -> None:
    parsed = parse(
        parser, "Observation", ("date", "ge2020-03"), ("value-quantity", "lt5.4|http://u|mg")
    )
    date, quantity = parsed.conditions
    assert isinstance(date, DateMatch)
    assert date.values[0].prefix == "ge"
    assert date.values[0].high - date.values[0].low == 31 * 86_400 * 1_000_000
    assert isinstance(quantity, NumberMatch)
    assert quantity.values[0].number.prefix == "lt"
    assert quantity.values[0].system_hash == value_hash("http://u")


def test_composite_pairs(parser: SearchParser) -> None:
    (condition,) = parse(
        parser, "Observation", ("code-value-quantity", "http://loinc.org|8480-6$gt120,x$lt3")
    ).conditions
    assert isinstance(condition, CompositeMatch)
    assert condition.table == "quantity"
    assert len(condition.pairs) == 2
    (relation,) = parse(
        parser, "DocumentReference", ("relationship", "DocumentReference/d1$replaces")
    ).conditions
    assert isinstance(relation, CompositeMatch)
    assert relation.table == "token"


def test_chains_has_and_lists(parser: SearchParser) -> None:
    chain, has = parse(
        parser,
        "Observation",
        ("subject:Patient.gender", "female"),
        ("_has:Provenance:target:agent", "Practitioner/1"),
    ).conditions
    assert isinstance(chain, Chain)
    assert [target for target, _ in chain.targets] == ["Patient"]
    assert isinstance(has, Has)
    # Without a type, every target type that has the parameter is searched.
    (wide,) = parse(parser, "Observation", ("subject.name", "x")).conditions
    assert isinstance(wide, Chain)
    assert {target for target, _ in wide.targets} == {
        "Location",
        "Patient",
    }  # the types with a name


def test_identifying_parameters_are_blind_and_exact(parser: SearchParser) -> None:
    parsed = parse(parser, "Patient", ("family", "Lefèvre"), ("birthdate", "eq1980-05-12"))
    assert parsed.identifying
    assert all(isinstance(c, BlindMatch) for c in parsed.conditions)


def test_controls(parser: SearchParser) -> None:
    parsed = parse(
        parser,
        "Observation",
        ("_count", "10"),
        ("_sort", "-date,value-quantity,_id"),
        ("_include", "Observation:subject:Patient"),
        ("_include:iterate", "Patient:general-practitioner"),
        ("_revinclude", "Provenance:target"),
        ("_summary", "true"),
        ("_total", "accurate"),
        ("_elements", "status,code"),
    )
    controls = parsed.controls
    assert controls.count == 10
    assert [(k.name, k.descending) for k in controls.sort] == [
        ("date", True),
        ("value-quantity", False),
        ("_id", False),
    ]
    include, iterate, reverse = controls.includes
    assert include.target_types == ("Patient",)
    assert iterate.iterate
    assert reverse.reverse
    assert (controls.summary, controls.total, controls.elements) == (
        "true",
        "accurate",
        ("status", "code"),
    )
    assert parse(parser, "Observation").controls.count == 50
    assert parse(parser, "Observation", ("_count", "0")).controls.summary == "count"
    assert len(parse(parser, "Observation", ("_include", "Observation:*")).controls.includes) > 5


def test_modifiers_are_exactly_those_offered(parser: SearchParser) -> None:
    """What the catalog offers (and so the CapabilityStatement lists) parses; the other token
    modifiers are refused, not answered with an empty page (``:of-type`` on a code)."""
    samples = {"missing": "true", "of-type": "http://s|MR|1"}
    tried = {"offered": 0, "refused": 0}
    for resource_type in sorted(get_definitions().resource_types):
        for code, offer in catalog.offered(resource_type).items():
            if offer.blind or offer.param.type != "token":
                continue
            for modifier in catalog.MODIFIERS["token"]:
                pair = (f"{code}:{modifier}", samples.get(modifier, "x"))
                if modifier in offer.modifiers:
                    parse(parser, resource_type, pair)
                    tried["offered"] += 1
                else:
                    with pytest.raises(InvalidSearch):
                        parse(parser, resource_type, pair)
                    tried["refused"] += 1
    assert "of-type" in catalog.offered("Specimen")["accession"].modifiers
    assert "of-type" in catalog.offered("Composition")["related-id"].modifiers
    assert "of-type" not in catalog.offered("Observation")["code"].modifiers
    assert "text" in catalog.offered("Observation")["code"].modifiers
    assert "text" not in catalog.offered("Observation")["status"].modifiers
    assert "text" not in catalog.offered("AllergyIntolerance")["category"].modifiers  # codes
    assert "text" in catalog.offered("Group")["value"].modifiers  # a CodeableConcept branch
    assert tried["offered"] > 1000
    assert tried["refused"] > 1000


def test_ids(parser: SearchParser) -> None:
    (condition,) = parse(parser, "Observation", ("_id", "a,b")).conditions
    assert condition == IdMatch(("a", "b"))


# --- bad input ------------------------------------------------------------------------------------
SECRET = "Zylberstein1984"


@pytest.mark.parametrize(
    ("resource_type", "name", "value", "error"),
    [
        ("Observation", "date", "2020-13-45", InvalidSearch),
        ("Observation", "date", f"{SECRET}", InvalidSearch),
        ("Observation", "date", "xx2020", InvalidSearch),
        ("Observation", "value-quantity", f"gt{SECRET}", InvalidSearch),
        ("Observation", "value-quantity", "1|2", InvalidSearch),
        ("Observation", "code:exact", "1", InvalidSearch),  # a string modifier on a token
        ("Observation", "code:of-type", "http://s|MR|1", InvalidSearch),  # not an Identifier
        ("Observation", "_security:of-type", "http://s|MR|1", InvalidSearch),
        ("Observation", "_id:of-type", "http://s|MR|1", InvalidSearch),
        ("Observation", "_id:missing", "true", InvalidSearch),
        ("Observation", "_lastUpdated:missing", "true", InvalidSearch),
        ("Observation", "date:exact", "2020", InvalidSearch),
        ("Observation", "code:below", "1", UnsupportedSearch),
        ("Observation", "code:in", "http://vs", UnsupportedSearch),
        ("Observation", "code.name", "x", InvalidSearch),  # a chain on a token
        ("Observation", "subject.organization.name", "x", UnsupportedSearch),
        ("Observation", "subject:Organization", "x", InvalidSearch),
        ("Observation", "subject", "Organization/1", InvalidSearch),
        ("Observation", "subject", "not a reference", InvalidSearch),
        ("Observation", "status:missing", "maybe", InvalidSearch),
        ("Observation", "code", "", InvalidSearch),
        ("Observation", "code", "a,", InvalidSearch),
        ("Observation", "code-value-quantity", "1", InvalidSearch),
        ("Observation", "nope", "1", UnsupportedSearch),
        ("Observation", "_text", "x", UnsupportedSearch),
        ("Observation", "_count", "-1", InvalidSearch),
        ("Observation", "_count", "201", InvalidSearch),
        ("Observation", "_count", "ten", InvalidSearch),
        ("Observation", "_sort", "code", UnsupportedSearch),
        ("Observation", "_sort", "nope", InvalidSearch),
        ("Observation", "_summary", "maybe", InvalidSearch),
        ("Observation", "_total", "all", InvalidSearch),
        ("Observation", "_include", "Observation:code", InvalidSearch),
        ("Observation", "_include", "Patient:organization", InvalidSearch),
        ("Observation", "_include:recurse", "Observation:subject", InvalidSearch),
        ("Observation", "_elements", "a.b", InvalidSearch),
        ("Observation", "_has:Observation:code:status", "final", InvalidSearch),
        ("Observation", "_has:Nope:subject:status", "final", InvalidSearch),
        (
            "Patient",
            "_has:Observation:patient:_has:Provenance:target:agent",
            "x",
            UnsupportedSearch,
        ),
        ("Location", "near", "1|2|3|km", UnsupportedSearch),
        ("Patient", "family:contains", SECRET, UnsupportedSearch),
        ("Patient", "family:exact", SECRET, UnsupportedSearch),
        ("Patient", "name:missing", "true", UnsupportedSearch),
        ("Patient", "birthdate", f"ge{SECRET[-4:]}", UnsupportedSearch),
        ("Patient", "family", "   ", InvalidSearch),
        ("Observation", "_list", "$current-allergies", UnsupportedSearch),
    ],
)
def test_bad_input_names_the_parameter_never_the_value(
    parser: SearchParser, resource_type: str, name: str, value: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as caught:
        parse(parser, resource_type, (name, value))
    exc = caught.value
    assert isinstance(exc, (InvalidSearch, UnsupportedSearch))
    issue = exc.issues[0]
    assert issue.expression == name
    assert name in issue.diagnostics
    assert SECRET not in issue.diagnostics


def test_lenient_ignores_unknown_parameters_only(parser: SearchParser) -> None:
    parsed = parse(parser, "Observation", ("nope", "1"), ("status", "final"), lenient=True)
    assert len(parsed.conditions) == 1
    assert parsed.ignored
    assert "nope" in parsed.ignored[0]
    with pytest.raises(InvalidSearch):
        parse(parser, "Observation", ("date", "2020-99"), lenient=True)
    with pytest.raises(UnsupportedSearch):  # dropping it would widen the search
        parse(parser, "Patient", ("family:contains", "x"), lenient=True)


def test_odd_parameter_names_are_not_echoed(parser: SearchParser) -> None:
    with pytest.raises(UnsupportedSearch) as caught:
        parse(parser, "Observation", ("<script>", "1"))
    assert "<script>" not in caught.value.issues[0].diagnostics


def test_catalog_refuses_what_it_cannot_do() -> None:
    assert "near" in catalog.refused("Location")
    assert "chromosome-variant-coordinate" in catalog.refused("MolecularSequence")
    offered = catalog.offered("Patient")
    assert offered["family"].blind
    assert not offered["family"].sortable
    assert offered["gender"].param.type == "token"
    definitions = get_definitions()
    assert catalog.owner_codes(definitions, "Observation") == {"subject", "patient"}
