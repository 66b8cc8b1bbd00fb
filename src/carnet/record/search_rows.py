"""Opening the rows a search returns: the page's bodies, decrypted with their owners' keys.

A row whose owner's data key was destroyed (an erased space) is left out, as if absent.
"""

from __future__ import annotations

from collections.abc import Sequence

from carnet.record import store
from carnet.record.door import RepositoryBase, sealing_context
from carnet.record.schemas import StoredResource
from carnet.storage.errors import DataKeyDestroyed
from carnet.storage.service import SYSTEM_OWNER


def open_rows(repo: RepositoryBase, rows: Sequence[store.AnyRow]) -> list[StoredResource]:
    """The stored resources of rows from ``store.rows_by_keys``, in their order."""
    storage = repo._record.storage  # noqa: SLF001 - the repository's own machinery
    opened = []
    for row in rows:
        owner = row.patient_id or SYSTEM_OWNER
        try:
            key = storage.key_from(
                owner,
                kek_id=row.key_kek_id,
                wrapped=row.key_wrapped,
                destroyed_at=row.key_destroyed_at,
            )
            body = key.open(row.body, sealing_context(row.resource_type, row.id, row.version))
            if row.blob_id is not None:
                body = repo._with_blob(body, owner, row.blob_id)  # noqa: SLF001
        except DataKeyDestroyed:
            continue
        opened.append(
            StoredResource(
                resource_type=row.resource_type,
                id=row.id,
                version=row.version,
                last_updated=row.last_updated,
                patient_id=row.patient_id,
                body=body,
            )
        )
    return opened
