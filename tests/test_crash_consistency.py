"""Kill the server in the middle of a stream of writes: every acknowledged write survives,
nothing half-written remains, and the audit chains still verify."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text
from tests.conftest import make_settings
from tests.factories import observation, patient

from carnet.core.actor import CARNET
from carnet.record.hashes import param_id
from carnet.runtime import build_runtime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            pytest.fail("the server exited during start-up")
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the server did not start")


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "carnet", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.mark.slow
def test_kill_during_writes_loses_nothing_acknowledged(
    fresh_database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(fresh_database_url, tmp_path / "var", public_base_url=base)
    rt = build_runtime(settings, configure_logs=False)  # generates the keys the server will use
    with rt.transaction() as db:
        client = rt.authz.register_system_client(
            db, name="crash test", scopes="system/*.cruds", jwks=None, actor=CARNET
        )
    env = {
        **os.environ,
        "CARNET_ENVIRONMENT": "test",
        "CARNET_DATA_DIR": str(settings.data_dir),
        "CARNET_DATABASE__URL": fresh_database_url,
        "CARNET_PUBLIC_BASE_URL": base,
    }
    server = _start_server(env, port, tmp_path / "server.log")
    acknowledged: list[str] = []
    in_flight: list[str] = []
    try:
        _wait_until_up(base, server)
        token = httpx2.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret or ""),
        ).json()["access_token"]
        http = httpx2.Client(base_url=f"{base}/fhir", headers={"Authorization": f"Bearer {token}"})
        person = patient()
        assert http.put(f"/Patient/{person['id']}", json=person).status_code == 201
        stop = threading.Event()

        def write_stream() -> None:
            n = 0
            while not stop.is_set():
                resource_id = f"crash-{n:05d}"
                in_flight[:] = [resource_id]
                body = observation(person["id"], value=float(n)) | {"id": resource_id}
                try:
                    response = http.put(f"/Observation/{resource_id}", json=body, timeout=5)
                except httpx2.TransportError:
                    return
                if response.status_code == 201:
                    acknowledged.append(resource_id)
                n += 1

        writer = threading.Thread(target=write_stream)
        writer.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        stop.set()
        writer.join(10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert len(acknowledged) >= 40, "too few writes before the kill to prove anything"

    with rt.transaction() as db:
        stored = set(
            db.execute(
                text("SELECT id FROM record_resource WHERE resource_type = 'Observation'")
            ).scalars()
        )
        assert set(acknowledged) <= stored
        assert stored <= set(acknowledged) | set(in_flight)
        # Every stored resource has its index rows and its audit event; no row is orphaned.
        orphans = db.execute(
            text(
                "SELECT count(*) FROM record_index_token t "
                "LEFT JOIN record_resource r ON r.key = t.resource_key WHERE r.key IS NULL"
            )
        ).scalar_one()
        assert orphans == 0
        unindexed = db.execute(
            text(
                "SELECT count(*) FROM record_resource r WHERE r.resource_type = 'Observation' "
                "AND NOT EXISTS (SELECT 1 FROM record_index_token t "
                "WHERE t.resource_key = r.key AND t.param_id = :code)"
            ),
            {"code": param_id("Observation", "code")},
        ).scalar_one()
        assert unindexed == 0
        audited = db.execute(
            text(
                "SELECT count(*) FROM audit_event WHERE chain_id = :p AND tag = 'record:resource:update'"
            ),
            {"p": person["id"]},
        ).scalar_one()
        assert audited == len(stored) + 1  # every Observation, plus the Patient
        report = rt.audit.verify(db)
    assert report.ok, report.first_break

    # The server comes back and serves what it acknowledged.
    server = _start_server(env, port, tmp_path / "server.log")
    try:
        _wait_until_up(base, server)
        token = httpx2.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret or ""),
        ).json()["access_token"]
        last = httpx2.get(
            f"{base}/fhir/Observation/{acknowledged[-1]}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert last.status_code == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
        rt.close()
