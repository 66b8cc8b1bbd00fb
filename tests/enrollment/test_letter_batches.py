"""Print batches end to end on a real database: a campaign over a generated registry leaves
people due a letter (no e-mail, or a bounce); printing them writes one page each across merged
PDFs, marks them informed, and the code printed opens their space."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
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
