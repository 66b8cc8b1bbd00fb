"""Full-text search in one person's record: the Repository's ``index_text`` and
``search_text`` (a mixin of ``repository.Repository``).

The index lives inside the encryption boundary (``fulltext_store``): per-patient keyed hashes of
normalised words and prefixes (``fulltext_words``), never a word in clear. Structured resources
are indexed by the write path (``fulltext_store.on_write``, their display texts); the text of a
document's file is given by ``index_text`` (the ``record:index-document`` job of
``interop.document_text``).

- ``index_text`` is decided and audited as an UPDATE of the resource it indexes.
- ``search_text`` looks in the actor's own compartment only (the space they act in), reads each
  hit back as the read path does (access rules and visibility labels apply, a refused or
  unreadable resource is silently left out), and writes one audit event listing what it returned.
"""

from __future__ import annotations

from collections.abc import Callable

from carnet.access.schemas import Action
from carnet.audit.tags import EventTag, Outcome
from carnet.record import fulltext_store, store
from carnet.record.door import Failure
from carnet.record.errors import ResourceNotFound
from carnet.record.fulltext_words import query_terms
from carnet.record.reads import Reads
from carnet.record.schemas import StoredResource
from carnet.record.writes import Writes
from carnet.storage.errors import DataKeyDestroyed

_SEARCH_ENTITY = "_text"
_TYPE_ORDER = ("DocumentReference",)


class Fulltext(Reads, Writes):
    def index_text(self, resource_type: str, resource_id: str, text: str) -> int:
        """Replace the words indexed for a resource's content by those of ``text``; the number
        of tokens written. Raises ResourceNotFound (absent, deleted or refused), audited."""
        tag = EventTag.RECORD_RESOURCE_UPDATE
        entity = f"{resource_type}/{resource_id}"
        self._require_type(resource_type, tag)
        with self._write_guard(tag, resource_type):
            row = store.current(self._db, resource_type, resource_id)
            if row is None or row.deleted or row.patient_id is None:
                raise Failure(ResourceNotFound(), None, entity, Outcome.NOT_FOUND)
            if not self._may_read(resource_type, row.patient_id, row.held):
                # What the actor may not see is absent to them, and the refusal is audited.
                raise Failure(ResourceNotFound(), row.patient_id, entity, Outcome.REFUSED)
            self._require_writable(resource_type, resource_id, row, Action.UPDATE)
            storage = self._record.storage
            key = fulltext_store.text_key(self._db, storage, row.patient_id, create=True)
            if key is None:
                raise Failure(DataKeyDestroyed(), row.patient_id, entity, Outcome.GONE)
            count = fulltext_store.replace_tokens(
                self._db,
                resource_key=row.key,
                patient_id=row.patient_id,
                part=fulltext_store.PART_CONTENT,
                key=key,
                text=text,
            )
            self._audit(tag, Outcome.SUCCESS, row.patient_id, entity, detail={"part": "text"})
            return count

    def search_text(self, query: str, *, limit: int = 50) -> list[StoredResource]:
        """The resources of the actor's own space holding every word of ``query`` (or a word
        starting with it, from 3 characters), documents first, then newest first."""
        tag = EventTag.RECORD_RESOURCE_SEARCH
        patient_id = self.ctx.patient_id
        terms = query_terms(query)
        found: list[StoredResource] = []
        if patient_id is not None and terms:
            key = fulltext_store.text_key(self._db, self._record.storage, patient_id, create=False)
            if key is not None:
                hits = fulltext_store.matching(
                    self._db, patient_id=patient_id, key=key, terms=terms
                )
                found = self._readable(hits, limit)
        ids = [stored.reference for stored in found]
        detail: dict[str, int | list[str]] = {"ids": ids, "words": len(terms)}
        self._audit(tag, Outcome.SUCCESS, patient_id, _SEARCH_ENTITY, detail=detail)
        return found

    def _readable(self, hits: list[tuple[str, str]], limit: int) -> list[StoredResource]:
        """The hits the actor may read, opened (a refused or shredded one is left out)."""
        rows = store.current_many(self._db, hits)
        readable: list[StoredResource] = []
        for resource_type, resource_id in sorted(hits, key=_rank(hits)):
            row = rows.get((resource_type, resource_id))
            if (
                row is None
                or row.deleted
                or not self._may_read(resource_type, row.patient_id, row.held)
            ):
                continue
            try:
                readable.append(self._opened(resource_type, resource_id, row))
            except DataKeyDestroyed:
                continue
            if len(readable) >= max(1, limit):
                break
        return readable

    def _opened(self, resource_type: str, resource_id: str, row: store.AnyRow) -> StoredResource:
        # The read path's own opening, without its per-read audit event: the search writes one
        # event for all it returns.
        return self._open(
            resource_type,
            resource_id,
            row,
            tag=EventTag.RECORD_RESOURCE_SEARCH,
            entity=f"{resource_type}/{resource_id}",
        )


def _rank(hits: list[tuple[str, str]]) -> Callable[[tuple[str, str]], tuple[int, int]]:
    """Documents first, then the other types; newest first within each (the hits' order)."""
    position = {hit: index for index, hit in enumerate(hits)}

    def key(hit: tuple[str, str]) -> tuple[int, int]:
        kind = _TYPE_ORDER.index(hit[0]) if hit[0] in _TYPE_ORDER else len(_TYPE_ORDER)
        return (kind, position[hit])

    return key
