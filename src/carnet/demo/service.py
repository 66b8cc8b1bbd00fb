"""Seeding: the synthetic population written through the record repository.

Everything goes through the same door as any client (validation, encryption, indexing, audit),
acting as Carnet itself with system scopes. Ids are deterministic, so seeding is idempotent: a
second run with the same seed writes new versions of the same resources, and ``if_empty`` skips
the population when the first demo patient is already there. The demo accounts' spaces are then
filled through the areas' services (``space``), each part only when it is not there yet (so a
database seeded before that part existed gets it on the next run, ``if_empty`` or not).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from carnet.demo.population import DemoDirectory, generate_directory, generate_patients
from carnet.demo.space import seed_spaces
from carnet.record.errors import ResourceNotFound
from carnet.record.service import Repository

RepositoryScope = Callable[[], AbstractContextManager[Repository]]
"""Opens a transaction and yields a repository acting as Carnet; commits on exit."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    patients: int
    resources: int
    skipped: bool
    examples: tuple[tuple[str, str], ...]
    """A few seeded patients (id, synthetic label) to try the API with."""


def seed(
    *,
    repository: RepositoryScope,
    patients: int,
    seed: int = 1,
    if_empty: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Write the directory and ``patients`` demo patients (one transaction per patient)."""
    directory = generate_directory(seed=seed)
    population = generate_patients(patients, seed=seed, directory=directory)
    first = next(population, None)
    if first is None:
        return SeedReport(0, 0, skipped=False, examples=())
    if if_empty and _exists(repository, "Patient", first.patient["id"]):
        seed_spaces(repository, seed=seed)
        return SeedReport(0, 0, skipped=True, examples=())
    written = _write_directory(repository, directory)
    examples = []
    for index, person in enumerate([first, *population]):
        with repository() as repo:
            for resource in (person.patient, *person.resources):
                repo.update(resource["resourceType"], resource["id"], resource)
        written += 1 + len(person.resources)
        if index < 3:
            examples.append((person.patient["id"], person.label))
        if progress is not None:
            progress(1)
    written += seed_spaces(repository, seed=seed)
    return SeedReport(patients, written, skipped=False, examples=tuple(examples))


def _write_directory(repository: RepositoryScope, directory: DemoDirectory) -> int:
    resources = (
        *directory.organizations,
        *directory.practitioners,
        *directory.practitioner_roles,
    )
    with repository() as repo:
        for resource in resources:
            repo.update(resource["resourceType"], resource["id"], resource)
    return len(resources)


def _exists(repository: RepositoryScope, resource_type: str, resource_id: str) -> bool:
    with repository() as repo:
        try:
            repo.read(resource_type, resource_id)
        except ResourceNotFound:
            return False
    return True
