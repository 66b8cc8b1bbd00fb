"""Bytes stored per resource: body, search-index rows and audit rows, against the raw JSON.

    python bench/storage_bytes.py --db sqlite|postgres [--patients 500]
    python bench/storage_bytes.py --db sqlite|postgres --synthea [--bundles 50]

Seeds the demo population, or the Synthea bundles of ../shared/testdata (each bundle's
``urn:uuid:`` references resolved to ``Type/id`` here, each resource written with
``repo.update``, one transaction per bundle), through the repository (one audit event per
write), then measures the tables: SQLite with its dbstat table (pages of each table and index),
PostgreSQL with pg_total_relation_size (heap, TOAST and indexes) after a VACUUM.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
from sqlalchemy import create_engine, text

from carnet.demo import service as demo_service
from carnet.demo.population import generate_directory, generate_patients
from common import ROOT, build, fresh_database, machine, temp_dir

GROUPS = {
    "bodies (record_resource, versions)": ("record_resource", "record_resource_version"),
    "search indexes (record_index_*)": ("record_index_",),
    "audit (audit_event, chain heads)": ("audit_",),
    "data keys and blob rows": ("storage_",),
}


def _sizes(db, kind: str) -> dict[str, int]:
    if kind == "sqlite":
        rows = db.execute(
            text(
                "SELECT coalesce(m.tbl_name, d.name) AS owner, sum(d.pgsize) AS bytes FROM dbstat d "
                "LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY owner"
            )
        )
    else:
        rows = db.execute(
            text(
                "SELECT relname AS owner, pg_total_relation_size(c.oid) AS bytes FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        )
    return {row.owner: int(row.bytes) for row in rows}


SYNTHEA = ROOT.parent / "shared" / "testdata" / "synthea-r4" / "bundles"


def synthea_bundles(count: int) -> list[list[dict[str, Any]]]:
    """The resources of the first ``count`` Synthea bundles, references made ``Type/id``."""
    if not SYNTHEA.is_dir():
        sys.exit(f"the Synthea bundles are not at {SYNTHEA}")
    bundles = []
    for path in sorted(SYNTHEA.glob("*.json"))[:count]:
        entries = orjson.loads(path.read_bytes())["entry"]
        targets = {
            e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries
        }
        bundles.append([_resolve(e["resource"], targets) for e in entries])
    return bundles


def _resolve(value: Any, targets: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: targets.get(v, v)
            if k == "reference" and isinstance(v, str)
            else _resolve(v, targets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolve(item, targets) for item in value]
    return value


def _seed_synthea(rt, bundles: list[list[dict[str, Any]]]) -> int:
    written = 0
    for resources in bundles:
        with rt.carnet_repository() as repo:
            for resource in resources:
                repo.update(resource["resourceType"], resource["id"], resource)
                written += 1
    return written


def _vacuum(url: str, statement: str = "VACUUM ANALYZE") -> None:
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _chain_heads(rt, url: str, kind: str) -> int:
    """The chain-head table rewritten without its dead row versions (PostgreSQL)."""
    if kind == "postgres":
        _vacuum(url, "VACUUM FULL audit_chain_head")
    with rt.transaction() as db:
        return _sizes(db, kind)["audit_chain_head"]


def _relations(db, kind: str) -> dict[str, int]:
    """Every table and index alone (heap without its indexes), for the detail lines."""
    if kind == "sqlite":
        rows = db.execute(
            text("SELECT name AS owner, sum(pgsize) AS bytes FROM dbstat GROUP BY name")
        )
    else:
        rows = db.execute(
            text(
                "SELECT relname AS owner, pg_table_size(c.oid) AS bytes FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
            )
        )
    return {row.owner: int(row.bytes) for row in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--synthea", action="store_true", help="load the Synthea bundles instead")
    parser.add_argument("--bundles", type=int, default=50)
    args = parser.parse_args()
    if args.synthea:
        bundles = synthea_bundles(args.bundles)
        resources = [r for bundle in bundles for r in bundle]
        source = f"{len(bundles)} Synthea bundles"
    else:
        directory = generate_directory(seed=11)
        people = list(generate_patients(args.patients, seed=11, directory=directory))
        resources = [r for p in people for r in (p.patient, *p.resources)]
        resources += list(directory.resources())
        source = f"{args.patients} demo patients"
    binaries = [r for r in resources if r["resourceType"] == "Binary"]
    raw = sum(len(orjson.dumps(r)) for r in resources if r["resourceType"] != "Binary")
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        if args.synthea:
            written = _seed_synthea(rt, bundles)
        else:
            written = demo_service.seed(
                repository=rt.carnet_repository, patients=args.patients, seed=11
            ).resources
        if args.db == "postgres":
            _vacuum(url)
        with rt.transaction() as db:
            sizes = _sizes(db, args.db)
            relations = _relations(db, args.db)
            index_rows = db.execute(
                text(
                    "SELECT (SELECT count(*) FROM record_index_token) + (SELECT count(*) FROM record_index_string)"
                    " + (SELECT count(*) FROM record_index_date) + (SELECT count(*) FROM record_index_reference)"
                    " + (SELECT count(*) FROM record_index_quantity) + (SELECT count(*) FROM record_index_number)"
                    " + (SELECT count(*) FROM record_index_uri) + (SELECT count(*) FROM record_index_blind)"
                )
            ).scalar_one()
        compact_heads = _chain_heads(rt, url, args.db)
        rt.close()
    count = len(resources) - len(binaries)
    print(f"machine: {machine()}")
    print(
        f"database: {args.db}; {source}: {written:,} resources written ({len(binaries)} Binary "
        f"PDFs kept in the blob store, not counted); raw JSON of the others: "
        f"{raw / count:,.0f} B per resource; {index_rows / written:.1f} index rows per resource"
    )
    for name, size in sorted(relations.items(), key=lambda item: -item[1]):
        if size / count >= 2 and name.startswith(
            ("record_", "ix_record", "pk_record", "uq_record", "audit", "ix_audit", "pk_audit")
        ):
            print(f"    {name:<44} {size / count:8,.0f} B per resource")
    total = 0
    for label, prefixes in GROUPS.items():
        size = sum(v for k, v in sizes.items() if k.startswith(prefixes))
        total += size
        print(f"  {label:<40} {size / count:8,.0f} B per resource  ({size / raw:5.2f} x raw JSON)")
    print(
        f"  {'all Carnet tables':<40} {total / count:8,.0f} B per resource  ({total / raw:5.2f} x raw JSON)"
    )
    # audit_chain_head holds one row per chain (patients + system), rewritten by every event:
    # a small load leaves it mostly dead versions, which its size at scale does not reflect.
    total += compact_heads - sizes["audit_chain_head"]
    print(
        f"  {'... with the chain heads compacted':<40} {total / count:8,.0f} B per resource  ({total / raw:5.2f} x raw JSON)"
    )


if __name__ == "__main__":
    main()
