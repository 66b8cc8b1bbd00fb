"""Print batches: the people a campaign left ``letter-due`` (no usable e-mail, or a bounce) get
a printed letter (``letters``), one merged PDF per batch, for the mail house.

- **A usable code.** Codes are stored hashed, so the one made for the e-mail cannot be
  reprinted: each letter carries a fresh code, which retires any earlier one.
- **A full opposition window.** A letter printed late still gives its reader the whole window:
  the deadline is the campaign's, or the print date plus ``opposition_days`` when that is later,
  and the notice records the deadline printed (the space opens after it).
- **Never marked unless written.** One transaction per batch: the PDF is written to a temporary
  file, synced and renamed into place, and only then does the transaction that marks its people
  ``notified`` (notice ``letter-sent``, with the batch reference) commit. A crash before the
  commit leaves them due: the next run prints them again with new codes, which retire the codes
  of the orphaned file, and rewrites the same file name.
- **Safe to run twice.** Only people still ``letter-due`` are picked; once marked, nobody gets a
  second letter for the same notice.
- **Private.** File names hold the campaign's id and the batch number; audit events hold counts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, bindparam, func, select, update

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import CARNET
from carnet.core.errors import InvalidInput
from carnet.enrollment import enrollment_codes, models
from carnet.enrollment.campaigns import Wiring, minors_of
from carnet.enrollment.letters import Civility, LetterInput, render_batch
from carnet.enrollment.registry_apply import open_entry
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    LettersPrinted,
    NoticeStatus,
    RegistryEntry,
)
from carnet.storage.service import join_data_key

TransactionFactory = Callable[[], AbstractContextManager[Connection]]

_ADDRESS_LINES: Final = 5  # what a letter's address block holds (letters.LetterInput)
_PENDING: Final = (NoticeStatus.LETTER_DUE.value, NoticeStatus.BOUNCED.value)
_CIVILITY: Final[dict[str, Civility]] = {"F": "Madame", "M": "Monsieur"}

_notice = models.notice
_beneficiary = models.beneficiary
_campaign = models.campaign


def print_letters(
    transaction: TransactionFactory, wiring: Wiring, out_dir: Path, *, batch_size: int
) -> LettersPrinted:
    """Print every letter due into ``out_dir`` (see the module docstring): campaign by
    campaign, people in id order, at most ``batch_size`` letters per PDF and transaction.
    Raises ``InvalidInput`` when the public base URL is not https (a letter's link must be)."""
    if not wiring.activation_url.startswith("https://"):
        raise InvalidInput("letters link to the activation page: the public base URL must be https")
    out_dir.mkdir(parents=True, exist_ok=True)
    with transaction() as db:
        campaign_ids = _campaigns_with_letters_due(db)
    files: list[Path] = []
    letters = skipped = 0
    for campaign_id in campaign_ids:
        cursor = ""
        while True:
            with transaction() as db:
                batch = _print_batch(
                    db,
                    wiring,
                    out_dir=out_dir,
                    campaign_id=campaign_id,
                    cursor=cursor,
                    limit=batch_size,
                )
            if batch is None:
                break
            cursor = batch.cursor
            letters += batch.letters
            skipped += batch.skipped
            if batch.path is not None:
                files.append(batch.path)
    return LettersPrinted(files=tuple(files), letters=letters, skipped=skipped)


def _campaigns_with_letters_due(db: Connection) -> list[str]:
    rows = db.execute(
        select(_notice.c.campaign_id, func.min(_campaign.c.created_at).label("started"))
        .join(_campaign, _campaign.c.id == _notice.c.campaign_id)
        .join(_beneficiary, _beneficiary.c.id == _notice.c.beneficiary_id)
        .where(
            _notice.c.status.in_(_PENDING),
            _beneficiary.c.status == BeneficiaryStatus.LETTER_DUE.value,
        )
        .group_by(_notice.c.campaign_id)
        .order_by("started", _notice.c.campaign_id)
    )
    return [row.campaign_id for row in rows]


@dataclass(frozen=True, slots=True)
class _Batch:
    cursor: str
    path: Path | None
    letters: int
    skipped: int


def _print_batch(
    db: Connection,
    wiring: Wiring,
    *,
    out_dir: Path,
    campaign_id: str,
    cursor: str,
    limit: int,
) -> _Batch | None:
    # Locking the campaign row serialises two printers of one campaign: batch numbers and file
    # names cannot collide.
    db.execute(select(_campaign.c.id).where(_campaign.c.id == campaign_id).with_for_update())
    people = _next_people(db, campaign_id, cursor, limit)
    if not people:
        return None
    storage, now = wiring.storage, wiring.storage.clock.now()
    today = now.date()
    earliest_deadline = today + wiring.settings.opposition_window
    entries: dict[str, tuple[Any, RegistryEntry]] = {}
    for person in people:
        entry = open_entry(storage, person)
        if entry is not None and address_lines(entry):  # None: erased, nobody to write to
            entries[person.id] = (person, entry)
    skipped = len(people) - len(entries)
    if not entries:
        return _Batch(cursor=people[-1].id, path=None, letters=0, skipped=skipped)
    codes = enrollment_codes.replace_codes(
        db, storage, list(entries), now=now, lifetime=wiring.settings.code_lifetime
    )
    deadlines = {
        person_id: max(person.opposition_ends, earliest_deadline)
        for person_id, (person, _) in entries.items()
    }
    letters = [
        _letter(entry, codes[person_id], wiring.activation_url, deadlines[person_id], today)
        for person_id, (_, entry) in entries.items()
    ]
    number = _next_batch_number(db, campaign_id)
    reference = f"{campaign_id}-{number:04d}"
    path = out_dir / f"letters-{reference}.pdf"
    _write_atomically(path, letters)
    _mark_sent(db, entries, deadlines, reference, now)
    wiring.audit.record(
        db,
        AuditRecord(
            tag=EventTag.ENROLLMENT_LETTER_BATCH,
            outcome=Outcome.SUCCESS,
            actor=CARNET,
            patient_id=None,
            entity=f"enrollment-campaign/{campaign_id}",
            detail={"batch": number, "letters": len(letters), "skipped": skipped},
        ),
    )
    return _Batch(cursor=people[-1].id, path=path, letters=len(letters), skipped=skipped)


def _next_people(db: Connection, campaign_id: str, cursor: str, limit: int) -> list[Any]:
    """People of ``campaign_id`` due a letter after ``cursor``, in id order, with their notice
    and data key."""
    joined, key_columns = join_data_key(_beneficiary, _beneficiary.c.id)
    query = (
        select(
            _beneficiary.c.id,
            _beneficiary.c.sealed,
            _notice.c.id.label("notice_id"),
            _notice.c.opposition_ends,
            *key_columns,
        )
        .select_from(joined.join(_notice, _notice.c.beneficiary_id == _beneficiary.c.id))
        .where(
            _notice.c.campaign_id == campaign_id,
            _notice.c.status.in_(_PENDING),
            _beneficiary.c.status == BeneficiaryStatus.LETTER_DUE.value,
            _beneficiary.c.id > cursor,
        )
        .order_by(_beneficiary.c.id)
        .limit(limit)
        .with_for_update(of=_beneficiary)
    )
    return list(db.execute(query))


def _next_batch_number(db: Connection, campaign_id: str) -> int:
    done = db.execute(
        select(func.count(func.distinct(_notice.c.letter_batch))).where(
            _notice.c.campaign_id == campaign_id, _notice.c.letter_batch.is_not(None)
        )
    ).scalar_one()
    return int(done) + 1


def address_lines(entry: RegistryEntry) -> tuple[str, ...]:
    """The postal lines of ``entry`` for the address block: the street lines as filed (blank
    lines and repeated spaces dropped), then postcode and city; never more than the block
    holds, so surplus street lines are joined onto the last one rather than lost. Empty when
    there is nothing to post to."""
    street = [" ".join(line.split()) for line in entry.address.splitlines()]
    street = [line for line in street if line]
    room = _ADDRESS_LINES - 1
    if len(street) > room:
        street = [*street[: room - 1], ", ".join(street[room - 1 :])]
    town = " ".join(f"{entry.postal_code} {entry.city.upper()}".split())
    if not street and not town:
        return ()
    return (*street, town) if town else tuple(street)


def _letter(entry: RegistryEntry, code: str, url: str, deadline: date, today: date) -> LetterInput:
    return LetterInput(
        civility=_CIVILITY.get(entry.sex, ""),
        given_names=" ".join(entry.given_names.split()),
        family_name=" ".join((entry.used_family_name or entry.birth_family_name).split()),
        address_lines=address_lines(entry),
        code=code,
        activation_url=url,
        opposition_deadline=deadline,
        letter_date=today,
    )


def _write_atomically(path: Path, letters: list[LetterInput]) -> None:
    """Write the batch under a temporary name, sync it, then rename it into place: a file with
    the final name is always whole."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        with temporary.open("wb") as out:
            render_batch(letters, out)
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # The rename is durable once the directory is synced (POSIX; elsewhere, best effort).
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _mark_sent(
    db: Connection,
    entries: dict[str, tuple[Any, RegistryEntry]],
    deadlines: dict[str, date],
    reference: str,
    now: datetime,
) -> None:
    db.execute(
        update(_notice)
        .where(_notice.c.id == bindparam("n_id"))
        .values(
            status=NoticeStatus.LETTER_SENT.value,
            letter_batch=reference,
            opposition_ends=bindparam("n_ends"),
            updated_at=now,
        ),
        [
            {"n_id": person.notice_id, "n_ends": deadlines[person_id]}
            for person_id, (person, _) in entries.items()
        ],
    )
    db.execute(
        update(_beneficiary)
        .where(
            _beneficiary.c.id.in_(list(entries)),
            _beneficiary.c.status == BeneficiaryStatus.LETTER_DUE.value,
        )
        .values(status=BeneficiaryStatus.NOTIFIED.value, status_at=now)
    )
    # The letter informs the holder's minors too: they follow the holder to ``notified``.
    db.execute(
        update(_beneficiary)
        .where(
            minors_of(list(entries)),
            _beneficiary.c.status == BeneficiaryStatus.LETTER_DUE.value,
        )
        .values(status=BeneficiaryStatus.NOTIFIED.value, status_at=now)
    )
