"""``carnet directory``: import the shipped sample, again, a bad file; write synthetic extracts."""

from __future__ import annotations

from pathlib import Path

from carnet.interop import service as interop_service

BAD_LINES = (
    Path(__file__).parents[1] / "interop" / "data" / "PS_LibreAcces_Personne_activite_bad_lines.txt"
)


def test_importing_the_sample_twice(carnet, tmp_path: Path) -> None:
    sample = str(interop_service.SAMPLE_EXTRACT)
    first = carnet("directory", "import", sample)
    assert "run 1 (full): finished" in first
    assert "503 lines read, 0 rejected" in first
    second = carnet("directory", "import", sample, "--batch-lines", "100")
    assert "run 2 (full): finished" in second
    assert "│ 0 " in second  # nothing created or updated
    # Output names no professional: no RPPS number, no name.
    text = interop_service.SAMPLE_EXTRACT.read_text().splitlines()[1].split("|")
    for value in (text[1], text[7]):
        assert value not in first + second


def test_rejected_lines_go_to_the_report(carnet, tmp_path: Path) -> None:
    report = tmp_path / "rejected.csv"
    output = carnet("directory", "import", str(BAD_LINES), "--partial", "--report", str(report))
    assert "13 lines read, 9 rejected" in output
    assert str(report) in output.replace("\n", "")
    assert len(report.read_text().splitlines()) == 10


def test_a_file_that_is_not_an_extract(carnet, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("hello|world|\n")
    output = carnet("directory", "import", str(other), code=1)
    assert "missing columns" in output


def test_held_removals_exit_with_an_error(carnet, tmp_path: Path) -> None:
    full = tmp_path / "full.txt"
    cut = tmp_path / "cut.txt"
    carnet("directory", "sample", str(full), "--lines", "60")
    carnet("directory", "import", str(full))
    lines = full.read_text().splitlines()
    cut.write_text("\n".join(lines[:6]) + "\n")
    output = carnet("directory", "import", str(cut), code=1)
    assert "nothing was deactivated" in output
    assert "removals-held" in output


def test_sample_writes_both_layouts(carnet, tmp_path: Path) -> None:
    current = tmp_path / "current.txt"
    legacy = tmp_path / "legacy.txt"
    assert "153 lines" in carnet(
        "directory", "sample", str(current), "--lines", "0", "--demo-directory"
    )
    carnet("directory", "sample", str(legacy), "--lines", "10", "--legacy")
    assert current.read_text().splitlines()[0].count("|") == 56
    assert legacy.read_text().splitlines()[0].count("|") == 52
