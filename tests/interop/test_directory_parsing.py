"""Reading the Annuaire Santé extract: columns by name, encodings, per-line checks, grouping.

Pure: no database. The files are synthetic (``carnet.demo.directory_extract``); the header
layouts are those the ANS publishes (52 and 56 columns).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from carnet.demo.directory_extract import directory_activities, synthetic_activities
from carnet.demo.population import generate_directory
from carnet.interop import service as interop_service
from carnet.interop.directory.columns import COLUMNS, normalise_header, read_header
from carnet.interop.directory.grouping import batches
from carnet.interop.directory.reader import ExtractReader
from carnet.interop.errors import DirectoryFileError
from carnet.interop.schemas import LineError

DATA = Path(__file__).parent / "data"
BAD_LINES = DATA / "PS_LibreAcces_Personne_activite_bad_lines.txt"


def write(path: Path, rows, *, current: bool = True, encoding: str = "utf-8", bom: bool = False):
    buffer = io.StringIO()
    interop_service.write_extract(buffer, rows, current=current)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def read_all(path: Path, size: int = 2):
    with ExtractReader(path) as reader:
        return list(batches(reader.lines(), reader.header, size=size)), reader.header


def test_both_layouts_map_every_column_by_name(tmp_path: Path) -> None:
    for current, width in ((False, 52), (True, 56)):
        path = write(tmp_path / f"{width}.txt", synthetic_activities(5, seed=3), current=current)
        with ExtractReader(path) as reader:
            assert reader.header.width == width
            assert reader.header.unknown == ()
            assert set(reader.header.positions) == set(list(COLUMNS)[:width])


def test_header_names_are_compared_without_case_accents_or_elisions() -> None:
    assert normalise_header("Libellé civilité d'exercice") == normalise_header(
        "LIBELLE CIVILITE EXERCICE"
    )
    assert normalise_header("Code département (coord. Structure)") == normalise_header(
        "code departement (coord. structure)"
    )
    header = read_header(
        [
            "IDENTIFIANT PP",
            "type d’identifiant pp",
            "NOM D'EXERCICE",
            "code profession",
            "Extra",
            "",
        ]
    )
    assert header.positions == {"pp_id": 0, "pp_id_type": 1, "family_name": 2, "profession_code": 3}
    assert header.unknown == ("Extra",)
    assert header.width == 5  # the trailing "|" adds no column


def test_shuffled_columns_are_read_by_name(tmp_path: Path) -> None:
    path = write(tmp_path / "x.txt", synthetic_activities(6, seed=3))
    lines = path.read_text().splitlines()
    order = list(range(56))[::-1]
    shuffled = ["|".join(line.split("|")[i] for i in order) + "|" for line in lines]
    (tmp_path / "shuffled.txt").write_text("\n".join(shuffled) + "\n")
    plain = [g.resources() for b in read_all(path)[0] for g in b.groups]
    again = [g.resources() for b in read_all(tmp_path / "shuffled.txt")[0] for g in b.groups]
    assert plain == again


def test_missing_required_columns_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.txt"
    path.write_text("Nom|Prénom|\nA|B|\n")
    with pytest.raises(DirectoryFileError) as caught:
        ExtractReader(path)
    assert "Identifiant PP" in caught.value.message
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DirectoryFileError):
        ExtractReader(tmp_path / "empty.txt")
    (tmp_path / "csv.txt").write_text("a,b,c\n")
    with pytest.raises(DirectoryFileError):
        ExtractReader(tmp_path / "csv.txt")


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp1252", False)]
)
def test_encodings(tmp_path: Path, encoding: str, bom: bool) -> None:
    rows = list(directory_activities(generate_directory(seed=1)))[:6]
    path = write(tmp_path / "e.txt", rows, encoding=encoding, bom=bom)
    found, _ = read_all(path)
    names = [g.professional.given_name for b in found for g in b.groups]
    assert names == [row["given_name"] for row in rows]
    assert any(not name.isascii() for name in names)  # accents survived
    legacy = sum(b.legacy_encoded for b in found)
    assert (legacy > 0) is (encoding != "utf-8")


def test_each_bad_line_is_reported_with_its_column_and_rule() -> None:
    found, _ = read_all(BAD_LINES, size=100)
    errors = [error for batch in found for error in batch.errors]
    assert [(e.line, e.field) for e in errors] == [
        (6, "Identifiant PP"),
        (7, "Code profession"),
        (8, "Numéro FINESS site"),
        (9, "Type d'identifiant PP"),
        (10, "Identification nationale PP"),
        (11, "Numéro SIRET site"),
        (12, "Code type savoir-faire"),
        (13, "Nom d'exercice"),
        (14, "-"),
    ]
    reasons = {e.field: e.reason for e in errors}
    assert reasons["Identifiant PP"] == "not 11 digits with a valid Luhn check digit"
    assert reasons["Code profession"] == "not a TRE_G15 health profession code"
    assert reasons["-"] == "30 fields where the header has 56"
    text = BAD_LINES.read_text()
    for error in errors:  # a report never quotes the line's values
        assert all(
            value not in error.reason
            for value in text.splitlines()[error.line - 1].split("|")
            if len(value) > 3
        )
    assert sum(b.lines for b in found) == 13
    assert all(isinstance(e, LineError) for e in errors)


def test_a_professional_s_lines_make_one_practitioner_and_merged_roles(tmp_path: Path) -> None:
    rows = list(synthetic_activities(40, seed=11))
    first = rows[0]
    # The same activity twice, with another savoir-faire and mode: one role.
    twin = first | {"savoir_faire_code": "SM26", "mode_code": "S", "mode_label": "Salarié"}
    path = write(tmp_path / "g.txt", [first, twin, *rows[1:]])
    found, _ = read_all(path, size=1000)
    (batch,) = found
    group = batch.groups[0]
    assert group.first_line == 2
    practitioners = {g.national_id for g in batch.groups}
    assert len(practitioners) == len(batch.groups)  # consecutive lines grouped
    role = next(r for r in group.resources() if r["resourceType"] == "PractitionerRole")
    assert {c["coding"][0]["code"] for c in role["code"]} >= {first["mode_code"], "S"}
    if first.get("savoir_faire_code"):
        assert len(role["specialty"]) == 2


def test_batches_never_split_a_professional(tmp_path: Path) -> None:
    path = write(tmp_path / "b.txt", synthetic_activities(300, seed=5))
    found, _ = read_all(path, size=7)
    seen: set[str] = set()
    previous_end = 1
    for batch in found:
        ids = [g.national_id for g in batch.groups]
        assert not seen & set(ids)
        seen |= set(ids)
        assert batch.lines >= 7 or batch is found[-1]
        assert batch.end_line >= previous_end
        previous_end = batch.end_line
    assert sum(b.lines for b in found) == 300
    assert found[-1].end_line == 301


def test_the_sample_is_the_generator_s_output() -> None:
    buffer = io.StringIO()
    rows = list(directory_activities(generate_directory(seed=1)))
    interop_service.write_extract(buffer, [*rows, *synthetic_activities(350, seed=1)])
    assert interop_service.SAMPLE_EXTRACT.read_text() == buffer.getvalue()


def test_synthetic_professionals_cannot_be_real() -> None:
    for row in synthetic_activities(2000, seed=2):
        if row["pp_id_type"] == "8":
            assert row["pp_id"].startswith("999")
        else:
            assert row["pp_id"].startswith("00")  # département 00 does not exist
        for key in ("finess_site", "finess_legal"):
            assert not row.get(key) or row[key].startswith("00")
        assert not row.get("siren") or row["siren"].startswith("000")
        assert not row.get("phone") or row["phone"].startswith("019900")


def test_the_writer_refuses_values_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="separator"):
        interop_service.write_extract(io.StringIO(), [{"family_name": "A|B"}])
