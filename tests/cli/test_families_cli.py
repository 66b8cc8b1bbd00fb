"""``carnet enrollment families-daily``: the families' daily job run by hand, twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def test_families_daily_runs_and_is_safe_twice(carnet: Callable[..., str], tmp_path: Path) -> None:
    path = tmp_path / "registry.txt"
    carnet("enrollment", "sample", str(path), "--lines", "60")
    carnet("enrollment", "import", str(path))
    first = carnet("enrollment", "families-daily")
    assert first.endswith("young adults came of age")
    assert carnet("enrollment", "families-daily") == "0 young adults came of age"
