"""The registry import end to end on a real database: creation, idempotent re-import, later
files (updates, additions, deaths), crashes and resumption, and what the tables hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.enrollment.conftest import write_file

from carnet.audit import models as audit_models
from carnet.demo.registry_extract import synthetic_registry
from carnet.enrollment import models
from carnet.enrollment import service as enrollment_service
from carnet.enrollment.errors import RegistryFileError, RegistryImportRunning
from carnet.runtime import Runtime
from carnet.storage.errors import DataKeyDestroyed

Status = enrollment_service.BeneficiaryStatus


def find(rt: Runtime, nir: str) -> enrollment_service.Beneficiary | None:
    with rt.transaction(readonly=True) as db:
        return enrollment_service.find_beneficiary(db, storage=rt.storage, nir=nir)


def count(rt: Runtime, **filters) -> int:
    with rt.transaction(readonly=True) as db:
        return enrollment_service.count_beneficiaries(db, **filters)


def raw_rows(rt: Runtime) -> dict[str, tuple]:
    """Every stored column of every beneficiary but the run bookkeeping, by id."""
    table = models.beneficiary
    with rt.transaction(readonly=True) as db:
        rows = db.execute(select(table)).mappings().all()
    ignored = {"seen_run", "seen_line"}
    return {row["id"]: tuple(v for k, v in row.items() if k not in ignored) for row in rows}


def registry_events(rt: Runtime) -> list[dict]:
    event = audit_models.event
    with rt.transaction(readonly=True) as db:
        rows = db.execute(
            select(event.c.chain_id, event.c.detail).where(
                event.c.tag == "enrollment:registry:import"
            )
        ).all()
    assert {row.chain_id for row in rows} <= {"_system"}
    return [row.detail for row in rows]


def test_a_generated_file_is_imported_and_importing_it_again_changes_nothing(
    rt: Runtime, importer, tmp_path: Path
) -> None:
    rows = list(synthetic_registry(60, seed=3))
    path = write_file(tmp_path / "registry.txt", rows)
    first = importer(path)
    assert (first.status, first.lines_read, first.lines_rejected) == ("finished", 60, 0)
    assert (first.created, first.updated, first.unchanged) == (60, 0, 0)
    assert count(rt) == 60
    assert len(registry_events(rt)) == 9  # one per batch of 7 lines

    # A holder reads back exactly as listed, and their space's data key already exists.
    holder_row = rows[0]
    holder = find(rt, holder_row["nir"])
    assert holder is not None
    assert holder.status is Status.REGISTERED
    assert holder.holder_id is None
    assert holder.entry.birth_family_name == holder_row["nom_naissance"]
    assert holder.entry.given_names == holder_row["prenoms"]
    assert holder.entry.vitale_serial == holder_row["numero_serie_vitale"]
    assert holder.entry.birth_date.isoformat() == holder_row["date_naissance"]
    assert holder.departement == holder_row["departement"]
    with rt.transaction(readonly=True) as db:
        assert rt.storage.data_key(db, owner_id=holder.id).owner_id == holder.id
    # A child is attached to their holder's row.
    child_row = next(row for row in rows if row["nir_ouvrant_droit"])
    child = find(rt, child_row["nir"])
    parent = find(rt, child_row["nir_ouvrant_droit"])
    assert child is not None
    assert parent is not None
    assert child.holder_id == parent.id
    assert child.entry.holder_nir == parent.entry.nir

    before = raw_rows(rt)
    again = importer(path)
    assert again.run == first.run + 1
    assert (again.created, again.updated, again.unchanged) == (0, 0, 60)
    assert raw_rows(rt) == before  # not one sealed byte or timestamp rewritten


def test_a_later_file_updates_adds_and_marks_a_death(rt: Runtime, importer, tmp_path: Path) -> None:
    rows = list(synthetic_registry(40, seed=4))
    importer(write_file(tmp_path / "january.txt", rows))
    moved, dying = rows[0], rows[1]
    assert not moved["nir_ouvrant_droit"]
    assert not dying["nir_ouvrant_droit"]
    later = [
        {**moved, "adresse": "3 rue Neuve", "code_postal": "80000", "commune": "Amiens",
         "departement": "80"},
        {**dying, "date_deces": "2026-10-02"},
        *rows[2:],
        *list(synthetic_registry(50, seed=4))[40:],  # the same people, then ten newcomers
    ]  # fmt: skip
    report = importer(write_file(tmp_path / "february.txt", later))
    assert report.lines_rejected == 0
    assert (report.created, report.updated, report.unchanged, report.deceased) == (10, 2, 38, 1)
    assert count(rt) == 50

    updated = find(rt, moved["nir"])
    assert updated is not None
    assert (updated.entry.address, updated.departement) == ("3 rue Neuve", "80")
    assert count(rt, departement="80") >= 1
    dead = find(rt, dying["nir"])
    assert dead is not None
    assert dead.status is Status.DECEASED
    assert dead.entry.death_date is not None
    assert dead.entry.death_date.isoformat() == "2026-10-02"
    assert count(rt, status=Status.DECEASED) == 1

    # The January file again: the older address is applied (files are taken as they come),
    # but a line without the date of death does not revive anyone.
    stale = importer(tmp_path / "january.txt")
    assert (stale.lines_rejected, stale.updated) == (1, 1)
    assert find(rt, dying["nir"]).status is Status.DECEASED  # type: ignore[union-attr]
    assert find(rt, moved["nir"]).entry.address == moved["adresse"]  # type: ignore[union-attr]


def test_a_crash_mid_file_resumes_without_duplicates(rt: Runtime, importer, tmp_path: Path) -> None:
    path = write_file(tmp_path / "r.txt", synthetic_registry(90, seed=5, bad_every=10))
    report_path = tmp_path / "rejected.csv"
    calls = 0

    def crash(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        importer(path, progress=crash, report_path=report_path)
    assert 0 < count(rt) < 81
    with rt.transaction(readonly=True) as db:
        assert db.execute(select(models.registry_run.c.status)).scalar_one() == "interrupted"
    # A run that looks alive (a recent batch) keeps a second import out...
    with rt.transaction() as db:
        db.execute(models.registry_run.update().values(status="running"))
    with pytest.raises(RegistryImportRunning):
        importer(path)
    # ...until its heartbeat is old (a killed process): then the same run resumes.
    with rt.transaction() as db:
        db.execute(
            models.registry_run.update().values(
                updated_at=rt.clock.now() - enrollment_service.STALE_AFTER * 2
            )
        )
    resumed = importer(path, report_path=report_path)
    assert resumed.resumed
    assert (resumed.run, resumed.status, resumed.lines_read) == (1, "finished", 90)
    assert (resumed.created, resumed.lines_rejected) == (81, 9)
    assert count(rt) == 81
    reported = [line.split(",")[0] for line in report_path.read_text().splitlines()[1:]]
    assert reported == [str(n) for n in range(11, 92, 10)]  # each bad line once, in order
    assert importer(path).unchanged == 81  # nothing missed, nothing twice


def test_the_tables_hold_no_identifying_value_in_clear(
    rt: Runtime, importer, tmp_path: Path
) -> None:
    rows = list(synthetic_registry(30, seed=6))
    importer(write_file(tmp_path / "r.txt", rows))
    secrets: set[str] = set()
    for row in rows:
        secrets.update(row["nir"], row["numero_serie_vitale"], row["date_naissance"])
        secrets.update([row["nom_naissance"], *row["prenoms"].split()])
        secrets.update([row["email"], row["mobile"], row["adresse"]])
    secrets = {value for value in secrets if len(value) >= 4}
    dumped: list[bytes] = []
    with rt.transaction(readonly=True) as db:
        for table in (models.beneficiary, models.registry_run, audit_models.event):
            for row in db.execute(select(table)):
                dumped.extend(
                    value if isinstance(value, bytes) else str(value).encode() for value in row
                )
    blob = b"\x00".join(dumped)
    leaked = sorted(value for value in secrets if value.encode() in blob)
    assert leaked == []
    # The nir_index column is the blind index, not the NIR.
    with rt.transaction(readonly=True) as db:
        index = db.execute(select(models.beneficiary.c.nir_index).limit(1)).scalar_one()
    assert len(index) == 32


def test_erasing_a_persons_key_erases_their_registry_data(
    rt: Runtime, importer, tmp_path: Path
) -> None:
    rows = list(synthetic_registry(5, seed=7))
    importer(write_file(tmp_path / "r.txt", rows))
    person = find(rt, rows[0]["nir"])
    assert person is not None
    with rt.transaction() as db:
        assert rt.storage.destroy_data_key(db, owner_id=person.id)
    with pytest.raises(DataKeyDestroyed):
        find(rt, rows[0]["nir"])
    changed = [{**rows[0], "adresse": "1 place Neuve"}, *rows[1:]]
    report_path = tmp_path / "rejected.csv"
    report = importer(write_file(tmp_path / "s.txt", changed), report_path=report_path)
    assert report.lines_rejected == 1
    assert report_path.read_text().splitlines()[1].startswith("2,nir,erased,")


def test_a_file_that_is_not_a_registry_records_no_run(
    rt: Runtime, importer, tmp_path: Path
) -> None:
    path = tmp_path / "other.txt"
    path.write_text("nir|nom\n123|X\n")
    with pytest.raises(RegistryFileError, match="missing columns"):
        importer(path)
    with rt.transaction(readonly=True) as db:
        assert db.execute(select(func.count()).select_from(models.registry_run)).scalar_one() == 0
