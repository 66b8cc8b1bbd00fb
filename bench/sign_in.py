"""Sign-in cost: argon2id hashes per second per core, then sign-in latency through a real server.

    python bench/sign_in.py [--db sqlite|postgres] [--sign-ins 40] [--hashes 20]

1. argon2id with the production parameters (RFC 9106: t=3, 64 MiB, p=4), hashed in one thread:
   wall time and CPU time per hash, hashes/s on one core, and with two threads (this machine has
   two cores).
2. A real `carnet serve` (one worker, production argon2 cost, console e-mail sender): each
   sign-in is GET /connexion, POST /connexion (password: argon2), GET /connexion/code, then POST
   /connexion/code with the code read from the server's console output. p50/p99 per step and for
   the whole flow (without the wait for the e-mail job). Then the password step alone at
   concurrency 2 and 4: sign-ins/s the server sustains.
"""

from __future__ import annotations

import argparse
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2

from carnet.core.actor import CARNET
from carnet.identity.accounts.config import AccountsSettings, Argon2Parameters
from carnet.identity.accounts.passwords import PasswordHasher
from carnet.runtime import build_runtime
from common import fresh_database, machine, running_server, settings_for, temp_dir

PASSWORD = "Bench-sign-in-2026!"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE = re.compile(r"----- e-mail \(sign_in_code\).*?\b(\d{6})\b", re.DOTALL)
PRODUCTION = Argon2Parameters()
SERVER_ENV = {
    "CARNET_ACCOUNTS__ARGON2__TIME_COST": str(PRODUCTION.time_cost),
    "CARNET_ACCOUNTS__ARGON2__MEMORY_KIB": str(PRODUCTION.memory_kib),
    "CARNET_ACCOUNTS__ARGON2__PARALLELISM": str(PRODUCTION.parallelism),
    "CARNET_NOTIFY__EMAIL_BACKEND": "console",
    "CARNET_JOBS__POLL_SECONDS": "0.05",
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def hashing(count: int) -> None:
    hasher = PasswordHasher(PRODUCTION)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        hasher.hash(PASSWORD)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"argon2id t={PRODUCTION.time_cost} m={PRODUCTION.memory_kib} KiB p={PRODUCTION.parallelism}: "
        f"{wall / count * 1000:.0f} ms wall, {cpu / count * 1000:.0f} ms CPU per hash; "
        f"{count / wall:.2f} hashes/s in one thread, {count / cpu:.2f} hashes/s per core (CPU time)"
    )
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: hasher.hash(PASSWORD), range(count)))
    both = time.perf_counter() - start
    print(f"two threads: {count / both:.2f} hashes/s on the whole machine")


def sign_in_once(base: str, login: str, log: Path, offset: int) -> tuple[dict[str, float], int]:
    times: dict[str, float] = {}
    with httpx2.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        t = time.perf_counter()
        token = TOKEN.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
        times["GET /connexion"] = time.perf_counter() - t
        t = time.perf_counter()
        response = client.post(
            "/connexion", data={"csrf_token": token, "login": login, "password": PASSWORD}
        )
        times["POST /connexion (argon2)"] = time.perf_counter() - t
        assert response.status_code == 303, response.status_code
        t = time.perf_counter()
        token = TOKEN.search(client.get("/connexion/code").text).group(1)  # type: ignore[union-attr]
        times["GET /connexion/code"] = time.perf_counter() - t
        deadline = time.monotonic() + 20
        while True:
            text = log.read_bytes()[offset:].decode(errors="replace")
            match = CODE.search(text)
            if match:
                offset += match.end()
                break
            assert time.monotonic() < deadline, "no code in the server's output"
            time.sleep(0.02)
        t = time.perf_counter()
        done = client.post("/connexion/code", data={"csrf_token": token, "code": match.group(1)})
        times["POST /connexion/code"] = time.perf_counter() - t
        assert done.status_code == 303, done.status_code
    times["whole sign-in (4 requests)"] = sum(times.values())
    return times, offset


def password_rate(base: str, logins: list[str], concurrency: int) -> float:
    lock = threading.Lock()
    queue = list(logins)

    def worker() -> None:
        with httpx2.Client(base_url=base, follow_redirects=False, timeout=60) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    login = queue.pop()
                client.cookies.clear()
                token = TOKEN.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
                r = client.post(
                    "/connexion", data={"csrf_token": token, "login": login, "password": PASSWORD}
                )
                assert r.status_code == 303

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(logins) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sign-ins", type=int, default=40)
    parser.add_argument("--hashes", type=int, default=20)
    args = parser.parse_args()
    print(machine())
    hashing(args.hashes)
    data_dir = temp_dir()
    with fresh_database(args.db, data_dir) as url:
        settings = settings_for(url, data_dir).model_copy(
            update={"accounts": AccountsSettings(argon2=PRODUCTION)}
        )
        rt = build_runtime(settings, configure_logs=False)
        logins = [f"bench.user{i:04d}" for i in range(args.sign_ins)]
        hashed = rt.accounts.hash_password(PASSWORD)
        with rt.transaction() as db:
            for i, login in enumerate(logins):
                rt.accounts.create_account(
                    db,
                    actor=CARNET,
                    kind="patient",
                    person_id=f"bench-{i}",
                    login=login,
                    password=hashed,
                    email=f"{login}@example.org",
                )
        with running_server(rt, url, extra_env=SERVER_ENV) as server:
            log = data_dir / "server.log"
            offset = log.stat().st_size
            steps: dict[str, list[float]] = {}
            for login in logins:
                times, offset = sign_in_once(server.base, login, log, offset)
                for step, value in times.items():
                    steps.setdefault(step, []).append(value * 1000)
            print(f"\nsign-in through HTTP ({args.db}, {len(logins)} sign-ins, one at a time):")
            for step, values in steps.items():
                print(
                    f"  {step:<30} p50 {statistics.median(values):7.1f} ms   p99 {pct(values, 0.99):7.1f} ms"
                )
            for concurrency in (2, 4):
                rate = password_rate(server.base, logins, concurrency)
                print(f"  password step, concurrency {concurrency}: {rate:.2f} sign-ins/s")
        rt.close()


if __name__ == "__main__":
    main()
