"""NIR/INS, RPPS and FINESS formats: known vectors, edge cases and properties."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.identity import formats
from carnet.identity import service as identity_service

VALID_NIRS = ("295109912611193", "253072B07300470", "253072A07300443")
VALID_RPPS = (
    "10001045367",
    "10104335319",
    "10005814339",
    "10100224947",
    "10104257190",
    "10100124576",
    "10005810808",
    "10100356202",
    "10100779536",
    "99700771191",
)


def _with_key(first13: str) -> str:
    return first13 + formats.nir_key(first13)


def _change_digit(value: str, position: int, delta: int) -> str:
    digit = (int(value[position]) + delta) % 10
    return value[:position] + str(digit) + value[position + 1 :]


# --- NIR ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("nir", VALID_NIRS)
def test_reference_nirs_are_valid(nir: str) -> None:
    assert formats.is_valid_nir(nir)


def test_nir_key_of_a_reference_vector() -> None:
    assert formats.nir_key("2951099126111") == "93"
    assert formats.nir_key("253072B073004") == "70"
    assert formats.nir_key("253072A073004") == "43"


@pytest.mark.parametrize("nir", VALID_NIRS)
def test_every_single_digit_change_invalidates_a_reference_nir(nir: str) -> None:
    for position, char in enumerate(nir):
        if not char.isdigit():
            continue
        for delta in range(1, 10):
            assert not formats.is_valid_nir(_change_digit(nir, position, delta))


@pytest.mark.parametrize(
    "nir",
    [
        "",
        "29510991261119",  # 14 characters
        "2951099126111930",  # 16 characters
        "295109912611193 ",
        " 295109912611193",
        "253072b07300470",  # Corsica is written in capitals
        "2530720A7300443",  # a letter outside positions 6-7
        "29510991261119A",
        "２95109912611193",  # a non-ASCII digit
    ],
)
def test_malformed_nirs_are_invalid(nir: str) -> None:
    assert not formats.is_valid_nir(nir)


@pytest.mark.parametrize("sex", ["1", "2", "3", "4", "7", "8"])
def test_sexes_of_the_insee_space_are_accepted(sex: str) -> None:
    assert formats.is_valid_nir(_with_key(f"{sex}951099126111"))


@pytest.mark.parametrize("sex", ["0", "5", "6", "9"])
def test_other_sexes_are_rejected(sex: str) -> None:
    assert not formats.is_valid_nir(_with_key(f"{sex}951099126111"))


@pytest.mark.parametrize("month", ["01", "12", "20", "30", "31", "42", "50", "99"])
def test_real_and_fictitious_months_are_accepted(month: str) -> None:
    assert formats.is_valid_nir(_with_key(f"195{month}31555123"))


@pytest.mark.parametrize("month", ["00", "13", "19", "43", "49"])
def test_impossible_months_are_rejected(month: str) -> None:
    assert not formats.is_valid_nir(_with_key(f"195{month}31555123"))


@pytest.mark.parametrize(
    "place",
    ["31555", "01001", "20004", "2A004", "2B033", "96123", "97411", "97120", "98415", "99350"],
)
def test_places_are_accepted(place: str) -> None:
    assert formats.is_valid_nir(_with_key(f"28407{place}042"))


@pytest.mark.parametrize("place", ["00123", "31000", "97911", "97400", "98315", "2A000"])
def test_impossible_places_are_rejected(place: str) -> None:
    assert not formats.is_valid_nir(_with_key(f"28407{place}042"))


def test_order_zero_is_rejected() -> None:
    assert not formats.is_valid_nir(_with_key("2840731555000"))


@pytest.mark.parametrize("body", ["", "295109912611", "29510991261119", "2951099126111A", "x" * 13])
def test_nir_key_refuses_malformed_bodies(body: str) -> None:
    with pytest.raises(ValueError, match="13 digits"):
        formats.nir_key(body)


def test_build_nir_from_its_parts() -> None:
    assert formats.build_nir("female", date(1995, 10, 3), "99126", 111) == "295109912611193"
    assert formats.build_nir("female", date(1953, 7, 1), "2B073", 4) == "253072B07300470"


def test_corsican_births_before_1976_carry_departement_20() -> None:
    assert formats.nir_place_code("2A004", date(1975, 12, 31)) == "20004"
    assert formats.nir_place_code("2A004", date(1976, 1, 1)) == "2A004"
    assert formats.nir_place_code("31555", date(1950, 1, 1)) == "31555"
    with pytest.raises(ValueError, match="5 characters"):
        formats.nir_place_code("3155", date(1950, 1, 1))


@pytest.mark.parametrize(
    ("sex", "place", "order"),
    [
        ("other", "31555", 1),
        ("male", "31555", 0),
        ("male", "31555", 1000),
        ("male", "00555", 1),
        ("male", "9741", 1),
        ("male", "2a004", 1),
    ],
)
def test_build_nir_refuses_impossible_parts(sex: str, place: str, order: int) -> None:
    with pytest.raises(ValueError, match=r"sex|order|place"):
        formats.build_nir(sex, date(1980, 5, 17), place, order)  # type: ignore[arg-type]


_PLACES = st.one_of(
    st.builds(
        lambda dept, commune: f"{dept:02d}{commune:03d}",
        st.integers(1, 96),
        st.integers(1, 999),
    ),
    st.builds(
        lambda corsica, commune: f"{corsica}{commune:03d}",
        st.sampled_from(["2A", "2B"]),
        st.integers(1, 999),
    ),
    st.builds(
        lambda overseas, commune: f"{overseas}{commune:02d}",
        st.sampled_from(["971", "972", "973", "974", "976", "975", "986", "987", "988"]),
        st.integers(1, 99),
    ),
    st.builds(lambda country: f"99{country:03d}", st.integers(100, 999)),
)
_BUILT_NIRS = st.builds(
    formats.build_nir,
    st.sampled_from(["male", "female"]),
    st.dates(date(1900, 1, 1), date(2099, 12, 31)),
    _PLACES,
    st.integers(1, 999),
)


@given(_BUILT_NIRS)
def test_built_nirs_are_always_valid(nir: str) -> None:
    assert len(nir) == 15
    assert formats.is_valid_nir(nir)


@given(_BUILT_NIRS, st.integers(0, 14), st.integers(1, 9))
def test_one_changed_digit_always_invalidates_a_nir(nir: str, position: int, delta: int) -> None:
    if not nir[position].isdigit():
        return
    assert not formats.is_valid_nir(_change_digit(nir, position, delta))


# --- Luhn, RPPS, FINESS -------------------------------------------------------------------------
@pytest.mark.parametrize("rpps", VALID_RPPS)
def test_reference_rpps_are_valid(rpps: str) -> None:
    assert formats.is_valid_rpps(rpps)


@pytest.mark.parametrize(
    "rpps", ["10103441234", "1000104536", "100010453670", "1000104536A", "", "10001045368"]
)
def test_invalid_rpps_are_rejected(rpps: str) -> None:
    assert not formats.is_valid_rpps(rpps)


def test_national_professional_id_is_8_then_rpps() -> None:
    assert formats.national_professional_id("10001045367") == "810001045367"
    assert formats.national_professional_id("99700771191") == "899700771191"
    with pytest.raises(ValueError, match="RPPS"):
        formats.national_professional_id("10103441234")


@pytest.mark.parametrize("finess", ["010000024", "010780054"])
def test_reference_finess_are_valid(finess: str) -> None:
    assert formats.is_valid_finess(finess)


@pytest.mark.parametrize(
    "finess", ["010000025", "01000002", "0100000240", "2A0000024", "2B0000024", "", "01000002A"]
)
def test_invalid_and_corsican_finess_are_rejected(finess: str) -> None:
    assert not formats.is_valid_finess(finess)


def test_luhn_rejects_what_is_not_ascii_digits() -> None:
    assert not formats.luhn_is_valid("")
    assert not formats.luhn_is_valid("١٢٣")  # Arabic-Indic digits
    assert not formats.luhn_is_valid("79927398 13")
    assert formats.luhn_is_valid("79927398713")
    with pytest.raises(ValueError, match="ASCII digits"):
        formats.luhn_complete("12a")
    with pytest.raises(ValueError, match="ASCII digits"):
        formats.luhn_complete("")


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_luhn_complete_makes_valid_numbers(prefix: str) -> None:
    assert formats.luhn_is_valid(formats.luhn_complete(prefix))


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.data())
def test_luhn_detects_every_single_digit_error(prefix: str, data: st.DataObject) -> None:
    number = formats.luhn_complete(prefix)
    position = data.draw(st.integers(0, len(number) - 1))
    delta = data.draw(st.integers(1, 9))
    assert not formats.luhn_is_valid(_change_digit(number, position, delta))


# --- Constants and the service surface ---------------------------------------------------------
def test_oids() -> None:
    assert formats.OID_INS_NIR == "1.2.250.1.213.1.4.8"
    assert formats.OID_INS_NIA == "1.2.250.1.213.1.4.9"
    assert formats.OID_INS_NIR_TEST == "1.2.250.1.213.1.4.10"
    assert formats.OID_NATIONAL_PS_ID == "1.2.250.1.71.4.2.1"
    assert formats.OID_TRE_G15 == "1.2.250.1.71.1.2.7"
    assert formats.OID_FINESS == "1.2.250.1.71.4.2.2"
    assert formats.SYSTEM_INS_NIR_TEST == "urn:oid:1.2.250.1.213.1.4.10"
    assert formats.SYSTEM_TRE_G15.endswith("/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante")


def test_profession_table() -> None:
    assert len(formats.PROFESSIONS_TRE_G15) == 30
    assert formats.PROFESSIONS_TRE_G15["10"] == "Médecin"
    assert formats.PROFESSIONS_TRE_G15["21"] == "Pharmacien"
    assert formats.PROFESSIONS_TRE_G15["60"] == "Infirmier"
    assert {"SM26", "SM53", "SM54"} == formats.GENERAL_PRACTICE_SPECIALTIES


def test_service_re_exports_the_format_functions() -> None:
    public = [name for name in vars(formats) if not name.startswith("_") and name.isidentifier()]
    for name in public:
        value = getattr(formats, name)
        if callable(value) and getattr(value, "__module__", "") == formats.__name__:
            assert getattr(identity_service, name) is value
    for name in identity_service.__all__:
        assert hasattr(identity_service, name)


# --- ADELI, SIREN, SIRET, FINESS of Corsica, INSEE codes ------------------------------------------
@pytest.mark.parametrize("adeli", ["759124159", "012600631", "629400748"])
def test_reference_adeli_numbers_are_valid(adeli: str) -> None:
    assert formats.is_valid_adeli(adeli)
    assert not formats.is_valid_adeli(_change_digit(adeli, 4, 1))


def test_siret_and_siren() -> None:
    assert formats.is_valid_siren("732829320")
    assert formats.is_valid_siret("73282932000074")
    assert not formats.is_valid_siret("73282932000075")
    assert not formats.is_valid_siret("7328293200007")
    # La Poste's establishments: the digits add up to a multiple of 5 instead of Luhn.
    assert formats.is_valid_siret("35600000000048")  # La Poste's head office passes Luhn
    assert not formats.luhn_is_valid("35600000012346")
    assert formats.is_valid_siret("35600000012346")  # 3+5+6+1+2+3+4+6 = 30
    assert not formats.is_valid_siret("35600000012347")


def test_finess_of_corsica_is_accepted_unchecked() -> None:
    assert formats.finess_check("010000024") == "valid"
    assert formats.finess_check("010000025") == "invalid"
    assert formats.finess_check("2A0000123") == "unchecked"
    assert formats.finess_check("2C0000123") == "invalid"


@pytest.mark.parametrize(
    ("code", "commune", "country"),
    [
        ("75113", True, False),
        ("2B033", True, False),
        ("97411", True, False),
        ("98735", True, False),
        ("99100", False, True),
        ("99352", False, True),
        ("75000", False, False),
        ("96001", False, False),
        ("9741", False, False),
    ],
)
def test_insee_codes(code: str, commune: bool, country: bool) -> None:
    assert formats.is_insee_commune_code(code) is commune
    assert formats.is_insee_country_code(code) is country


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_luhn_completion_always_validates(prefix: str) -> None:
    assert formats.luhn_is_valid(formats.luhn_complete(prefix))
