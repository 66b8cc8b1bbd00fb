"""Run the suite's tiers: SQLite always; PostgreSQL too when CARNET_TEST_POSTGRES_URL is set;
``e2e``, the browser tests of tests/e2e (on SQLite), always.

The tiers are independent, so they run in parallel (one per core on the 2-core CI machines).
In CI (``CI=true``) a missing PostgreSQL URL is an error: every tier must run there; so is a
missing Chromium for the e2e tier, which elsewhere skips saying why.
Extra arguments go to pytest (``python tests/run.py -k audit``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
E2E = Path("tests") / "e2e"


def main(argv: list[str]) -> int:
    in_ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    tiers = ["sqlite"]
    if os.environ.get("CARNET_TEST_POSTGRES_URL"):
        tiers.append("postgres")
    elif in_ci:
        print("CI=true but CARNET_TEST_POSTGRES_URL is not set: the PostgreSQL tier must run in CI")
        return 2
    else:
        print("note: CARNET_TEST_POSTGRES_URL is not set; running the SQLite tier only")
    paths_asked = [a for a in argv if (ROOT / a.split("::")[0]).exists()]
    if not paths_asked or any(Path(a).is_relative_to(E2E) for a in paths_asked):
        tiers.append("e2e")
    running = []
    for tier in tiers:
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed after the process ends
            prefix=f"carnet-{tier}-", suffix=".log", delete=False
        )
        env = {**os.environ, "CARNET_TEST_DB": "sqlite" if tier == "e2e" else tier}
        # The browser tests are a tier of their own: the database tiers leave them out.
        paths = [str(E2E)] if tier == "e2e" else [f"--ignore={E2E}"]
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *paths, *argv]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        running.append((tier, proc, log, time.monotonic()))
    failed = []
    for tier, proc, log, started in running:
        code = proc.wait()
        log.close()
        if code == 5 and argv:  # pytest's "no test collected": the filter selected none here
            code = 0
        print(f"\n===== tier {tier}: exit {code} in {time.monotonic() - started:.0f}s =====")
        print(Path(log.name).read_text(errors="replace"))
        Path(log.name).unlink()
        if code != 0:
            failed.append(tier)
    if failed:
        print(f"FAILED tiers: {', '.join(failed)}")
        return 1
    print(f"all tiers passed: {', '.join(tiers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
