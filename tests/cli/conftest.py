"""The ``carnet`` command line, run in-process on a database of its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carnet.cli import app


@pytest.fixture
def carnet(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., str]:
    """Run ``carnet ARGS…``; assert its exit code (0 unless ``code=`` says) and return its
    output, stripped."""
    monkeypatch.setenv("CARNET_ENVIRONMENT", "test")
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CARNET_DATABASE__URL", fresh_database_url)
    monkeypatch.setenv("CARNET_JOBS__WORKER_IN_SERVER", "false")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output.strip()

    return run
