"""Public face of the enrollment area.

``import_registry`` loads the insurer's beneficiary file (``enrollment.registry_import`` states
its guarantees); ``write_registry`` writes files in that format (``COLUMNS``, documented in
docs/registry-file.md); ``find_beneficiary`` and ``count_beneficiaries`` read the registry.
Other areas import ``from carnet.enrollment import service as enrollment_service``.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from carnet.enrollment import models
from carnet.enrollment.registry_apply import NIR_DOMAIN, entry_from, sealing_context
from carnet.enrollment.registry_file import COLUMNS, write_registry
from carnet.enrollment.registry_import import REPORT_HEADER, STALE_AFTER, import_registry
from carnet.enrollment.schemas import (
    Beneficiary,
    BeneficiaryStatus,
    LineError,
    RegistryEntry,
    RegistryReport,
    RunStatus,
)
from carnet.enrollment.validation import DEPARTEMENTS
from carnet.storage.service import Storage, join_data_key

__all__ = [
    "COLUMNS",
    "DEPARTEMENTS",
    "REPORT_HEADER",
    "STALE_AFTER",
    "Beneficiary",
    "BeneficiaryStatus",
    "LineError",
    "RegistryEntry",
    "RegistryReport",
    "RunStatus",
    "count_beneficiaries",
    "find_beneficiary",
    "import_registry",
    "write_registry",
]

_table = models.beneficiary


def find_beneficiary(db: Connection, *, storage: Storage, nir: str) -> Beneficiary | None:
    """The registered beneficiary whose NIR (or NIA) is ``nir``, opened with their data key;
    None when the registry does not list them. Raises ``DataKeyDestroyed`` (a ``Gone``) once
    their data was erased."""
    joined, key_columns = join_data_key(_table, _table.c.id)
    row = db.execute(
        select(_table, *key_columns)
        .select_from(joined)
        .where(_table.c.nir_index == storage.blind_index(NIR_DOMAIN, nir))
    ).first()
    if row is None:
        return None
    key = storage.key_from(
        row.id, kek_id=row.key_kek_id, wrapped=row.key_wrapped, destroyed_at=row.key_destroyed_at
    )
    return Beneficiary(
        id=row.id,
        status=BeneficiaryStatus(row.status),
        departement=row.departement,
        holder_id=row.holder_id,
        entry=entry_from(key.open(row.sealed, sealing_context(row.id))),
    )


def count_beneficiaries(
    db: Connection, *, departement: str | None = None, status: BeneficiaryStatus | None = None
) -> int:
    """How many beneficiaries the registry lists, optionally in one département or status."""
    query = select(func.count()).select_from(_table)
    if departement is not None:
        query = query.where(_table.c.departement == departement)
    if status is not None:
        query = query.where(_table.c.status == status.value)
    return int(db.execute(query).scalar_one())
