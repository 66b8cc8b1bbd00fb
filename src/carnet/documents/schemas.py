"""Values the documents area hands to its callers (the portal, other areas)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

AuthorKind = Literal["patient", "professional", "organisation", "device", "system"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the person may do with one document (computed here, shown by the pages)."""

    can_owner_delete: bool
    can_update_category: bool
    can_update_title: bool
    can_update_created_at: bool
    can_update_confidentiality_only: bool


@dataclass(frozen=True, slots=True)
class DocumentView:
    """One document as the person sees it in their space."""

    id: str
    title: str
    category: str
    """One of the twelve category codes (``categories.CATEGORIES``)."""
    date: dt.date
    """The document's own date (``createdAt``): when it was written, not uploaded."""
    added_at: dt.datetime
    author_kind: AuthorKind
    author_reference: str
    type_code: str
    type_display: str
    content_type: str
    size: int
    masked: bool
    """Masked from professionals (``MASQUE_PS``)."""
    pinned: bool
    status: str
    """``current`` or ``superseded`` (replaced by a newer version)."""
    folder_id: str | None
    replaces: str | None
    replaced_by: str | None
    binary_id: str
    capabilities: Capabilities

    @property
    def by_patient(self) -> bool:
        return self.author_kind == "patient"

    @property
    def superseded(self) -> bool:
        return self.status == "superseded"


@dataclass(frozen=True, slots=True)
class FolderView:
    id: str
    name: str
    document_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentFilters:
    """What a list of documents is narrowed to (every field optional)."""

    category: str | None = None
    folder_id: str | None = None
    author: Literal["patient", "professional"] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str | None = None

    @property
    def any(self) -> bool:
        return any(
            value not in (None, "")
            for value in (
                self.category,
                self.folder_id,
                self.author,
                self.date_from,
                self.date_to,
                self.text,
            )
        )


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """One page of the timeline: pinned documents first (on the unfiltered list), then newest
    first by document date."""

    items: tuple[DocumentView, ...]
    pinned: tuple[DocumentView, ...]
    total: int
    page: int
    pages: int
    folders: tuple[FolderView, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """A document's original bytes, unchanged, and what they are."""

    data: bytes
    content_type: str
    filename: str
    """A safe ASCII download name (the document's date and kind, never a person's name)."""
