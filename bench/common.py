"""Shared by the benchmarks: a fresh database, a real server, a client token, wrk runs.

Benchmarks print figures; they are not tests. See docs/benchmarks.md for recorded runs.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from carnet import migrations
from carnet.core.actor import CARNET
from carnet.runtime import Runtime, build_runtime
from carnet.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}"


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """A new migrated database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / 'bench.sqlite3'}"
        migrations.upgrade(url)
        yield url
        return
    base = os.environ.get("CARNET_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"carnet_bench_{secrets.token_hex(4)}"
    admin = create_engine(
        make_url(base).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_for(url: str, data_dir: Path, base_url: str = "http://127.0.0.1:8000") -> Settings:
    return Settings.model_validate(
        {
            "environment": "test",
            "data_dir": data_dir,
            "database": {"url": url},
            "public_base_url": base_url,
            "logging": {"level": "WARNING"},
        }
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    token: str


@contextmanager
def running_server(
    rt: Runtime, url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with rt.transaction() as db:
        client = rt.authz.register_system_client(
            db, name="benchmark", scopes="system/*.cruds", jwks=None, actor=CARNET
        )
    env = {
        **os.environ,
        "CARNET_ENVIRONMENT": "test",
        "CARNET_DATA_DIR": str(rt.settings.data_dir),
        "CARNET_DATABASE__URL": url,
        "CARNET_PUBLIC_BASE_URL": base,
        "CARNET_LOGGING__LEVEL": "WARNING",
        "CARNET_AUTHZ__ACCESS_TOKEN_SECONDS": "3600",
        **(extra_env or {}),
    }
    log = (rt.settings.data_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "carnet", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(600):
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.1)
        token = httpx2.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret or ""),
        ).json()["access_token"]
        yield Server(base=base, process=process, token=token)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        log.close()


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.requests_per_second:>9,.0f} req/s   p50 {self.p50_ms:6.2f} ms"
            f"   p99 {self.p99_ms:6.2f} ms   ({self.requests:,} requests, {self.errors} errors)"
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", value)
    assert match, value
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    *,
    script: Path | None = None,
    connections: int = 16,
    seconds: int = 15,
    threads: int = 2,
    env: dict[str, str] | None = None,
) -> WrkResult:
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: sudo apt-get install wrk")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run(
        [*cmd, url], check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return WrkResult(rps, p50, p99, total, errors)


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="carnet-bench-"))


def build(url: str, data_dir: Path) -> Runtime:
    return build_runtime(settings_for(url, data_dir), configure_logs=False)
