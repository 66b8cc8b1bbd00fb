"""Bytes stored per resource: body, search-index rows and audit rows, against the raw JSON.

    python bench/storage_bytes.py --db sqlite|postgres [--patients 500]

Seeds the demo population through the repository (one audit event per write), then measures
the tables: SQLite with its dbstat table (pages of each table and index), PostgreSQL with
pg_total_relation_size (heap, TOAST and indexes).
"""

from __future__ import annotations

import argparse

import orjson
from sqlalchemy import text

from carnet.demo import service as demo_service
from carnet.demo.population import generate_directory, generate_patients
from common import build, fresh_database, machine, temp_dir

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--patients", type=int, default=500)
    args = parser.parse_args()
    directory = generate_directory(seed=11)
    people = list(generate_patients(args.patients, seed=11, directory=directory))
    resources = [r for p in people for r in (p.patient, *p.resources)]
    resources += list(directory.resources())
    binaries = [r for r in resources if r["resourceType"] == "Binary"]
    raw = sum(len(orjson.dumps(r)) for r in resources if r["resourceType"] != "Binary")
    work = temp_dir()
    with fresh_database(args.db, work) as url:
        rt = build(url, work / "var")
        report = demo_service.seed(repository=rt.carnet_repository, patients=args.patients, seed=11)
        with rt.transaction() as db:
            if args.db == "postgres":
                db.execute(text("ANALYZE"))
            sizes = _sizes(db, args.db)
            index_rows = db.execute(
                text(
                    "SELECT (SELECT count(*) FROM record_index_token) + (SELECT count(*) FROM record_index_string)"
                    " + (SELECT count(*) FROM record_index_date) + (SELECT count(*) FROM record_index_reference)"
                    " + (SELECT count(*) FROM record_index_quantity) + (SELECT count(*) FROM record_index_number)"
                    " + (SELECT count(*) FROM record_index_uri) + (SELECT count(*) FROM record_index_blind)"
                )
            ).scalar_one()
        rt.close()
    count = len(resources) - len(binaries)
    print(f"machine: {machine()}")
    print(
        f"database: {args.db}; {report.resources:,} resources written ({len(binaries)} Binary "
        f"PDFs kept in the blob store, not counted); raw JSON of the others: "
        f"{raw / count:,.0f} B per resource; {index_rows / report.resources:.1f} index rows per resource"
    )
    total = 0
    for label, prefixes in GROUPS.items():
        size = sum(v for k, v in sizes.items() if k.startswith(prefixes))
        total += size
        print(f"  {label:<40} {size / count:8,.0f} B per resource  ({size / raw:5.2f} x raw JSON)")
    print(
        f"  {'all Carnet tables':<40} {total / count:8,.0f} B per resource  ({total / raw:5.2f} x raw JSON)"
    )


if __name__ == "__main__":
    main()
