"""What encryption costs in a read and in a write.

    python bench/encryption_cost.py [--patients 100]

Times, over the demo data, (a) opening a sealed body (AES-256-GCM decryption and inflation)
and sealing one (deflate and encryption), and (b) a whole read and a whole create through the
repository, each in its own transaction, on SQLite. Target: encryption < 10 % of a read.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from carnet.access.schemas import AccessContext
from carnet.access.scopes import ScopeSet
from carnet.core.actor import CARNET
from carnet.demo import service as demo_service
from carnet.demo.population import generate_directory, generate_patients
from carnet.storage import crypto
from common import build, fresh_database, machine, temp_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100)
    args = parser.parse_args()
    directory = generate_directory(seed=3)
    resources = [
        r
        for p in generate_patients(args.patients, seed=3, directory=directory)
        for r in (p.patient, *p.resources)
        if r["resourceType"] != "Binary"
    ]
    bodies = [orjson.dumps(r) for r in resources]
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    sealed = [crypto.seal(aead, b, b"Type/id/1") for b in bodies]
    started = time.perf_counter()
    for item in sealed:
        crypto.open_sealed(aead, item, b"Type/id/1")
    open_us = (time.perf_counter() - started) / len(sealed) * 1e6
    started = time.perf_counter()
    for body in bodies:
        crypto.seal(aead, body, b"Type/id/1")
    seal_us = (time.perf_counter() - started) / len(bodies) * 1e6
    raw = statistics.mean(len(b) for b in bodies)
    stored = statistics.mean(len(s) for s in sealed)

    work = temp_dir()
    with fresh_database("sqlite", work) as url:
        rt = build(url, work / "var")
        demo_service.seed(repository=rt.carnet_repository, patients=args.patients, seed=3)
        ctx = AccessContext(actor=CARNET, scopes=ScopeSet.parse("system/*.cruds"))
        ids = [(r["resourceType"], r["id"]) for r in resources]
        random.seed(1)

        def read_once() -> None:
            kind, rid = random.choice(ids)
            with rt.transaction() as db:
                rt.record.repository(db=db, ctx=ctx).read(kind, rid)

        for _ in range(500):
            read_once()
        started = time.perf_counter()
        for _ in range(3000):
            read_once()
        read_us = (time.perf_counter() - started) / 3000 * 1e6
        observations = [r for r in resources if r["resourceType"] == "Observation"][:1000]
        started = time.perf_counter()
        for resource in observations:
            body = {k: v for k, v in resource.items() if k != "id"}
            with rt.transaction() as db:
                rt.record.repository(db=db, ctx=ctx).create(body)
        create_us = (time.perf_counter() - started) / len(observations) * 1e6
        rt.close()
    print(f"machine: {machine()}")
    print(
        f"{len(bodies):,} demo resources, raw JSON {raw:,.0f} B on average, sealed {stored:,.0f} B "
        f"({stored / raw:.0%}: deflate before AES-256-GCM)"
    )
    print(
        f"open (decrypt + inflate): {open_us:6.1f} us   seal (deflate + encrypt): {seal_us:6.1f} us"
    )
    print(
        f"read through the repository, own transaction, SQLite: {read_us:6.0f} us "
        f"-> encryption is {open_us / read_us:.1%} of a read"
    )
    print(
        f"create through the repository, own transaction, SQLite: {create_us:6.0f} us "
        f"-> encryption is {seal_us / create_us:.1%} of a create"
    )


if __name__ == "__main__":
    main()
