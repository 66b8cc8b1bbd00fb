"""The engine of ``carnet fhir load``: units of work, the resume state, and loading one unit.

A **unit** is one Bundle file (a transaction or a batch), or a chunk of consecutive lines of an
NDJSON file (one resource a line, written as upserts by id: a transaction of PUTs). Each unit is
known by the SHA-256 of its bytes, so a changed file is loaded again and an unchanged one is not.

The **state file** (``<data_dir>/fhir-load/state.jsonl``) is append-only: ``begin`` before a
unit's transaction commits, ``done`` after (with its failures). A second run skips the units
marked done. A unit begun but not done (the process died between the two) is settled by its
*probe*: the id of a resource the unit's transaction creates, given before the transaction
opens; if that resource exists, the whole transaction committed (it is atomic) and the unit is
done, otherwise it is loaded again. Batch bundles and NDJSON chunks have no probe and are loaded
again: upserts by id are idempotent (at worst a second version of the same content); a batch's
creations would be repeated, so prefer transactions for data loaded by creation.

Nothing here prints health data: reasons are Carnet's error messages, which never carry any.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from carnet.core.errors import ClientError
from carnet.record.errors import ResourceNotFound
from carnet.record.service import BundlePlan
from carnet.runtime import Runtime

STATE_DIR = "fhir-load"


@dataclass(frozen=True, slots=True)
class Unit:
    path: Path
    key: str
    """SHA-256 of the unit's bytes (the whole file, or the chunk's lines)."""
    entries: int
    first_line: int = 0
    """For an NDJSON chunk: its first line (1-based); 0 for a Bundle file."""
    offsets: tuple[int, int] | None = None
    """For an NDJSON chunk: its byte range in the file."""

    @property
    def label(self) -> str:
        if self.offsets is None:
            return str(self.path)
        return f"{self.path}:{self.first_line}"


@dataclass(slots=True)
class UnitReport:
    unit: Unit
    loaded: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(where, why): the unit as a whole, or one entry or line of it."""
    earlier: bool = False
    """Settled by an earlier run (skipped now)."""
    lines: list[int] = field(default_factory=list)
    """For an NDJSON chunk: the file line of each entry of its plan."""


def units_of(paths: list[Path], *, chunk: int) -> Iterator[Unit]:
    """The units of the given files and directories (``*.json`` and ``*.ndjson``), in order."""
    for path in paths:
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in {".json", ".ndjson"})
            if path.is_dir()
            else [path]
        )
        for file in files:
            if file.suffix == ".ndjson":
                yield from _chunks(file, chunk)
            else:
                data = file.read_bytes()
                yield Unit(file, _digest(data), _count_entries(data))


def _count_entries(data: bytes) -> int:
    try:
        entries = orjson.loads(data).get("entry", [])
    except (orjson.JSONDecodeError, AttributeError):
        return 1
    return len(entries) if isinstance(entries, list) else 1


def _chunks(path: Path, size: int) -> Iterator[Unit]:
    """Chunks of ``size`` non-blank lines; each one's range starts at its first line."""
    with path.open("rb") as file:
        number = position = start = first = count = 0
        digest = hashlib.sha256()
        for line in file:
            number += 1
            before, position = position, position + len(line)
            if not line.strip():
                continue
            if count == 0:
                start, first, digest = before, number, hashlib.sha256()
            digest.update(_normalised(line))
            count += 1
            if count == size:
                yield Unit(path, digest.hexdigest(), count, first, (start, position))
                count = 0
        if count:
            yield Unit(path, digest.hexdigest(), count, first, (start, position))


def _normalised(line: bytes) -> bytes:
    return line.rstrip(b"\r\n") + b"\n"


def _content(raw: bytes) -> bytes:
    """An NDJSON range as hashed: its non-blank lines, line endings normalised."""
    return b"".join(_normalised(line) for line in raw.splitlines() if line.strip())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LoadState:
    """The append-only record of what is loaded (one JSON object a line)."""

    def __init__(self, data_dir: Path) -> None:
        directory = data_dir / STATE_DIR
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "state.jsonl"

    def read(self) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """(done units and their records, begun-but-not-done units and their probes)."""
        done: dict[str, dict[str, Any]] = {}
        begun: dict[str, str] = {}
        if not self.path.exists():
            return done, begun
        for line in self.path.read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a line torn by a crash: its unit is simply not done
            if record.get("state") == "done":
                done[record["unit"]] = record
            elif record.get("state") == "begin" and record.get("probe"):
                begun[record["unit"]] = record["probe"]
        return done, {key: probe for key, probe in begun.items() if key not in done}

    def append(self, record: dict[str, Any]) -> None:
        # One write of one line, appended: concurrent workers never interleave within a line.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, orjson.dumps(record) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def done(self, report: UnitReport) -> None:
        self.append(
            {
                "unit": report.unit.key,
                "state": "done",
                "label": report.unit.label,
                "loaded": report.loaded,
                "failures": report.failures,
            }
        )


def probe_exists(rt: Runtime, probe: str) -> bool:
    """Whether the probe resource of a begun unit exists (its transaction committed)."""
    resource_type, _, resource_id = probe.partition("/")
    with rt.carnet_repository() as repo:
        try:
            repo.read(resource_type, resource_id)
        except ResourceNotFound:
            return False
        except ClientError:
            return True  # deleted since, or shredded: it was written
    return True


def load_unit(rt: Runtime, unit: Unit, state: LoadState) -> UnitReport:
    """Load one unit in its own database transaction; record it in ``state``."""
    report = UnitReport(unit)
    data = _read(unit)
    if _digest(data if unit.offsets is None else _content(data)) != unit.key:
        report.failures.append((unit.label, "The file changed while it was being loaded."))
        return report
    if unit.offsets is None:
        plan = _bundle_plan(rt, data, report)
    else:
        plan = _ndjson_plan(rt, data, report)
    if plan is None:
        return report
    probe = _probe(plan)
    state.append({"unit": unit.key, "state": "begin", "label": unit.label, "probe": probe})
    _run(rt, plan, report)
    state.done(report)
    return report


def _read(unit: Unit) -> bytes:
    if unit.offsets is None:
        return unit.path.read_bytes()
    start, end = unit.offsets
    with unit.path.open("rb") as file:
        file.seek(start)
        return file.read(end - start)


def _bundle_plan(rt: Runtime, data: bytes, report: UnitReport) -> BundlePlan | None:
    label = report.unit.label
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        report.failures.append((label, f"Not valid JSON ({exc.msg})."))
        return None
    if not isinstance(body, dict):
        report.failures.append((label, "Not a Bundle."))
        return None
    plan = _prepare(rt, body)
    if plan.error is not None:
        report.failures.append((label, plan.error.message))
        return None
    failed = plan.failures()
    if plan.kind == "transaction" and failed:
        first = failed[0]
        assert first.error is not None
        report.failures.append((f"{label} entry {first.index}", first.error.message))
        return None
    return plan


def _ndjson_plan(rt: Runtime, data: bytes, report: UnitReport) -> BundlePlan | None:
    """A transaction of PUTs, one per valid line; lines that cannot be loaded are reported."""
    unit = report.unit
    entries = []
    for offset, line in enumerate(data.splitlines()):
        if not line.strip():
            continue
        number = unit.first_line + offset
        resource = _resource(line)
        if isinstance(resource, str):
            report.failures.append((f"{unit.path}:{number}", resource))
            continue
        url = f"{resource['resourceType']}/{resource['id']}"
        entries.append({"resource": resource, "request": {"method": "PUT", "url": url}})
        report.lines.append(number)
    plan = _prepare(rt, {"resourceType": "Bundle", "type": "transaction", "entry": entries})
    if plan.error is not None:
        report.failures.append((unit.label, plan.error.message))
        return None
    for entry in plan.failures():
        assert entry.error is not None
        report.failures.append((f"{unit.path}:{report.lines[entry.index]}", entry.error.message))
    return plan.only_valid()


def _resource(line: bytes) -> dict[str, Any] | str:
    """The line's resource, or why it cannot be loaded."""
    try:
        resource = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return f"Not valid JSON ({exc.msg})."
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return "Not a FHIR resource."
    if not isinstance(resource.get("id"), str):
        return "The resource has no id: NDJSON lines are loaded as upserts by id."
    return resource


def _prepare(rt: Runtime, body: dict[str, Any]) -> BundlePlan:
    return rt.record.prepare_bundle(
        body, max_entries=rt.settings.fhir.bundle_max_entries, base_url=rt.settings.fhir_base_url
    )


def _probe(plan: BundlePlan) -> str | None:
    """A resource the transaction creates, known before it runs (None for a batch)."""
    if plan.kind != "transaction":
        return None
    for entry in plan.entries:
        if entry.method == "POST" and not entry.conditional and entry.resource_id:
            return f"{entry.resource_type}/{entry.resource_id}"
    return None


def _run(rt: Runtime, plan: BundlePlan, report: UnitReport) -> None:
    label = report.unit.label
    try:
        with rt.carnet_repository() as repo:
            result = repo.bundle(plan)
    except ClientError as exc:
        if report.unit.offsets is None:
            report.failures.append((label, exc.message))
            return
        # An NDJSON chunk refused as a whole: load it line by line to keep the good lines.
        plan.kind = "batch"
        with rt.carnet_repository() as repo:
            result = repo.bundle(plan)
    for planned, outcome in zip(plan.entries, result.entries, strict=True):
        if outcome.error is None:
            report.loaded += 1
        elif report.lines:
            where = f"{report.unit.path}:{report.lines[planned.index]}"
            report.failures.append((where, outcome.error.message))
        else:
            report.failures.append((f"{label} entry {planned.index}", outcome.error.message))
