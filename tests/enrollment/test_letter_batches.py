"""Print batches end to end on a real database: a campaign over a generated registry leaves
people due a letter (no e-mail, or a bounce); printing them writes one page each across merged
PDFs, marks them informed, and the code printed opens their space."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select
from tests.conftest import make_settings
from tests.enrollment.conftest import write_file
from tests.enrollment.pdf_reader import pages, read_pdf, texts
from tests.enrollment.test_campaigns import (
    CODE,
    Row,
    holders,
    id_of,
    run_jobs,
    start,
    status_of,
    use,
)

from carnet.audit import models as audit_models
from carnet.core.clock import FrozenClock
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import letter_batches, models
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.letters import french_date
from carnet.runtime import Runtime, build_runtime

Status = enrollment_service.BeneficiaryStatus
BASE_URL = "https://carnet.example.fr"


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on its own database, public over https (letters link there only), with a clock
    the tests move and small campaign steps."""
    settings = make_settings(
        fresh_database_url,
        tmp_path / "var",
        public_base_url=BASE_URL,
        enrollment={"campaign_batch": 3},
    )
    clock = FrozenClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    runtime = build_runtime(settings, clock=clock, configure_logs=False)
    yield runtime
    runtime.close()


@pytest.fixture
def due(rt: Runtime, tmp_path: Path) -> list[Row]:
    """A campaign over an imported registry of 80 lines, one e-mail bounced: the rows of the
    holders now due a letter."""
    rows = list(synthetic_registry(80, seed=5))
    enrollment_service.import_registry(
        source=write_file(tmp_path / "registry.txt", rows),
        storage=rt.storage,
        audit=rt.audit,
        transaction=rt.transaction,
    )
    start(rt)
    run_jobs(rt)
    bounced = next(r for r in holders(rows) if r["email"])
    with rt.transaction() as db:
        [(notice_id, _, _)] = rt.enrollment.notices(db, beneficiary_id=id_of(rt, bounced["nir"]))
        assert rt.enrollment.record_bounce(db, notice_id=notice_id)
    letter_due = [r for r in holders(rows) if status_of(rt, r["nir"]) is Status.LETTER_DUE]
    assert bounced in letter_due
    assert len(letter_due) == len([r for r in holders(rows) if not r["email"]]) + 1
    return letter_due


def print_letters(
    rt: Runtime, out_dir: Path, batch_size: int = 4
) -> enrollment_service.LettersPrinted:
    return rt.enrollment.print_letters(rt.transaction, out_dir, batch_size=batch_size)


def page_lines(files: tuple[Path, ...]) -> list[list[str]]:
    """The text lines of every page of ``files``, in order."""
    data = [path.read_bytes() for path in files]
    assert all(d.startswith(b"%PDF") for d in data)
    return [[t.text for t in texts(c)] for d in data for c in pages(read_pdf(d))]


def page_of(row: Row, all_pages: list[list[str]]) -> list[str]:
    family = (row["nom_usage"] or row["nom_naissance"]).upper()
    (page,) = [
        lines
        for lines in all_pages
        if any(family in line and row["prenoms"] in line for line in lines)
        and row["adresse"] in lines
    ]
    return page


def test_each_person_due_gets_one_page_and_the_code_on_it_works(
    rt: Runtime, due: list[Row], tmp_path: Path
) -> None:
    out_dir = tmp_path / "letters"
    printed = print_letters(rt, out_dir)

    assert printed.letters == len(due)
    assert printed.skipped == 0
    assert len(printed.files) == -(-len(due) // 4)  # batches of at most 4
    assert sorted(out_dir.iterdir()) == sorted(printed.files)  # no temporary file left
    all_pages = page_lines(printed.files)
    assert len(all_pages) == len(due)
    for row in due:
        page = page_of(row, all_pages)
        [code] = [line for line in page if CODE.fullmatch(line)]
        assert f"{BASE_URL}/activation" in " ".join(page)
        assert "Date limite d’opposition : 7 janvier 2027" in page  # the campaign's own
        assert status_of(rt, row["nir"]) is Status.NOTIFIED
        with rt.transaction(readonly=True) as db:
            notices = rt.enrollment.notices(db, beneficiary_id=id_of(rt, row["nir"]))
        assert notices[-1][2] == "letter-sent"
        assert use(rt, row["nir"], code) == id_of(rt, row["nir"])

    # File names carry the campaign and the batch number, never a person.
    for path in printed.files:
        assert re.fullmatch(r"letters-[0-9a-f-]{36}-\d{4}\.pdf", path.name)
        words = set(re.findall(r"\w+", path.name.lower()))
        for row in due:
            named = {row["nir"], row["nom_naissance"], row["nom_usage"], row["prenoms"]}
            assert not words & {value.lower() for value in named if value}
    with rt.transaction(readonly=True) as db:
        details = db.execute(
            select(audit_models.event.c.detail).where(
                audit_models.event.c.tag == "enrollment:letter:batch"
            )
        ).scalars()
        batches = [json.loads(detail) for detail in details]
    assert [b["batch"] for b in batches] == list(range(1, len(printed.files) + 1))
    assert sum(b["letters"] for b in batches) == len(due)


def test_printing_again_prints_nothing(rt: Runtime, due: list[Row], tmp_path: Path) -> None:
    first = print_letters(rt, tmp_path / "first")
    assert first.letters == len(due)
    again = print_letters(rt, tmp_path / "again")
    assert (again.files, again.letters) == ((), 0)
    assert list((tmp_path / "again").iterdir()) == []


def test_a_late_letter_gives_the_whole_opposition_window(
    rt: Runtime, due: list[Row], tmp_path: Path
) -> None:
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(days=30))  # the campaign's window ends in 12 days
    printed = print_letters(rt, tmp_path / "letters", batch_size=100)
    deadline = date(2026, 12, 26) + timedelta(days=rt.settings.enrollment.opposition_days)
    all_pages = page_lines(printed.files)
    assert len(all_pages) == len(due)
    for page in all_pages:
        assert f"Date limite d’opposition : {french_date(deadline)}" in page
        assert "Date limite d’opposition : 7 janvier 2027" not in page
    assert len(printed.files) == 1
    assert printed.letters == len(due)


def marked(rt: Runtime) -> dict[str, str]:
    """Who is marked informed by a letter: beneficiary id → the print batch named."""
    with rt.transaction(readonly=True) as db:
        found = db.execute(
            select(models.notice.c.beneficiary_id, models.notice.c.letter_batch).where(
                models.notice.c.status == "letter-sent"
            )
        ).all()
    return {str(row[0]): str(row[1]) for row in found}


def pages_in(out_dir: Path, row: Row) -> list[str]:
    """The finished files of ``out_dir`` that hold a page for ``row`` (once per page)."""
    family = (row["nom_usage"] or row["nom_naissance"]).upper()
    return [
        path.name
        for path in sorted(out_dir.glob("letters-*.pdf"))
        for lines in page_lines((path,))
        if any(family in line and row["prenoms"] in line for line in lines)
        and row["adresse"] in lines
    ]


def crashing_on_batch(rt: Runtime, number: int):
    """A transaction factory whose ``number``-th batch transaction fails at its very end, after
    the batch's file is written (the first transaction lists the campaigns)."""
    opened = 0

    @contextmanager
    def transaction() -> Iterator[Connection]:
        nonlocal opened
        opened += 1
        with rt.transaction() as db:
            yield db
            if opened == number + 1:
                raise ConnectionResetError("the database went away before the commit")

    return transaction


def check_after_crash(rt: Runtime, due: list[Row], out_dir: Path) -> None:
    """Nobody marked informed without a page in a finished file of the batch named; no
    unfinished file."""
    assert not list(out_dir.glob(".*partial"))
    informed = marked(rt)
    assert 0 < len(informed) < len(due)
    for row in due:
        person = id_of(rt, row["nir"])
        if person in informed:
            assert pages_in(out_dir, row) == [f"letters-{informed[person]}.pdf"]
            assert status_of(rt, row["nir"]) is Status.NOTIFIED
        else:
            assert status_of(rt, row["nir"]) is Status.LETTER_DUE


def check_rerun(rt: Runtime, due: list[Row], out_dir: Path) -> None:
    """The rerun prints each remaining letter once: everyone has exactly one page, in the
    batch their notice names, and the code on it works."""
    print_letters(rt, out_dir)
    assert not list(out_dir.glob(".*partial"))
    informed = marked(rt)
    assert len(informed) == len(due)
    for row in due:
        person = id_of(rt, row["nir"])
        assert pages_in(out_dir, row) == [f"letters-{informed[person]}.pdf"]
        [page] = [
            lines
            for lines in page_lines((out_dir / f"letters-{informed[person]}.pdf",))
            if row["adresse"] in lines and row["prenoms"] in " ".join(lines)
        ]
        [code] = [line for line in page if CODE.fullmatch(line)]
        assert use(rt, row["nir"], code) == person


def test_a_batch_whose_file_fails_midway_marks_nobody_and_the_rerun_prints_the_rest(
    rt: Runtime, due: list[Row], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = tmp_path / "letters"
    batches = 0
    real_render = letter_batches.render_batch

    def disk_full_on_second_batch(letters: list[Any], out: Any) -> int:
        nonlocal batches
        batches += 1
        if batches == 2:
            real_render(letters[:1], out)  # part of the file is on disk, then the disk fills
            raise OSError(28, "No space left on device")
        return real_render(letters, out)

    monkeypatch.setattr(letter_batches, "render_batch", disk_full_on_second_batch)
    with pytest.raises(OSError, match="No space"):
        print_letters(rt, out_dir)
    [first_batch] = set(marked(rt).values())
    assert [p.name for p in out_dir.iterdir()] == [f"letters-{first_batch}.pdf"]
    check_after_crash(rt, due, out_dir)
    monkeypatch.undo()
    check_rerun(rt, due, out_dir)


def test_a_batch_whose_commit_fails_marks_nobody_and_the_rerun_prints_it_again(
    rt: Runtime, due: list[Row], tmp_path: Path
) -> None:
    out_dir = tmp_path / "letters"
    with pytest.raises(ConnectionResetError):
        rt.enrollment.print_letters(crashing_on_batch(rt, 2), out_dir, batch_size=4)
    # The second file was written, then its transaction failed: its people are still due.
    files = sorted(out_dir.glob("letters-*.pdf"))
    assert len(files) == 2
    check_after_crash(rt, due, out_dir)
    orphan = page_lines((files[1],))
    orphan_rows = [r for r in due if any(r["adresse"] in lines for lines in orphan)]
    orphan_codes = [line for lines in orphan for line in lines if CODE.fullmatch(line)]
    assert orphan_rows and len(orphan_codes) == len(orphan_rows)

    check_rerun(rt, due, out_dir)  # rewrites the orphan's name with fresh codes
    assert sorted(out_dir.glob("letters-*.pdf"))[1].name == files[1].name
    for row in orphan_rows:  # the orphaned file's codes were retired by the reprint
        assert all(use(rt, row["nir"], code) is None for code in orphan_codes)
