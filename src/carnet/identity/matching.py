"""Comparing identity traits: the normalisation rules and the FranceConnect pivot identity.

FranceConnect hands over the *identité pivot* (birth family name, birth first names, sex, birth
date, birthplace and birth country) from the national register, which is also where INSi takes
the INS traits. The sign-in compares those claims with a space's reference traits: both sides
are normalised (case, accents, ligatures, hyphens and apostrophes), then compared trait by
trait, and every disagreement is reported with its reason. The caller decides what to do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from carnet.identity.schemas import (
    FRANCE_COUNTRY_CODE,
    BirthDate,
    BirthPlace,
    ReferenceTraits,
    Sex,
)

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def normalise_name(text: str) -> str:
    """``text`` as compared: upper case, no accents, ligatures spelt out, and every run of
    spaces, hyphens, apostrophes or other punctuation made one space.

    "Lefèvre-Saint Ange" and "LEFEVRE SAINT-ANGE" both become "LEFEVRE SAINT ANGE".
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    kept = [
        char if char.isalnum() else " " for char in decomposed if not unicodedata.combining(char)
    ]
    return " ".join("".join(kept).upper().split())


class MismatchReason(StrEnum):
    MISSING = "missing"
    """The claim is absent or empty."""
    DIFFERENT = "different"
    """Both sides are known and disagree."""
    PARTIAL = "partial"
    """First names: only the first one agrees."""
    UNVERIFIABLE = "unverifiable"
    """Carnet does not know this trait (unknown sex, no birthplace), so it cannot be checked."""


@dataclass(frozen=True, slots=True)
class TraitMismatch:
    field: str
    """The claim that disagrees: family_name, given_name, birthdate, gender or birthplace."""
    reason: MismatchReason


@dataclass(frozen=True, slots=True)
class TraitsMatch:
    mismatches: tuple[TraitMismatch, ...]
    presumed_birthdate: bool = False
    """The claimed date stands for a partly unknown one (``YYYY-01-01``, ``YYYY-MM-01``)."""

    @property
    def matched(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True, slots=True)
class PivotIdentity:
    """The FranceConnect identity pivot, read from the id_token or userinfo claims."""

    given_names: tuple[str, ...]
    family_name: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> PivotIdentity:
        """Read the claims leniently (absent or mistyped claims become empty): the comparison
        then reports them as missing. ``given_name_array`` is preferred to ``given_name``."""
        array = claims.get("given_name_array")
        if isinstance(array, list) and all(isinstance(name, str) for name in array):
            given = tuple(array)
        else:
            given = tuple(_text(claims, "given_name").split())
        return cls(
            given_names=given,
            family_name=_text(claims, "family_name"),
            birthdate=_text(claims, "birthdate"),
            gender=_text(claims, "gender"),
            birthplace=_text(claims, "birthplace"),
            birthcountry=_text(claims, "birthcountry"),
        )


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def match_pivot_identity(
    traits: ReferenceTraits, pivot: PivotIdentity | Mapping[str, Any]
) -> TraitsMatch:
    """Compare a space's reference traits with a FranceConnect identity pivot.

    Matched when every trait agrees after normalisation: family name = birth family name;
    first names = the birth first names, in order; birth date, with FranceConnect's presumed
    dates (``YYYY-01-01``: month and day unknown; ``YYYY-MM-01``: day unknown) matching a
    partial date; sex; birthplace = the COG commune code (Corsica's former ``20`` code matching
    ``2A``/``2B``) with birth country France (99100), or, born abroad, an empty birthplace and
    the country code.
    """
    if not isinstance(pivot, PivotIdentity):
        pivot = PivotIdentity.from_claims(pivot)
    mismatches: list[TraitMismatch] = []

    def check(field: str, reason: MismatchReason | None) -> None:
        if reason is not None:
            mismatches.append(TraitMismatch(field, reason))

    check("family_name", _family_name(traits.birth_family_name, pivot.family_name))
    check("given_name", _given_names(traits, pivot.given_names))
    date_reason, presumed = _birthdate(traits.birth_date, pivot.birthdate)
    check("birthdate", date_reason)
    check("gender", _gender(traits.sex, pivot.gender))
    check("birthplace", _birthplace(traits.birthplace, pivot.birthplace, pivot.birthcountry))
    return TraitsMatch(tuple(mismatches), presumed_birthdate=presumed)


def _family_name(ours: str, claim: str) -> MismatchReason | None:
    if not claim:
        return MismatchReason.MISSING
    return None if normalise_name(ours) == normalise_name(claim) else MismatchReason.DIFFERENT


def _given_names(traits: ReferenceTraits, claim: tuple[str, ...]) -> MismatchReason | None:
    if not claim:
        return MismatchReason.MISSING
    theirs = normalise_name(" ".join(claim))
    if normalise_name(" ".join(traits.birth_given_names)) == theirs:
        return None
    first = normalise_name(traits.first_given_name)
    if theirs == first or theirs.startswith(first + " "):
        return MismatchReason.PARTIAL
    return MismatchReason.DIFFERENT


def _birthdate(ours: BirthDate, claim: str) -> tuple[MismatchReason | None, bool]:
    if not claim:
        return MismatchReason.MISSING, False
    parts = claim.split("-")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        return MismatchReason.DIFFERENT, False
    year, month, day = (int(part) for part in parts)
    if ours.month is None:
        # Only a presumed claim (YYYY-01-01) can stand for a date whose month is unknown.
        agrees, presumed = (month, day) == (1, 1), True
    elif ours.day is None:
        agrees, presumed = month == ours.month and day == 1, True
    else:
        agrees, presumed = (month, day) == (ours.month, ours.day), False
    if year != ours.year or not agrees:
        return MismatchReason.DIFFERENT, False
    return None, presumed


def _gender(ours: Sex, claim: str) -> MismatchReason | None:
    if not claim:
        return MismatchReason.MISSING
    if ours is Sex.UNKNOWN:
        return MismatchReason.UNVERIFIABLE
    return None if claim == ours.value else MismatchReason.DIFFERENT


def _birthplace(ours: BirthPlace | None, place: str, country: str) -> MismatchReason | None:
    if ours is None:
        return MismatchReason.UNVERIFIABLE
    place = place.upper()
    if ours.abroad:
        if not country:
            return MismatchReason.MISSING
        return None if not place and country == ours.code else MismatchReason.DIFFERENT
    if not place:
        return MismatchReason.DIFFERENT if country else MismatchReason.MISSING
    if country and country != FRANCE_COUNTRY_CODE:
        return MismatchReason.DIFFERENT
    return None if _same_commune(place, ours.code) else MismatchReason.DIFFERENT


def _same_commune(claim: str, ours: str) -> bool:
    # Corsican communes were coded 20xxx before 1976 and 2Axxx/2Bxxx since, with the same
    # commune number: a record and a claim written either side of the change still agree.
    if claim == ours:
        return True
    corsica = {"20", "2A", "2B"}
    return claim[:2] in corsica and ours[:2] in corsica and claim[2:] == ours[2:]
