"""The directory import end to end, on a database of its own (SQLite or PostgreSQL tier):
creation, idempotent re-import, changes, removals, bad lines, crashes and resumption."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from tests.conftest import make_settings

from carnet.demo.directory_extract import directory_activities, synthetic_activities
from carnet.demo.population import generate_directory
from carnet.identity import service as identity_service
from carnet.interop import models
from carnet.interop import service as interop_service
from carnet.interop.directory.grouping import batches
from carnet.interop.directory.reader import ExtractReader
from carnet.interop.errors import DirectoryFileError, ImportAlreadyRunning
from carnet.record.errors import ResourceNotFound
from carnet.runtime import Runtime, build_runtime

DATA = Path(__file__).parent / "data"


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(
        make_settings(fresh_database_url, tmp_path / "var"), configure_logs=False
    )
    yield runtime
    runtime.close()


def extract(path: Path, rows) -> Path:
    buffer = io.StringIO()
    interop_service.write_extract(buffer, rows)
    path.write_text(buffer.getvalue())
    return path


def run(rt: Runtime, path: Path, **options) -> interop_service.ImportReport:
    options.setdefault("batch_lines", 25)
    return interop_service.import_directory(
        source=path,
        record=rt.record,
        ctx=rt.carnet_context(),
        transaction=rt.transaction,
        **options,
    )


def read(rt: Runtime, resource_type: str, resource_id: str) -> dict:
    with rt.carnet_repository() as repo:
        stored = repo.read(resource_type, resource_id)
    return orjson.loads(stored.body) | {"_version": stored.version}


def versions(rt: Runtime, resource_type: str, resource_id: str) -> int:
    with rt.carnet_repository() as repo:
        return len(repo.history(resource_type, resource_id))


def entry_ids(rt: Runtime, resource_type: str) -> list[str]:
    table = models.directory_entry
    with rt.transaction(readonly=True) as db:
        rows = db.execute(select(table.c.resource_id).where(table.c.resource_type == resource_type))
        return sorted(row[0] for row in rows)


def audit_events(rt: Runtime) -> int:
    from carnet.audit import models as audit_models

    with rt.transaction(readonly=True) as db:
        return db.execute(select(func.count()).select_from(audit_models.event)).scalar_one()


def test_import_then_reimport_unchanged(rt: Runtime, tmp_path: Path) -> None:
    path = extract(tmp_path / "a.txt", synthetic_activities(120, seed=21))
    first = run(rt, path)
    assert first.status == "finished"
    assert first.lines_read == 120
    assert first.lines_rejected == 0
    created = {name: counts.created for name, counts in first.counts.items()}
    assert all(created.values())
    practitioners = entry_ids(rt, "Practitioner")
    assert len(practitioners) == created["Practitioner"]
    practitioner = read(rt, "Practitioner", practitioners[0])
    assert (
        rt.record.validator.validate({k: v for k, v in practitioner.items() if k != "_version"})
        == []
    )
    events = audit_events(rt)

    again = run(rt, path)
    assert again.run == first.run + 1
    assert again.total("created") == again.total("updated") == 0
    assert again.total("unchanged") == sum(created.values())
    assert audit_events(rt) == events  # nothing was rewritten, so nothing was audited
    assert versions(rt, "Practitioner", practitioners[0]) == 1


def test_a_changed_line_gives_new_versions_of_what_changed_only(
    rt: Runtime, tmp_path: Path
) -> None:
    rows = list(synthetic_activities(60, seed=22))
    run(rt, extract(tmp_path / "a.txt", rows))
    target = rows[0]
    changed = [
        row | {"family_name": "NOUVEAU"} if row["pp_id"] == target["pp_id"] else row for row in rows
    ]
    report = run(rt, extract(tmp_path / "b.txt", changed))
    assert report.counts["Practitioner"].updated == 1
    assert report.counts["PractitionerRole"].updated == 0
    assert report.counts["Organization"].updated == 0
    kind = identity_service.ProfessionalIdKind(target["pp_id_type"])
    pid = identity_service.practitioner_id(identity_service.ProfessionalId(kind, target["pp_id"]))
    practitioner = read(rt, "Practitioner", pid)
    assert practitioner["name"][0]["family"] == "NOUVEAU"
    assert practitioner["_version"] == 2


def test_removals_make_resources_inactive_and_returns_reactivate(
    rt: Runtime, tmp_path: Path
) -> None:
    rows = list(synthetic_activities(80, seed=23))
    run(rt, extract(tmp_path / "all.txt", rows))
    leaving = rows[0]["pp_id"]
    kept = [row for row in rows if row["pp_id"] != leaving]
    report = run(rt, extract(tmp_path / "kept.txt", kept))
    assert report.status == "finished"
    assert report.counts["Practitioner"].deactivated == 1
    assert report.counts["PractitionerRole"].deactivated >= 1
    inactive = [
        pid
        for pid in entry_ids(rt, "Practitioner")
        if read(rt, "Practitioner", pid)["active"] is False
    ]
    assert len(inactive) == 1
    assert versions(rt, "Practitioner", inactive[0]) == 2  # a new version, not a deletion

    # A partial extract never deactivates; the professional's return reactivates them.
    partial = run(rt, extract(tmp_path / "one.txt", rows[:1]), mode="partial")
    assert partial.counts["Practitioner"].updated == 1
    assert partial.total("deactivated") == 0
    assert read(rt, "Practitioner", inactive[0])["active"] is True


def test_a_suspiciously_large_removal_is_held(rt: Runtime, tmp_path: Path) -> None:
    rows = list(synthetic_activities(80, seed=24))
    run(rt, extract(tmp_path / "all.txt", rows))
    report = run(rt, extract(tmp_path / "cut.txt", rows[:10]))  # a truncated download
    assert report.status == "removals-held"
    assert report.held_deactivations > 0
    assert report.total("deactivated") == 0
    allowed = run(rt, extract(tmp_path / "cut2.txt", rows[:10]), max_deactivation_share=1.0)
    assert allowed.status == "finished"
    assert allowed.total("deactivated") == report.held_deactivations


def test_bad_lines_are_reported_and_write_nothing(rt: Runtime, tmp_path: Path) -> None:
    report_path = tmp_path / "rejected.csv"
    bad = DATA / "PS_LibreAcces_Personne_activite_bad_lines.txt"
    report = run(rt, bad, report_path=report_path)
    assert report.lines_read == 13
    assert report.lines_rejected == 9
    lines = report_path.read_text().splitlines()
    assert lines[0] == "line,column,reason"
    assert [line.split(",")[0] for line in lines[1:]] == [str(n) for n in range(6, 15)]
    # Exactly what the four good lines describe was written, nothing of the nine others.
    good = bad.read_text().splitlines()[:5]
    (tmp_path / "good.txt").write_text("\n".join(good) + "\n")
    with ExtractReader(tmp_path / "good.txt") as reader:
        expected = [
            resource
            for batch in batches(reader.lines(), reader.header, size=100)
            for group in batch.groups
            for resource in group.resources()
        ]
    for name in interop_service.DIRECTORY_TYPES:
        ids = sorted({r["id"] for r in expected if r["resourceType"] == name})
        assert entry_ids(rt, name) == ids
    # The line whose RPPS fails Luhn created no Practitioner under the number it meant.
    broken = bad.read_text().splitlines()[5].split("|")[1]
    meant = identity_service.ProfessionalId(
        identity_service.ProfessionalIdKind.RPPS, identity_service.luhn_complete(broken[:-1])
    )
    if identity_service.practitioner_id(meant) not in entry_ids(rt, "Practitioner"):
        with pytest.raises(ResourceNotFound):
            read(rt, "Practitioner", identity_service.practitioner_id(meant))


def test_a_file_that_is_not_an_extract_records_no_run(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("nom;prenom\n")
    with pytest.raises(DirectoryFileError):
        run(rt, path)
    with rt.transaction(readonly=True) as db:
        assert db.execute(select(func.count()).select_from(models.directory_run)).scalar_one() == 0


def test_a_crash_mid_import_resumes_where_it_stopped(rt: Runtime, tmp_path: Path) -> None:
    path = extract(tmp_path / "a.txt", synthetic_activities(200, seed=25))
    report_path = tmp_path / "r.csv"
    calls = 0

    def crash(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        run(rt, path, progress=crash, report_path=report_path)
    done = len(entry_ids(rt, "PractitionerRole"))
    assert done > 0
    with rt.transaction(readonly=True) as db:
        assert db.execute(select(models.directory_run.c.status)).scalar_one() == "interrupted"
    # A run that looks alive (a recent batch, not interrupted) blocks a second import...
    with rt.transaction() as db:
        db.execute(models.directory_run.update().values(status="running"))
    with pytest.raises(ImportAlreadyRunning):
        run(rt, path)
    # ...until its heartbeat is old (a killed process): then it resumes the same run.
    with rt.transaction() as db:
        db.execute(
            models.directory_run.update().values(
                updated_at=rt.clock.now() - interop_service.STALE_AFTER * 2
            )
        )
    resumed = run(rt, path, report_path=report_path)
    assert resumed.resumed
    assert resumed.run == 1
    assert resumed.status == "finished"
    assert resumed.lines_read == 200
    whole = run(rt, extract(tmp_path / "b.txt", synthetic_activities(200, seed=25)))
    assert whole.total("created") == whole.total("updated") == 0  # resumption missed nothing


def test_the_demo_directory_and_its_extract_are_the_same_resources(
    rt: Runtime, tmp_path: Path
) -> None:
    directory = generate_directory(seed=1)
    path = extract(tmp_path / "demo.txt", directory_activities(directory))
    report = run(rt, path)
    assert report.counts["Practitioner"].created == len(directory.practitioners)
    assert sorted(entry_ids(rt, "Practitioner")) == sorted(p["id"] for p in directory.practitioners)
    assert sorted(entry_ids(rt, "Organization")) == sorted(o["id"] for o in directory.organizations)
    assert sorted(entry_ids(rt, "PractitionerRole")) == sorted(
        r["id"] for r in directory.practitioner_roles
    )


def test_a_professional_whose_resources_would_be_invalid_is_rejected_whole(
    rt: Runtime, tmp_path: Path
) -> None:
    rows = list(synthetic_activities(40, seed=26))
    victim = rows[0]["pp_id"]
    # Passes the line checks, but "A  B" is not a FHIR code (one space between words at most).
    odd = [
        row | {"sector_code": "SA  07"}
        if row["pp_id"] == victim and row.get("sector_code")
        else row
        for row in rows
    ]
    victim_lines = sum(row["pp_id"] == victim for row in rows)
    report = run(rt, extract(tmp_path / "odd.txt", odd), report_path=tmp_path / "r.csv")
    assert report.lines_rejected == victim_lines
    (error,) = (tmp_path / "r.csv").read_text().splitlines()[1:]
    assert error.startswith("2,-,the lines of this professional would make an invalid Organization")
    kind = identity_service.ProfessionalIdKind(rows[0]["pp_id_type"])
    pid = identity_service.practitioner_id(identity_service.ProfessionalId(kind, victim))
    assert pid not in entry_ids(rt, "Practitioner")
    assert len(entry_ids(rt, "Practitioner")) == len({r["pp_id"] for r in rows}) - 1


def test_a_refused_write_rolls_the_whole_batch_back(rt: Runtime, tmp_path: Path) -> None:
    from carnet.access.service import AccessContext, ScopeSet
    from carnet.core.actor import CARNET
    from carnet.interop.errors import BatchFailed

    read_only = AccessContext(actor=CARNET, scopes=ScopeSet.parse("system/*.rs"))
    path = extract(tmp_path / "a.txt", synthetic_activities(30, seed=27))
    with pytest.raises(BatchFailed):
        interop_service.import_directory(
            source=path, record=rt.record, ctx=read_only, transaction=rt.transaction
        )
    assert entry_ids(rt, "Organization") == []
    with rt.transaction(readonly=True) as db:
        (lines_done,) = db.execute(select(models.directory_run.c.lines_done)).one()
    assert lines_done == 0
