"""The operators' console: read models (the dashboard, a person found by NIR) and the support
actions that are the console's own (a new activation code). Phone opposition and suspension
are ``opposition`` and ``closure``'s; the console's pages call them.

- **Counts, never people.** The dashboard groups ``enrollment_beneficiary`` by département and
  status over its ``(departement, status, id)`` index (an index-only scan: the sealed rows are
  never read), and the notices' outcomes by the département of their person. Measured on
  PostgreSQL with 100,000 people and 70,000 notices: 0.18 s (the status counts 45 ms, an
  index-only scan; the notice counts 120 ms, a scan of the notices hash-joined to that index).
  Both grow linearly: at national scale (65 million) that is about a minute, so the page
  would then need counters kept per département and status, or a summary refreshed by a job.
- **A lookup is a read of a person.** It goes through the NIR's blind index (the NIR is never
  stored or compared in clear) and is audited on that person's chain with the operator as
  actor; an unknown NIR is audited on the system chain (nobody to name).
- **Shown masked.** The operator sees names and birth date (to check a caller's identity), the
  NIR's first digits only, contacts masked, never the Vitale serial (a caller proves it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, func, select

from carnet.audit.service import AuditRecord, EventTag, Outcome
from carnet.core.actor import Actor
from carnet.core.errors import NotFound
from carnet.enrollment import enrollment_codes, models, tally
from carnet.enrollment.campaigns import Wiring
from carnet.enrollment.code_requests import CODE_TEMPLATE
from carnet.enrollment.errors import CodeNotResent, InvalidNir
from carnet.enrollment.registry_apply import NIR_DOMAIN, open_entry
from carnet.enrollment.schemas import (
    BeneficiaryStatus,
    CodeResent,
    ConsolePerson,
    ConsoleSpace,
    DepartementCounts,
    NoticeChannel,
    NoticeLine,
    NoticeStatus,
    RegistryEntry,
)
from carnet.identity import service as identity_service
from carnet.notify import service as notify_service
from carnet.storage.service import join_data_key

_b = models.beneficiary
_n = models.notice
_code = models.activation_code
_space = models.space
_NIR_SHAPE: Final = re.compile(r"[0-9]{5}(?:2[AB]|[0-9]{2})[0-9]{8}")
_STATUS_FIELDS: Final = {
    BeneficiaryStatus.REGISTERED: "registered",
    BeneficiaryStatus.NOTIFIED: "notified",
    BeneficiaryStatus.LETTER_DUE: "letter_due",
    BeneficiaryStatus.OPPOSED: "opposed",
    BeneficiaryStatus.OPEN: "opened",
    BeneficiaryStatus.ACTIVE: "activated",
    BeneficiaryStatus.SUSPENDED: "suspended",
    BeneficiaryStatus.CLOSED: "closed",
    BeneficiaryStatus.DECEASED: "deceased",
    BeneficiaryStatus.ERASED: "erased",
}
_NOTICE_FIELDS: Final = ("letters_printed", "bounced")
# Notices past these states (an e-mail out, a letter waiting) are not read by the dashboard.
_NOTICE_STATES: Final = (NoticeStatus.LETTER_SENT.value, NoticeStatus.BOUNCED.value)
# Who may get a new code from the console: informed, and no space activated yet.
_CODE_STATUSES: Final = frozenset(
    {BeneficiaryStatus.NOTIFIED, BeneficiaryStatus.LETTER_DUE, BeneficiaryStatus.OPEN}
)


def normalise_nir(nir: str) -> str:
    """The NIR as typed (spaces, lower-case 2a/2b), checked; raises ``InvalidNir`` (``format``
    or ``key``), never naming the value."""
    value = "".join(nir.split()).upper()
    if _NIR_SHAPE.fullmatch(value) is None:
        raise InvalidNir("format")
    if identity_service.nir_key(value[:13]) != value[13:]:
        raise InvalidNir("key")
    if not identity_service.is_valid_nir(value):
        raise InvalidNir("format")
    return value


def mask_nir(nir: str) -> str:
    """Sex, birth year and month only: ``1 84 12 •• ••• ••• ••``."""
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} •• ••• ••• ••"


def mask_email(address: str) -> str:
    if not address:
        return ""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:2]} •• •• •• {mobile[-2:]}" if len(mobile) >= 4 else ""


class Console:
    """The console's reads and its code action (``runtime.enrollment.console``). Methods take
    the caller's transaction and never commit."""

    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring

    def today(self) -> date:
        """Today by the process's clock (the one campaigns and windows use)."""
        return self._wiring.storage.clock.now().date()

    def dashboard(self, db: Connection) -> list[DepartementCounts]:
        """Counts per département (those with anyone listed), in code order; what each count
        means is on ``DepartementCounts``. Statuses and notices from the tallies the database
        keeps as they change (``tally``: a few hundred rows, whatever the registry's size)."""
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for (departement, status), number in tally.counts(db).items():
            field = _STATUS_FIELDS.get(BeneficiaryStatus(status))
            if field is not None:
                counts[departement][field] = number
        for (departement, channel, status), number in tally.notice_counts(db).items():
            if status not in _NOTICE_STATES:
                continue
            found = counts[departement]
            if status == NoticeStatus.LETTER_SENT:
                found["letters_printed"] = found.get("letters_printed", 0) + number
            # A bounced e-mail notice stays an e-mail notice once its letter is printed.
            if channel == NoticeChannel.EMAIL:
                found["bounced"] = found.get("bounced", 0) + number
        fields = [*_STATUS_FIELDS.values(), *_NOTICE_FIELDS]
        result = []
        for departement in sorted(counts, key=_departement_order):
            values = {name: counts[departement].get(name, 0) for name in fields}
            beneficiaries = sum(values[name] for name in _STATUS_FIELDS.values())
            result.append(
                DepartementCounts(departement=departement, beneficiaries=beneficiaries, **values)
            )
        return result

    def campaign_notices(self, db: Connection, *, campaign_id: str) -> dict[str, int]:
        """A campaign's notices by status (``NoticeStatus`` values, zeros included): how many
        e-mails are out, bounced, and letters due or printed. Raises ``NotFound``."""
        if (
            db.execute(
                select(models.campaign.c.id).where(models.campaign.c.id == campaign_id)
            ).first()
            is None
        ):
            raise NotFound("no such campaign")
        counts = dict.fromkeys((s.value for s in NoticeStatus), 0)
        rows = db.execute(
            select(_n.c.status, func.count().label("n"))
            .where(_n.c.campaign_id == campaign_id)
            .group_by(_n.c.status)
        )
        counts.update({row.status: int(row.n) for row in rows})
        return counts

    def lookup(self, db: Connection, *, actor: Actor, nir: str) -> ConsolePerson | None:
        """The person whose NIR (or NIA) is ``nir``, as the console shows them; None when the
        registry does not list them. Raises ``InvalidNir`` for something that is not a NIR.
        Audited: on the person's chain (the operator looked at them), or on the system chain
        when nobody was found."""
        value = normalise_nir(nir)
        index = self._wiring.storage.blind_index(NIR_DOMAIN, value)
        beneficiary_id = db.execute(
            select(_b.c.id).where(_b.c.nir_index == index)
        ).scalar_one_or_none()
        self._audit_lookup(db, actor, beneficiary_id)
        if beneficiary_id is None:
            return None
        return self.person(db, beneficiary_id=beneficiary_id)

    def person(self, db: Connection, *, beneficiary_id: str) -> ConsolePerson:
        """The person ``beneficiary_id`` as the console shows them (after an action on them:
        the action is what is audited). Raises ``NotFound``; ``DataKeyDestroyed`` once erased."""
        row, entry = self._open(db, beneficiary_id)
        now = self._wiring.storage.clock.now()
        notices = tuple(
            NoticeLine(
                campaign_id=n.campaign_id,
                channel=NoticeChannel(n.channel),
                status=NoticeStatus(n.status),
                opposition_ends=n.opposition_ends,
                sent_at=n.created_at,
            )
            for n in db.execute(
                select(_n)
                .where(_n.c.beneficiary_id == beneficiary_id)
                .order_by(_n.c.created_at, _n.c.id)
            )
        )
        expires = db.execute(
            select(func.max(_code.c.expires_at)).where(
                _code.c.beneficiary_id == beneficiary_id,
                _code.c.used_at.is_(None),
                _code.c.expires_at > now,
            )
        ).scalar_one_or_none()
        return ConsolePerson(
            id=row.id,
            status=BeneficiaryStatus(row.status),
            status_at=row.status_at,
            departement=row.departement,
            dependant=row.holder_id is not None,
            nir_masked=mask_nir(entry.nir),
            given_names=entry.given_names,
            family_name=entry.used_family_name or entry.birth_family_name,
            birth_family_name=entry.birth_family_name,
            birth_date=entry.birth_date,
            sex=entry.sex,
            city=entry.city,
            email_masked=mask_email(entry.email),
            email_bounced=any(n.status is NoticeStatus.BOUNCED for n in notices),
            mobile_masked=mask_mobile(entry.mobile),
            code_expires_at=expires,
            notices=notices,
            space=self._space(db, beneficiary_id),
        )

    def nir_of(self, db: Connection, *, beneficiary_id: str) -> str:
        """The NIR of ``beneficiary_id``, in clear, for an action that needs it (a phone
        opposition, after the lookup): never shown, never logged. Raises ``NotFound``."""
        return self._open(db, beneficiary_id)[1].nir

    def resend_code(self, db: Connection, *, actor: Actor, beneficiary_id: str) -> CodeResent:
        """A new activation code for a caller the operator has identified: by e-mail to the
        address on file when it is usable (not bounced), the previous code retired; or, with a
        letter already due, nothing to do (the print run carries a fresh code). Raises
        ``CodeNotResent`` otherwise (see its reasons) and ``NotFound``. Audited either way, on
        the person's chain, with the operator as actor."""
        row, entry = self._open(db, beneficiary_id, lock=True)
        status = BeneficiaryStatus(row.status)
        try:
            outcome = self._resend(db, beneficiary_id, status, entry, dependant=bool(row.holder_id))
        except CodeNotResent as refused:
            self._audit_resend(db, actor, beneficiary_id, Outcome.REFUSED, refused.reason)
            raise
        self._audit_resend(db, actor, beneficiary_id, Outcome.SUCCESS, outcome.value)
        return outcome

    # --- internals ------------------------------------------------------------------------

    def _resend(
        self,
        db: Connection,
        beneficiary_id: str,
        status: BeneficiaryStatus,
        entry: RegistryEntry,
        *,
        dependant: bool,
    ) -> CodeResent:
        if dependant:
            raise CodeNotResent("dependant")
        if status is BeneficiaryStatus.REGISTERED:
            raise CodeNotResent("not-informed")
        if status not in _CODE_STATUSES:
            raise CodeNotResent("status")
        bounced = db.execute(
            select(_n.c.id).where(
                _n.c.beneficiary_id == beneficiary_id,
                _n.c.status == NoticeStatus.BOUNCED.value,
            )
        ).first()
        if entry.email and bounced is None:
            wiring = self._wiring
            now, lifetime = wiring.storage.clock.now(), wiring.settings.code_lifetime
            code = enrollment_codes.replace_code(
                db, wiring.storage, beneficiary_id=beneficiary_id, now=now, lifetime=lifetime
            )
            notify_service.queue_email(
                db,
                wiring.jobs,
                to=entry.email,
                template=CODE_TEMPLATE,
                context={"code": code, "expires_on": (now + lifetime).date().isoformat()},
            )
            return CodeResent.EMAILED
        if status is BeneficiaryStatus.LETTER_DUE:
            return CodeResent.LETTER_PENDING
        # A letter already printed cannot be put back in line (its notice belongs to a print
        # batch): the person asks online for a code by SMS, or waits for the space to open.
        raise CodeNotResent("no-contact")

    def _open(
        self, db: Connection, beneficiary_id: str, *, lock: bool = False
    ) -> tuple[Any, RegistryEntry]:
        joined, key_columns = join_data_key(_b, _b.c.id)
        query = select(_b, *key_columns).select_from(joined).where(_b.c.id == beneficiary_id)
        if lock:
            query = query.with_for_update(of=_b)
        row = db.execute(query).first()
        if row is None:
            raise NotFound("no such person")
        entry = open_entry(self._wiring.storage, row)
        if entry is None:
            raise NotFound("this person's data was erased")
        return row, entry

    def _space(self, db: Connection, beneficiary_id: str) -> ConsoleSpace | None:
        row = db.execute(select(_space).where(_space.c.patient_id == beneficiary_id)).first()
        if row is None:
            return None
        return ConsoleSpace(
            opened_at=row.opened_at,
            opened_by=row.opened_by,
            activated_at=row.activated_at,
            suspended_at=row.suspended_at,
            closed_at=row.closed_at,
            close_reason=row.close_reason,
            deletion_requested_at=row.deletion_requested_at,
            erase_after=row.erase_after,
        )

    def _audit_lookup(self, db: Connection, actor: Actor, beneficiary_id: str | None) -> None:
        self._wiring.audit.record(
            db,
            AuditRecord(
                tag=EventTag.ENROLLMENT_CONSOLE_LOOKUP,
                outcome=Outcome.SUCCESS if beneficiary_id else Outcome.NOT_FOUND,
                actor=actor,
                patient_id=beneficiary_id,
                entity=f"enrollment-beneficiary/{beneficiary_id or '-'}",
            ),
        )

    def _audit_resend(
        self, db: Connection, actor: Actor, beneficiary_id: str, outcome: Outcome, result: str
    ) -> None:
        self._wiring.audit.record(
            db,
            AuditRecord(
                tag=EventTag.ENROLLMENT_CONSOLE_CODE_RESEND,
                outcome=outcome,
                actor=actor,
                patient_id=beneficiary_id,
                entity="enrollment-activation-code",
                detail={"result": result},
            ),
        )


def _departement_order(code: str) -> tuple[int, str]:
    # 01…19, 2A, 2B, 21…95, then the overseas 971…976: the order of the insurer's lists.
    return (int(code[:2]) if code[:2].isdigit() else 20, code)
