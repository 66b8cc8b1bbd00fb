"""Registry imports run on a database of their own (SQLite or PostgreSQL tier): they commit
batch by batch, as in production."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from tests.conftest import make_settings

from carnet.enrollment import service as enrollment_service
from carnet.runtime import Runtime, build_runtime


@pytest.fixture
def rt(fresh_database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(
        make_settings(fresh_database_url, tmp_path / "var"), configure_logs=False
    )
    yield runtime
    runtime.close()


def write_file(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    enrollment_service.write_registry(buffer, rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def importer(rt: Runtime) -> Callable[..., enrollment_service.RegistryReport]:
    """Import a file into ``rt``'s database (small batches, so files of tens of lines span
    several)."""

    def run(path: Path, **options: object) -> enrollment_service.RegistryReport:
        options.setdefault("batch_lines", 7)
        return enrollment_service.import_registry(
            source=path,
            storage=rt.storage,
            audit=rt.audit,
            transaction=rt.transaction,
            **options,  # type: ignore[arg-type]
        )

    return run
