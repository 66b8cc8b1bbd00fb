"""INS values: matricule and OID, RNIV statuses, traits, and their coherence."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.identity import errors
from carnet.identity import service as identity_service
from carnet.identity.formats import build_nir, nir_key

NIR = "284067511300167"  # female, June 1984, Paris 13e, order 003


def traits(**overrides: object) -> identity_service.ReferenceTraits:
    values: dict[str, object] = {
        "birth_family_name": "LEFEBVRE",
        "birth_given_names": ("Anaïs", "Marie"),
        "sex": identity_service.Sex.FEMALE,
        "birth_date": identity_service.BirthDate(1984, 6, 17),
        "birthplace": identity_service.BirthPlace("75113"),
    }
    values.update(overrides)
    return identity_service.ReferenceTraits(**values)  # type: ignore[arg-type]


def test_an_ins_is_a_checked_matricule_and_an_assigning_authority() -> None:
    ins = identity_service.parse_ins("2 84 06 75 113 001 67", "urn:oid:1.2.250.1.213.1.4.10")
    assert ins.matricule == NIR
    assert ins.kind is identity_service.InsKind.TEST
    assert ins.oid == "1.2.250.1.213.1.4.10"
    assert NIR not in repr(ins)


@pytest.mark.parametrize(
    ("oid", "kind", "use"),
    [
        ("1.2.250.1.213.1.4.8", "INS-NIR", "official"),
        ("1.2.250.1.213.1.4.9", "INS-NIA", "temp"),
        ("1.2.250.1.213.1.4.10", "INS-NIR-TEST", "official"),
        ("1.2.250.1.213.1.4.11", "INS-NIR-DEMO", "official"),
    ],
)
def test_each_oid_names_its_identifier_type(oid: str, kind: str, use: str) -> None:
    ins_kind = identity_service.InsKind.from_oid(oid)
    assert ins_kind.value == kind
    assert ins_kind.use == use
    assert ins_kind.system == f"urn:oid:{oid}"


def test_a_wrong_key_is_refused_naming_the_field_not_the_value() -> None:
    wrong = NIR[:13] + f"{(int(NIR[13:]) % 97) + 1:02d}"
    with pytest.raises(errors.InvalidMatricule) as caught:
        identity_service.parse_ins(wrong)
    assert caught.value.field == "ins.matricule"
    assert wrong not in str(caught.value)
    assert caught.value.issues[0].expression == "ins.matricule"


def test_an_unknown_oid_is_refused() -> None:
    with pytest.raises(errors.InvalidOid):
        identity_service.parse_ins(NIR, "1.2.250.1.213.1.4.2")  # INS-C, retired


def test_statuses_follow_the_rniv_table() -> None:
    status = identity_service.IdentityStatus
    assert [s for s in status if s.retrieved_from_insi] == [status.RECUP, status.QUAL]
    assert [s for s in status if s.checked_against_document] == [status.VALI, status.QUAL]
    assert [s for s in status if s.may_share_matricule] == [status.QUAL]


def test_only_a_qualified_identity_shares_its_matricule() -> None:
    ins = identity_service.parse_ins(NIR)
    recup = identity_service.PatientIdentity(traits(), identity_service.IdentityStatus.RECUP, ins)
    qual = identity_service.PatientIdentity(traits(), identity_service.IdentityStatus.QUAL, ins)
    assert recup.shareable_ins is None
    assert qual.shareable_ins == ins


@pytest.mark.parametrize(
    ("text", "parts"),
    [("1984", (1984, None, None)), ("1984-06", (1984, 6, None)), ("1984-06-17", (1984, 6, 17))],
)
def test_partial_birth_dates(text: str, parts: tuple[int, int | None, int | None]) -> None:
    birth_date = identity_service.BirthDate.parse(text)
    assert (birth_date.year, birth_date.month, birth_date.day) == parts
    assert birth_date.iso() == text


@pytest.mark.parametrize("text", ["84-06-17", "1984-6-17", "1984-02-30", "1984-13", "19840617", ""])
def test_malformed_birth_dates(text: str) -> None:
    with pytest.raises(errors.InvalidTrait) as caught:
        identity_service.BirthDate.parse(text)
    assert caught.value.field == "birthDate"


@pytest.mark.parametrize(
    ("code", "abroad", "country"),
    [
        ("75113", False, "99100"),
        ("2A004", False, "99100"),
        ("97411", False, "99100"),
        ("99352", True, "99352"),
    ],
)
def test_birthplaces(code: str, abroad: bool, country: str) -> None:
    place = identity_service.BirthPlace(code)
    assert place.abroad is abroad
    assert place.country_code == country


@pytest.mark.parametrize("code", ["7511", "00123", "96000", "2C004", "99ABC", "75000"])
def test_malformed_birthplaces(code: str) -> None:
    with pytest.raises(errors.InvalidTrait):
        identity_service.BirthPlace(code)


def test_traits_take_the_first_first_name_unless_told() -> None:
    assert traits().first_given_name == "Anaïs"
    compound = traits(birth_given_names=("Anne", "Sophie", "Marie"), first_given_name="Anne Sophie")
    assert compound.first_given_name == "Anne Sophie"


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("birthFamilyName", {"birth_family_name": " "}),
        ("birthGivenNames", {"birth_given_names": ()}),
        ("birthFamilyName", {"birth_family_name": "L3FEBVRE"}),
        ("usedGivenName", {"used_given_name": "<script>"}),
    ],
)
def test_malformed_traits_name_their_field(field: str, overrides: dict[str, object]) -> None:
    with pytest.raises(errors.InvalidTrait) as caught:
        traits(**overrides)
    assert caught.value.field == field


def test_the_matricule_agrees_with_the_traits() -> None:
    ins = identity_service.parse_ins(NIR)
    assert identity_service.ins_trait_conflicts(ins, traits()) == ()
    wrong = traits(
        sex=identity_service.Sex.MALE,
        birth_date=identity_service.BirthDate(1985, 6, 17),
        birthplace=identity_service.BirthPlace("75114"),
    )
    assert identity_service.ins_trait_conflicts(ins, wrong) == ("sex", "birthDate", "birthPlace")


def test_corsica_before_1976_and_births_abroad_agree_with_their_nir() -> None:
    corsican = identity_service.parse_ins(build_nir("male", date(1960, 3, 2), "20004", 12))
    born = traits(
        sex=identity_service.Sex.MALE,
        birth_date=identity_service.BirthDate(1960, 3, 2),
        birthplace=identity_service.BirthPlace("2A004"),
    )
    assert identity_service.ins_trait_conflicts(corsican, born) == ()
    abroad = identity_service.parse_ins(build_nir("female", date(1990, 1, 5), "99352", 7))
    born_abroad = traits(
        birth_date=identity_service.BirthDate(1990),  # the day and month are unknown
        birthplace=identity_service.BirthPlace("99352"),
    )
    assert identity_service.ins_trait_conflicts(abroad, born_abroad) == ()


@given(
    sex=st.sampled_from(["male", "female"]),
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    place=st.sampled_from(["75113", "2B033", "97411", "99352", "31555"]),
    order=st.integers(min_value=1, max_value=999),
)
def test_every_built_nir_parses_and_one_changed_digit_is_caught(
    sex: str, day: date, place: str, order: int
) -> None:
    nir = build_nir(sex, day, place, order)  # type: ignore[arg-type]
    assert identity_service.parse_ins(nir).matricule == nir
    changed = nir[:12] + str((int(nir[12]) + 1) % 10) + nir[13:]
    assert nir_key(changed[:13]) != changed[13:]
    with pytest.raises(errors.InvalidMatricule):
        identity_service.parse_ins(changed)
