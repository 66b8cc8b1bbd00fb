"""``carnet enrollment``: write a synthetic registry file, import it, again, with bad lines."""

from __future__ import annotations

from pathlib import Path


def test_sample_then_import_twice(carnet, tmp_path: Path) -> None:
    path = tmp_path / "registry.txt"
    assert "120 lines written" in carnet("enrollment", "sample", str(path), "--lines", "120")
    first = carnet("enrollment", "import", str(path), "--batch-lines", "50")
    assert "run 1: finished" in first
    assert "120 lines read, 0 rejected" in first
    assert "│ 120 " in first
    second = carnet("enrollment", "import", str(path))
    assert "run 2: finished" in second
    assert "│ 0 " in second
    # Output names nobody: no NIR, no name.
    values = path.read_text().splitlines()[1].split("|")
    for value in (values[0], values[5]):
        assert value not in first + second


def test_bad_lines_go_to_the_report(carnet, tmp_path: Path) -> None:
    path = tmp_path / "registry.txt"
    report = tmp_path / "rejected.csv"
    carnet("enrollment", "sample", str(path), "--lines", "100", "--bad-every", "10", "--seed", "2")
    output = carnet("enrollment", "import", str(path), "--report", str(report))
    assert "100 lines read, 10 rejected" in output
    assert str(report) in output.replace("\n", "")
    assert report.read_text().splitlines()[0] == "line,column,rule,reason"
    assert len(report.read_text().splitlines()) == 11


def test_the_same_seed_writes_the_same_file(carnet, tmp_path: Path) -> None:
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    carnet("enrollment", "sample", str(one), "--lines", "30", "--seed", "4")
    carnet("enrollment", "sample", str(two), "--lines", "30", "--seed", "4")
    assert one.read_bytes() == two.read_bytes()


def test_a_file_that_is_not_a_registry_file(carnet, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("hello|world\n")
    assert "missing columns" in carnet("enrollment", "import", str(other), code=1)


def test_letters_print_writes_batches_once(carnet, tmp_path: Path, monkeypatch) -> None:
    path, out_dir = tmp_path / "registry.txt", tmp_path / "letters"
    carnet("enrollment", "sample", str(path), "--lines", "120")
    carnet("enrollment", "import", str(path))
    carnet("enrollment", "campaign", "start", "--departements", "31,80", "--date", "2026-01-01")
    carnet("jobs", "run")
    # The letter's link must be https: refused before anything is written or marked.
    assert "must be https" in carnet("enrollment", "letters", "print", str(out_dir), code=2)
    monkeypatch.setenv("CARNET_PUBLIC_BASE_URL", "https://carnet.example.fr")
    first = carnet("enrollment", "letters", "print", str(out_dir), "--batch-size", "2")
    assert "5 letters in 3 files" in first
    files = sorted(out_dir.iterdir())
    assert len(files) == 3
    assert all(str(f) in first.replace("\n", "") for f in files)
    assert "0 letters in 0 files" in carnet("enrollment", "letters", "print", str(out_dir))
    assert sorted(out_dir.iterdir()) == files
    values = path.read_text().splitlines()[1].split("|")
    for value in (values[0], values[5]):
        assert value not in first
