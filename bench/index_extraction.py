"""CPU per resource of search-index extraction and index rows, with and without the fast paths.

    python bench/index_extraction.py [--bundles DIR] [--repeat 3]

Over the resources of the Synthea bundles (the demo data when the folder is absent), on one
core, after a warm-up: ``Indexer.extract`` + ``patient_refs`` with the plain-Python walkers
(``index_paths``) and with fhirpathpy alone (``fast_paths=False``, the behaviour before them),
then ``index_rows`` (hashing values and parameter ids, from cold caches). ``time.process_time``, best of
``--repeat`` runs, so that other processes on a shared machine disturb it little.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import time
from pathlib import Path
from typing import Any

import orjson

from carnet.demo.population import generate_directory, generate_patients
from carnet.record.definitions import get_definitions
from carnet.record.hashes import param_id, value_hash
from carnet.record.index_rows import index_rows
from carnet.record.indexing import Indexer
from carnet.record.store import IndexWrite
from common import ROOT, machine

BUNDLES = ROOT.parent / "shared" / "testdata" / "synthea-r4" / "bundles"


def load(folder: Path) -> tuple[str, list[dict[str, Any]]]:
    if folder.is_dir():
        resources = [
            entry["resource"]
            for path in sorted(folder.glob("*.json"))
            for entry in orjson.loads(path.read_bytes())["entry"]
        ]
        return f"Synthea bundles of {folder}", resources
    directory = generate_directory(seed=1)
    resources = list(directory.resources())
    for person in generate_patients(300, seed=1, directory=directory, documents=False):
        resources += [person.patient, *person.resources]
    return "demo data (300 patients)", resources


def best(repeat: int, work: Any) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundles", type=Path, default=BUNDLES)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    label, resources = load(args.bundles)
    count = len(resources)
    print(machine())
    print(f"{count:,} resources: {label}; load average {os.getloadavg()[0]:.2f}")
    figures: dict[str, float] = {}
    for name, fast in (("fhirpathpy only", False), ("fast paths", True)):
        indexer = Indexer(get_definitions(), fast_paths=fast)
        for resource in resources[:2000]:  # compile the types' plans, warm the caches
            indexer.extract(resource)

        def extract(indexer: Indexer = indexer) -> None:
            for resource in resources:
                indexer.extract(resource)
                indexer.patient_refs(resource)

        seconds = best(args.repeat, extract)
        figures[name] = seconds
        print(
            f"extraction, {name}: {seconds / count * 1e6:6.1f} µs per resource, "
            f"{count / seconds:,.0f} resources/s on one core"
        )
    print(f"extraction speed-up: {figures['fhirpathpy only'] / figures['fast paths']:.2f}x")
    indexer = Indexer(get_definitions())
    items = [
        IndexWrite(key, resource["resourceType"], None, indexer.extract(resource), 0, 0)
        for key, resource in enumerate(resources)
    ]
    secret = os.urandom(32)

    def blind_hash(domain: str, key: str) -> str:
        return hmac.new(secret, f"{domain}|{key}".encode(), hashlib.sha256).hexdigest()[:32]

    def rows() -> None:
        # Cold caches each run: the figure is a first pass over values never seen.
        param_id.cache_clear()
        value_hash.cache_clear()
        for item in items:
            index_rows(item, 1, blind_hash)

    seconds = best(args.repeat, rows)
    print(f"index rows: {seconds / count * 1e6:6.1f} µs per resource")


if __name__ == "__main__":
    main()
