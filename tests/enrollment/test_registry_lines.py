"""Each rule of a registry line, through a real import: a bad line is reported with its line,
column and rule (never its value) and nothing of it is stored; good lines around it go on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from tests.enrollment.conftest import write_file

from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.identity import service as identity_service
from carnet.runtime import Runtime


def nir(sex: str, born: str, place: str, order: int) -> str:
    first13 = f"{sex}{born[2:4]}{born[5:7]}{place}{order:03d}"
    return first13 + identity_service.nir_key(first13)


def person(born: str, place: str, order: int, **columns: str) -> dict[str, str]:
    """A valid holder's line (a woman born on ``born`` in ``place``) with ``columns`` changed."""
    row = {
        "nir": nir("2", born, place, order),
        "nature_identifiant": "NIR",
        "nir_ouvrant_droit": "",
        "numero_serie_vitale": "12345678901",
        "type_carte_vitale": "photo",
        "nom_naissance": "Lefèvre-D'Almeida",
        "nom_usage": "",
        "prenoms": "Anne Sophie",
        "sexe": "F",
        "date_naissance": born,
        "lieu_naissance": place,
        "adresse": "12 rue des Lilas",
        "code_postal": "31000",
        "commune": "Toulouse",
        "departement": "31",
        "email": "anne.sophie@example.org",
        "mobile": "06 39 98 12 34",
        "date_deces": "",
    }
    return row | columns


HOLDER = person("1980-05-14", "31555", 101)
CHILD = person(
    "2015-03-02", "31555", 102, nir_ouvrant_droit=HOLDER["nir"], numero_serie_vitale="",
    type_carte_vitale="", email="", mobile="",
)  # fmt: skip

# (line written, expected (column, rule) reports); the good lines are stored, the others not.
CASES: list[tuple[dict[str, str], list[tuple[str, str]]]] = [
    (HOLDER, []),
    (CHILD, []),
    (person("1981-01-01", "31555", 103, nir=nir("2", "1981-01-01", "31555", 103)[:13] + "00"),
     [("nir", "nir-key")]),
    (person("1982-01-01", "31555", 104, departement="20"), [("departement", "departement-unknown")]),
    (person("1983-01-01", "31555", 105, departement="977"),
     [("departement", "departement-unknown")]),
    (HOLDER | {"adresse": "1 avenue Ailleurs"}, [("nir", "nir-duplicate")]),
    (person("2016-01-01", "31555", 106, nir_ouvrant_droit=nir("1", "1950-01-01", "31555", 999),
            numero_serie_vitale="", type_carte_vitale=""),
     [("nir_ouvrant_droit", "holder-unknown")]),
    (person("2017-01-01", "31555", 107, nir_ouvrant_droit=CHILD["nir"], numero_serie_vitale="",
            type_carte_vitale=""),
     [("nir_ouvrant_droit", "holder-is-dependant")]),
    (person("1984-01-01", "31555", 108, nir="2840131555108"), [("nir", "nir-format")]),
    (person("1985-01-01", "31555", 109, sexe="M"), [("nir", "nir-traits")]),
    (person("1986-01-01", "31555", 110, numero_serie_vitale="1234567890"),
     [("numero_serie_vitale", "vitale-format")]),
    (person("1987-01-01", "31555", 111, numero_serie_vitale="", type_carte_vitale=""),
     [("numero_serie_vitale", "required")]),
    (person("1988-01-01", "31555", 112, date_naissance="01/01/1988"),
     [("date_naissance", "date-format")]),
    (person("1989-01-01", "31555", 113, email="anne@", mobile="01 23 45 67 89"),
     [("email", "email-format"), ("mobile", "mobile-format")]),
    (person("1990-01-01", "31555", 114, date_deces="1989-12-31"),
     [("date_deces", "death-before-birth")]),
    (person("1991-01-01", "31555", 115, nom_naissance="R2D2", lieu_naissance="00000"),
     [("nom_naissance", "name-format"), ("lieu_naissance", "birthplace")]),
    # Accepted: Corsica, the overseas départements, a NIA, an international mobile, no e-mail.
    (person("1992-01-01", "31555", 116, departement="2A", code_postal="20000"), []),
    (person("1993-01-01", "31555", 117, departement="976", mobile="+262639981234"), []),
    (person("1994-01-01", "99350", 118, nature_identifiant="NIA", email=""), []),
    (person("1995-01-01", "31555", 119, type_carte_vitale="sans_photo",
            numero_serie_vitale="12345678"), []),
]  # fmt: skip


def test_each_rule_is_reported_by_line_and_column_and_nothing_of_the_line_is_stored(
    rt: Runtime, importer, tmp_path: Path
) -> None:
    path = write_file(tmp_path / "lines.txt", [row for row, _ in CASES])
    with path.open("a", encoding="utf-8") as file:
        file.write("only|three|fields\n")
    report_path = tmp_path / "rejected.csv"
    report = importer(path, report_path=report_path)

    expected = [
        f"{number},{column},{rule}"
        for number, (_, rules) in enumerate(CASES, start=2)
        for column, rule in rules
    ] + [f"{len(CASES) + 2},-,line-format"]
    text = report_path.read_text()
    got = [",".join(line.split(",")[:3]) for line in text.splitlines()[1:]]
    assert got == expected
    good = [row for row, rules in CASES if not rules]
    assert report.lines_read == len(CASES) + 1
    assert report.lines_rejected == len(CASES) + 1 - len(good)
    assert report.created == len(good)

    with rt.transaction(readonly=True) as db:
        assert enrollment_service.count_beneficiaries(db) == len(good)
        for row, rules in CASES[2:]:
            if rules and row["nir"] != HOLDER["nir"]:
                assert (
                    enrollment_service.find_beneficiary(db, storage=rt.storage, nir=row["nir"])
                    is None
                )
        # The duplicate did not half-apply: the holder keeps the first line's address.
        holder = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=HOLDER["nir"])
        assert holder is not None
        assert holder.entry.address == HOLDER["adresse"]
        nia = enrollment_service.find_beneficiary(db, storage=rt.storage, nir=CASES[-2][0]["nir"])
        assert nia is not None
        assert nia.entry.identifier_kind == "NIA"
        overseas = enrollment_service.find_beneficiary(
            db, storage=rt.storage, nir=CASES[-3][0]["nir"]
        )
        assert overseas is not None
        assert (overseas.departement, overseas.entry.mobile) == ("976", "0639981234")
        assert db.execute(select(models.beneficiary.c.departement)).scalars().all().count("2A") == 1

    # The report names lines, columns and rules: never a value of the file.
    for row, _ in CASES:
        for value in (row["nir"], row["nom_naissance"], row["email"], row["adresse"]):
            if value:
                assert value not in text


def test_the_synthetic_file_uses_exactly_the_registry_columns() -> None:
    row = next(synthetic_registry(1, seed=1))
    assert tuple(row) == enrollment_service.COLUMNS


def test_the_synthetic_file_is_deterministic_and_its_bad_lines_are_the_four_kinds(
    rt: Runtime, importer, tmp_path: Path
) -> None:
    first = list(synthetic_registry(40, seed=9, bad_every=5))
    assert first == list(synthetic_registry(40, seed=9, bad_every=5))
    assert first[:10] == list(synthetic_registry(10, seed=9, bad_every=5))
    report_path = tmp_path / "rejected.csv"
    report = importer(write_file(tmp_path / "bad.txt", first), report_path=report_path)
    assert report.lines_rejected == 8
    rules = [line.split(",")[2] for line in report_path.read_text().splitlines()[1:]]
    assert rules == ["nir-key", "departement-unknown", "nir-duplicate", "holder-unknown"] * 2
