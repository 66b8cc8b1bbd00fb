"""Public face of the wishes area: the person's contacts, their organ-donation statement and
their advance directives, each read and written through the record's Repository.

Functions are keyword-only, take the repository first and never commit; the caller's
transaction holds everything a page does.
"""

from __future__ import annotations

from datetime import date

from carnet.record.service import Repository
from carnet.wishes.contacts import (
    add_contact,
    delete_contact,
    get_contact,
    list_contacts,
    normalise_mobile,
    update_contact,
)
from carnet.wishes.directives import (
    TEXT_FIELDS,
    answers_from_form,
    current_directives,
    directives_file,
    is_adult,
    require_adult,
    upload_directives,
    write_directives,
)
from carnet.wishes.directives_pdf import Author, render_directives
from carnet.wishes.donation import donation_statement, state_informed, withdraw_statement
from carnet.wishes.schemas import Overview

__all__ = [
    "TEXT_FIELDS",
    "Author",
    "add_contact",
    "answers_from_form",
    "current_directives",
    "delete_contact",
    "directives_file",
    "donation_statement",
    "get_contact",
    "is_adult",
    "list_contacts",
    "normalise_mobile",
    "overview",
    "render_directives",
    "require_adult",
    "state_informed",
    "update_contact",
    "upload_directives",
    "withdraw_statement",
    "write_directives",
]


def overview(repo: Repository, *, patient_id: str, today: date) -> Overview:
    """Everything the "Entourage et volontés" page shows, in one go."""
    return Overview(
        contacts=list_contacts(repo, patient_id=patient_id),
        donation=donation_statement(repo, patient_id=patient_id),
        directives=current_directives(repo, patient_id=patient_id),
        adult=is_adult(repo, patient_id=patient_id, today=today),
    )
