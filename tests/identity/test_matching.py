"""Comparing reference traits with a FranceConnect identity pivot."""

from __future__ import annotations

import pytest

from carnet.identity import service as identity_service
from carnet.identity.matching import MismatchReason

Sex = identity_service.Sex


def traits(**overrides: object) -> identity_service.ReferenceTraits:
    values: dict[str, object] = {
        "birth_family_name": "LEFÈVRE-SAINT ANGE",
        "birth_given_names": ("Anaïs", "Marie-Noëlle"),
        "sex": Sex.FEMALE,
        "birth_date": identity_service.BirthDate(1984, 6, 17),
        "birthplace": identity_service.BirthPlace("75113"),
    }
    values.update(overrides)
    return identity_service.ReferenceTraits(**values)  # type: ignore[arg-type]


def claims(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "given_name": "ANAÏS MARIE-NOËLLE",
        "family_name": "LEFEVRE SAINT-ANGE",
        "birthdate": "1984-06-17",
        "gender": "female",
        "birthplace": "75113",
        "birthcountry": "99100",
    }
    values.update(overrides)
    return values


def reasons(result: identity_service.TraitsMatch) -> dict[str, str]:
    return {mismatch.field: mismatch.reason.value for mismatch in result.mismatches}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("Lefèvre-Saint Ange", "LEFEVRE SAINT-ANGE"),
        ("D'Artagnan", "D ARTAGNAN"),
        ("Lœuilliet", "LOEUILLIET"),
        ("  Müller   ", "MULLER"),
        ("N’Diaye", "N'DIAYE"),
    ],
)
def test_names_compare_without_case_accents_or_punctuation(ours: str, theirs: str) -> None:
    assert identity_service.normalise_name(ours) == identity_service.normalise_name(theirs)


def test_the_same_person_matches() -> None:
    result = identity_service.match_pivot_identity(traits(), claims())
    assert result.matched
    assert not result.presumed_birthdate


def test_given_name_array_is_preferred() -> None:
    result = identity_service.match_pivot_identity(
        traits(), claims(given_name="", given_name_array=["Anaïs", "Marie-Noëlle"])
    )
    assert result.matched


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("ANAIS", "partial"),  # only the first first name
        ("MARIE-NOELLE ANAIS", "different"),  # the order counts
        ("ANAIS MARIE NOELLE CLAIRE", "partial"),
        ("", "missing"),
    ],
)
def test_first_names(given: str, reason: str) -> None:
    result = identity_service.match_pivot_identity(traits(), claims(given_name=given))
    assert reasons(result) == {"given_name": reason}


def test_a_different_birth_name_or_sex_does_not_match() -> None:
    result = identity_service.match_pivot_identity(
        traits(), claims(family_name="MARTIN", gender="male")
    )
    assert reasons(result) == {"family_name": "different", "gender": "different"}


@pytest.mark.parametrize(
    ("ours", "claim", "matched", "presumed"),
    [
        (identity_service.BirthDate(1984), "1984-01-01", True, True),
        (identity_service.BirthDate(1984, 6), "1984-06-01", True, True),
        (identity_service.BirthDate(1984, 6), "1984-06-17", False, False),
        (identity_service.BirthDate(1984), "1984-06-17", False, False),
        (identity_service.BirthDate(1984, 1, 1), "1984-01-01", True, False),
        (identity_service.BirthDate(1984, 6, 17), "1984-01-01", False, False),
        (identity_service.BirthDate(1984, 6, 17), "1985-06-17", False, False),
        (identity_service.BirthDate(1984, 6, 17), "17/06/1984", False, False),
    ],
)
def test_presumed_birth_dates(
    ours: identity_service.BirthDate, claim: str, matched: bool, presumed: bool
) -> None:
    result = identity_service.match_pivot_identity(traits(birth_date=ours), claims(birthdate=claim))
    assert result.matched is matched
    assert result.presumed_birthdate is presumed


def test_born_abroad() -> None:
    abroad = traits(birthplace=identity_service.BirthPlace("99352"))
    assert identity_service.match_pivot_identity(
        abroad, claims(birthplace="", birthcountry="99352")
    ).matched
    wrong_country = identity_service.match_pivot_identity(
        abroad, claims(birthplace="", birthcountry="99350")
    )
    assert reasons(wrong_country) == {"birthplace": "different"}
    said_france = identity_service.match_pivot_identity(abroad, claims())
    assert reasons(said_france) == {"birthplace": "different"}


def test_born_in_france_but_claimed_abroad() -> None:
    result = identity_service.match_pivot_identity(
        traits(), claims(birthplace="", birthcountry="99352")
    )
    assert reasons(result) == {"birthplace": "different"}


def test_corsican_codes_either_side_of_1976_agree() -> None:
    corsican = traits(birthplace=identity_service.BirthPlace("2A004"))
    assert identity_service.match_pivot_identity(corsican, claims(birthplace="20004")).matched
    assert identity_service.match_pivot_identity(corsican, claims(birthplace="2a004")).matched


def test_what_carnet_does_not_know_cannot_be_verified() -> None:
    unknown = traits(sex=Sex.UNKNOWN, birthplace=None)
    result = identity_service.match_pivot_identity(unknown, claims())
    assert reasons(result) == {"gender": "unverifiable", "birthplace": "unverifiable"}
    assert all(m.reason is MismatchReason.UNVERIFIABLE for m in result.mismatches)


def test_missing_or_mistyped_claims_are_reported_missing() -> None:
    result = identity_service.match_pivot_identity(
        traits(),
        {"given_name": 12, "family_name": None, "birthdate": "", "gender": "", "birthplace": ""},
    )
    assert reasons(result) == {
        "family_name": "missing",
        "given_name": "missing",
        "birthdate": "missing",
        "gender": "missing",
        "birthplace": "missing",
    }
