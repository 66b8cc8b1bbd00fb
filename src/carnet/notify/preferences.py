"""Per kind of notification, whether a person also wants an e-mail (the notification centre).

The item in the portal always exists; the preference decides only the e-mail, which says
nothing but "something new is waiting" (``inbox``). A kind without a stored choice sends an
e-mail (the default of the real service); a choice is stored per (person, kind).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, delete, insert, select

from carnet.notify import models
from carnet.notify.errors import InvalidContext
from carnet.notify.schemas import INBOX_KINDS

DEFAULT_BY_EMAIL = True
_p = models.preference


def email_choices(db: Connection, *, patient_id: str) -> dict[str, bool]:
    """Every kind (in ``INBOX_KINDS`` order) mapped to whether the person wants an e-mail."""
    stored = dict(
        db.execute(select(_p.c.kind, _p.c.by_email).where(_p.c.patient_id == patient_id)).all()
    )
    return {kind: bool(stored.get(kind, DEFAULT_BY_EMAIL)) for kind in INBOX_KINDS}


def wants_email(db: Connection, *, patient_id: str, kind: str) -> bool:
    """Whether a new item of ``kind`` should lead to an e-mail for the person."""
    stored = db.execute(
        select(_p.c.by_email).where(_p.c.patient_id == patient_id, _p.c.kind == kind)
    ).scalar()
    return DEFAULT_BY_EMAIL if stored is None else bool(stored)


def set_email_choices(db: Connection, *, patient_id: str, by_email: Mapping[str, bool]) -> None:
    """Store the person's choices for the kinds given (others keep theirs). Raises
    ``InvalidContext`` for an unknown kind, before writing anything."""
    unknown = set(by_email) - set(INBOX_KINDS)
    if unknown:
        raise InvalidContext(f"unknown notification kinds {sorted(unknown)}")
    if not by_email:
        return
    db.execute(delete(_p).where(_p.c.patient_id == patient_id, _p.c.kind.in_(list(by_email))))
    db.execute(
        insert(_p),
        [
            {"patient_id": patient_id, "kind": kind, "by_email": bool(choice)}
            for kind, choice in by_email.items()
        ],
    )
