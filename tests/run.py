"""Run the suite's tiers: SQLite always; PostgreSQL too when CARNET_TEST_POSTGRES_URL is set.

The tiers are independent, so they run in parallel (one per core on the 2-core CI machines).
In CI (``CI=true``) a missing PostgreSQL URL is an error: every tier must run there.
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
    running = []
    for tier in tiers:
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed after the process ends
            prefix=f"carnet-{tier}-", suffix=".log", delete=False
        )
        env = {**os.environ, "CARNET_TEST_DB": tier}
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *argv]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        running.append((tier, proc, log, time.monotonic()))
    failed = []
    for tier, proc, log, started in running:
        code = proc.wait()
        log.close()
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
