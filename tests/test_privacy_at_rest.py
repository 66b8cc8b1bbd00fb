"""A copy of the database reveals none of the demo patients' names, INS or birth dates.

The whole demo population goes through the real path (validation, encryption, blind indexes,
audit); then the SQLite file (with its WAL) or a ``pg_dump`` of the PostgreSQL database is read
as bytes and searched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from tests.conftest import make_settings

from carnet.demo import service as demo_service
from carnet.demo.population import generate_directory, generate_patients
from carnet.runtime import Runtime, build_runtime

SEED = 20_261_125
COUNT = 6


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _secrets(directory_names: set[str]) -> set[str]:
    """Every name, INS and birth date of the seeded patients, in the forms a leak would take."""
    found: set[str] = set()
    directory = generate_directory(seed=SEED)
    for person in generate_patients(COUNT, seed=SEED, directory=directory):
        resource = person.patient
        names = set()
        for name in resource.get("name", []):
            names.update([name.get("family", ""), *name.get("given", [])])
        for name in names - directory_names:
            if len(name) >= 4:
                found.update({name, _fold(name)})
        found.update(i["value"] for i in resource.get("identifier", []))
        found.add(resource["birthDate"])
    return {s for s in found if s}


def _directory_names() -> set[str]:
    names: set[str] = set()
    for practitioner in generate_directory(seed=SEED).practitioners:
        for name in practitioner.get("name", []):
            names.update([name.get("family", ""), *name.get("given", [])])
    return names


def _database_bytes(rt: Runtime) -> bytes:
    url = make_url(rt.database.url)
    if url.get_backend_name() == "sqlite":
        # The database file and its write-ahead log together hold every committed page.
        path = Path(str(url.database))
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed to check the PostgreSQL tier")
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--no-owner", plain], check=True, capture_output=True).stdout


def test_demo_database_copy_reveals_no_identity(fresh_database_url: str, tmp_path: Path) -> None:
    # A database of its own: what is searched is what the demo seed wrote, not the pages other
    # tests left in a shared file (tens of megabytes of ciphertext, where a four-letter name
    # turns up by chance).
    rt = build_runtime(make_settings(fresh_database_url, tmp_path / "var"), configure_logs=False)
    try:
        report = demo_service.seed(repository=rt.carnet_repository, patients=COUNT, seed=SEED)
        assert report.resources > COUNT * 5
        secrets = _secrets(_directory_names())
        assert len(secrets) >= COUNT * 3
        dump = _database_bytes(rt)
    finally:
        rt.close()
    assert len(dump) > 100_000
    lowered = dump.lower()
    leaks = sorted(s for s in secrets if _found(s, dump, lowered))
    assert leaks == []


def _found(secret: str, dump: bytes, lowered: bytes) -> bool:
    """Names as whole words, as written, in lower or in upper case (a directory's public
    "Cedrick" is not a leak of a patient named Cédric; matching exact cases rather than any
    case keeps four letters that random ciphertext happens to spell rare); identifiers and dates
    anywhere."""
    if not secret.isalpha():
        return secret.encode() in dump or secret.lower().encode() in lowered
    for form in {secret, secret.lower(), secret.upper()}:
        word = rb"(?<![A-Za-z])" + re.escape(form.encode()) + rb"(?![A-Za-z])"
        if re.search(word, dump) is not None:
            return True
    return False
