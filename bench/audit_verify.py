"""Time `carnet audit verify` per million events.

    python bench/audit_verify.py --db sqlite|postgres [--events 1000000] [--chains 10000]

Writes a valid chained trail (events spread over patient chains, MACs computed as the audit
area does), then times the verification and its peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from carnet.audit import models
from carnet.audit.chain import GENESIS, event_mac, head_seal
from carnet.core.ids import new_id
from common import build, fresh_database, machine, temp_dir

BATCH = 20_000


def _write_trail(rt, events: int, chains: int) -> None:
    key = rt.storage.keyring.audit_key
    per_chain = events // chains
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows, heads = [], []
    for c in range(chains):
        chain_id = new_id()
        mac = GENESIS
        for seq in range(1, per_chain + 1):
            fields = {
                "chain_id": chain_id,
                "seq": seq,
                "prev_mac": mac,
                "recorded_at": start + timedelta(seconds=c * per_chain + seq),
                "tag": "record:resource:read",
                "outcome": "success",
                "actor_kind": "system",
                "actor_id": "bench",
                "actor_label": "Benchmark",
                "mode": "normal",
                "entity": f"Observation/{seq}/_history/1",
                "detail": "{}",
                "request_id": "-",
            }
            mac = event_mac(key, **fields)
            rows.append({**fields, "mac": mac})
            if len(rows) >= BATCH:
                with rt.transaction() as db:
                    db.execute(insert(models.event), rows)
                rows = []
        seal = head_seal(key, chain_id=chain_id, seq=per_chain, mac=mac)
        heads.append(
            {"chain_id": chain_id, "seq": per_chain, "mac": mac, "seal": seal, "updated_at": start}
        )
    with rt.transaction() as db:
        if rows:
            db.execute(insert(models.event), rows)
        db.execute(insert(models.chain_head), heads)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chains", type=int, default=10_000)
    args = parser.parse_args()
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        started = time.perf_counter()
        _write_trail(rt, args.events, args.chains)
        written = time.perf_counter() - started
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with rt.transaction(readonly=True) as db:
            report = rt.audit.verify(db)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rt.close()
    assert report.ok, report.first_break
    print(f"machine: {machine()}")
    print(
        f"database: {args.db}; {report.events:,} events in {report.chains:,} chains "
        f"(written in {written:.0f} s)"
    )
    print(
        f"verify: {report.seconds:.1f} s = {report.events / report.seconds:,.0f} events/s "
        f"= {report.seconds / report.events * 1e6:.1f} s per million events; "
        f"peak RSS {peak / 1024:.0f} MiB (before verify {before / 1024:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
