"""Tables of the enrollment area (private: other areas go through ``enrollment.service``).

``enrollment_beneficiary`` holds one row per person the insurer lists. Nothing identifying is
in clear: the row is found by a blind index of the NIR (a keyed hash, useless without the
keyring), and the identifying values are one sealed document, encrypted with the person's own
data key (see ``registry_import``). The département and the status are in clear because
notification waves are planned by département, over millions of rows, without opening any.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from carnet.core.db import BigIntegerKey, UTCDateTime, metadata

beneficiary = Table(
    "enrollment_beneficiary",
    metadata,
    # Made in Python at registration; also the id of the space's Patient and the owner of the
    # person's data key, so the space opened later reuses both.
    Column("id", String(36), primary_key=True),
    Column("nir_index", String(32), nullable=False, unique=True),  # storage.blind_index
    # A dependant (ayant droit) points at the holder (ouvrant droit) they are attached to.
    Column("holder_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=True),
    Column("departement", String(3), nullable=False),
    Column("status", String(16), nullable=False),  # schemas.BeneficiaryStatus
    Column("status_at", UTCDateTime, nullable=False),  # when the status last changed
    Column("sealed", LargeBinary, nullable=False),  # the RegistryEntry, sealed (DataKey.seal)
    # A keyed hash of the normalised line: an unchanged line is recognised without opening
    # anything, so a re-import writes nothing.
    Column("content_mac", String(32), nullable=False),
    # The last run whose file listed this person, and on which line: a second line for the same
    # NIR in one file is then found by the database, not by a set of every NIR in memory.
    Column("seen_run", BigInteger, nullable=False),
    Column("seen_line", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_enrollment_beneficiary_holder_id", beneficiary.c.holder_id)
# Waves walk one département's registered people in id order (``campaigns``): the id closes
# the index so each step is a range scan, not a sort of the whole département.
Index(
    "ix_enrollment_beneficiary_wave",
    beneficiary.c.departement,
    beneficiary.c.status,
    beneficiary.c.id,
)

# Signed changes of the number of people per département and status, appended by triggers on
# ``enrollment_beneficiary`` and folded from time to time (``tally``): the dashboard's counts.
status_tally = Table(
    "enrollment_status_tally",
    metadata,
    Column("id", BigIntegerKey, primary_key=True, autoincrement=True),
    Column("departement", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("delta", BigInteger, nullable=False),
)

registry_run = Table(
    "enrollment_registry_run",
    metadata,
    Column("run", BigIntegerKey, primary_key=True, autoincrement=True),
    Column("source_digest", String(64), nullable=False),  # SHA-256 of the file
    Column("source_name", String(255), nullable=False),  # the file's name, for operators
    Column("status", String(16), nullable=False),  # schemas.RunStatus
    Column("lines_done", BigInteger, nullable=False),  # last line of the last committed batch
    Column("report", Text, nullable=False),  # the running RegistryReport's counters, as JSON
    Column("report_path", String(1024), nullable=True),  # the CSV of rejected lines
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),  # heartbeat: each committed batch
    Column("finished_at", UTCDateTime, nullable=True),
)
Index("ix_enrollment_registry_run_status", registry_run.c.status, registry_run.c.source_digest)

campaign = Table(
    "enrollment_campaign",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),  # schemas.CampaignKind
    Column("departements", Text, nullable=False),  # codes, comma-separated, in walking order
    Column("send_date", Date, nullable=False),
    Column("opposition_ends", Date, nullable=False),  # send date + the opposition window
    Column("status", String(16), nullable=False),  # schemas.CampaignStatus
    # Where the walk stands: the département and the last beneficiary id done in it.
    Column("cursor_departement", String(3), nullable=True),
    Column("cursor_id", String(36), nullable=True),
    Column("emailed", BigInteger, nullable=False),
    Column("letters_due", BigInteger, nullable=False),
    Column("skipped", BigInteger, nullable=False),  # erased data: nothing to send
    Column("created_by", String(160), nullable=False),  # the actor, "kind:id"
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
)

notice = Table(
    "enrollment_notice",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("campaign_id", String(36), ForeignKey("enrollment_campaign.id"), nullable=False),
    Column("beneficiary_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("channel", String(16), nullable=False),  # email | letter
    Column("status", String(16), nullable=False),  # schemas.NoticeStatus
    Column("opposition_ends", Date, nullable=False),
    # The print batch whose PDF carries this notice's letter ("<campaign id>-<batch number>").
    Column("letter_batch", String(48), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # One notice per person and campaign, whatever a crash or a second run does.
    UniqueConstraint("campaign_id", "beneficiary_id"),
)
Index("ix_enrollment_notice_beneficiary_id", notice.c.beneficiary_id)
# The same for notices, per département of their person, channel and status (``tally``).
notice_tally = Table(
    "enrollment_notice_tally",
    metadata,
    Column("id", BigIntegerKey, primary_key=True, autoincrement=True),
    Column("departement", String(3), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("delta", BigInteger, nullable=False),
)

activation_code = Table(
    "enrollment_activation_code",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("beneficiary_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    # A keyed hash (storage.blind_index) of the code, bound to the beneficiary: never the code.
    Column("code_mac", String(32), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),  # used, replaced or burnt
)
Index(
    "ix_enrollment_activation_code_beneficiary_id",
    activation_code.c.beneficiary_id,
    activation_code.c.used_at,
)

throttle = Table(
    "enrollment_throttle",
    metadata,
    # "<purpose>:<blind index>": the NIR as a keyed hash, so failures on NIRs nobody holds are
    # counted too and the table names nobody.
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)

# --- the space and its life cycle (opening, activation, closure) ------------------------------
# (tables of ``opening``, ``activation`` and ``closure``; migration 2026-11-26_enrollment_spaces)
space = Table(
    "enrollment_space",
    metadata,
    # The beneficiary's id: also the Patient's id and the owner of the data key (one key, reused).
    Column("patient_id", String(36), ForeignKey("enrollment_beneficiary.id"), primary_key=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_by", String(16), nullable=False),  # automatic | request | activation
    Column("dmp_merge", String(16), nullable=False),  # pending | merged | none | refused
    Column("activated_at", UTCDateTime, nullable=True),
    Column("account_id", String(36), nullable=True),  # the holder's own account, once activated
    Column("terms_version", String(16), nullable=True),
    Column("terms_accepted_at", UTCDateTime, nullable=True),
    # First choices (activation; settings later). Legal defaults: documents visible to
    # authorised professionals; SAMU and break-the-glass allowed unless the person objects
    # (L1111-17); masked documents stay masked in an emergency unless the person allows it.
    Column("default_confidentiality", String(16), nullable=False),  # visible | masked
    Column("samu_access", Boolean, nullable=False),
    Column("break_glass_access", Boolean, nullable=False),
    Column("emergency_masked_access", Boolean, nullable=False),
    Column("suspended_at", UTCDateTime, nullable=True),
    Column("suspended_by", String(160), nullable=True),  # the operator, "kind:id"
    Column("closed_at", UTCDateTime, nullable=True),
    Column("close_reason", String(16), nullable=True),  # holder | death | fraud
    Column("deletion_requested_at", UTCDateTime, nullable=True),
    # When the archive is destroyed (crypto-shredding): closing + 10 years, or sooner on a
    # deletion request (within 3 months). The retention job walks this index.
    Column("erase_after", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_enrollment_space_erase_after", space.c.erase_after)
Index("ix_enrollment_space_suspended_at", space.c.suspended_at)
# The opening job walks the people in one status (``notified``) in id order from a cursor: a
# range scan over those still due, not a pass over every beneficiary at each run.
Index("ix_enrollment_beneficiary_status", beneficiary.c.status, beneficiary.c.id)

# --- opposition ---------------------------------------------------------------------------------
# (tables of ``opposition``; migration 2026-11-26_enrollment_opposition)
opposition = Table(
    "enrollment_opposition",
    metadata,
    Column("id", String(36), primary_key=True),
    # One opposition per person: a second one (online or by phone) gets the same receipt.
    Column(
        "beneficiary_id",
        String(36),
        ForeignKey("enrollment_beneficiary.id"),
        nullable=False,
        unique=True,
    ),
    Column("channel", String(8), nullable=False),  # schemas.OppositionChannel: online | phone
    Column("operator", String(160), nullable=True),  # by phone: the operator, "kind:id"
    Column("opposed_at", UTCDateTime, nullable=False),
    # The public receipt reference printed on the proof: random, names nobody.
    Column("reference", String(24), nullable=False, unique=True),
    # Opposition also refuses the merge of a pre-existing DMP (R1111-28): kept explicit.
    Column("dmp_merge_refused", Boolean, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),  # changed their mind: asked for a space
)

# --- families: legal representatives and caregivers ---------------------------------------------
# (tables of ``families`` and ``caregivers``; migration 2026-11-26_enrollment_families)
representative = Table(
    "enrollment_representative",
    metadata,
    # A legal representative acting for a child through their own account's profiles: the
    # holder the registry attaches the child to, then the second representative they invite.
    Column("child_id", String(36), ForeignKey("enrollment_beneficiary.id"), primary_key=True),
    Column(
        "representative_id", String(36), ForeignKey("enrollment_beneficiary.id"), primary_key=True
    ),
    Column("role", String(16), nullable=False),  # holder | second
    Column("account_id", String(36), nullable=False),  # the account whose profiles hold the child
    Column("since", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("end_reason", String(16), nullable=True),  # majority
)
Index("ix_enrollment_representative_representative_id", representative.c.representative_id)

family_invitation = Table(
    "enrollment_family_invitation",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("child_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("inviter_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("invitee_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("status", String(16), nullable=False),  # schemas.InvitationStatus
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime, nullable=True),
)
Index("ix_enrollment_family_invitation_child_id", family_invitation.c.child_id)
Index(
    "ix_enrollment_family_invitation_invitee",
    family_invitation.c.invitee_id,
    family_invitation.c.status,
)

caregiver = Table(
    "enrollment_caregiver",
    metadata,
    Column("id", String(36), primary_key=True),
    # The person helped (aidé) and their caregiver (aidant): both beneficiaries with a space.
    Column("person_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("caregiver_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("status", String(16), nullable=False),  # schemas.InvitationStatus
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("ended_by", String(16), nullable=True),  # person | caregiver | carnet
    Column("document_id", String(64), nullable=True),  # the DocumentReference of the PDF proof
)
Index("ix_enrollment_caregiver_person", caregiver.c.person_id, caregiver.c.status)
Index("ix_enrollment_caregiver_caregiver", caregiver.c.caregiver_id, caregiver.c.status)

dependant = Table(
    "enrollment_dependant",
    metadata,
    # The coming-of-age job finds children by a blind index of their 18th birthday (the birth
    # date stays sealed): each dependant is opened once, when the job first meets them.
    Column("beneficiary_id", String(36), ForeignKey("enrollment_beneficiary.id"), primary_key=True),
    Column("adult_mac", String(32), nullable=False),
    Column("adult_done_at", UTCDateTime, nullable=True),
)
Index("ix_enrollment_dependant_adult_mac", dependant.c.adult_mac)

# --- activation tickets -------------------------------------------------------------------------
# (tables of ``activation``; migration 2026-11-26_enrollment_activation)
activation = Table(
    "enrollment_activation",
    metadata,
    # One activation in progress: a browser holds a random token (HttpOnly cookie); the row
    # keeps its keyed hash only. Secrets carried between steps (the contact to verify, the
    # chosen login and password hash) are sealed with the person's data key.
    Column("id", String(36), primary_key=True),
    Column("token_mac", String(32), nullable=False, unique=True),  # storage.blind_index
    Column("beneficiary_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("method", String(16), nullable=False),  # code | franceconnect
    # The activation code row the person proved (burnt only when the space is activated).
    Column("code_id", String(36), ForeignKey("enrollment_activation_code.id"), nullable=True),
    Column("step", String(16), nullable=False),  # contact, verify, account, terms, choices, done
    Column("channel", String(8), nullable=True),  # email | sms: where the one-time code went
    Column("sealed", LargeBinary, nullable=True),  # contact, login, password hash (sealed JSON)
    Column("otp_mac", String(32), nullable=True),  # keyed hash of the contact's one-time code
    Column("otp_attempts", Integer, nullable=False),
    Column("otp_sent", Integer, nullable=False),  # codes sent (bounded: no SMS bombing)
    Column("otp_expires_at", UTCDateTime, nullable=True),
    Column("terms_version", String(16), nullable=True),
    Column("terms_accepted_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
)
Index("ix_enrollment_activation_beneficiary_id", activation.c.beneficiary_id)
Index("ix_enrollment_activation_expires_at", activation.c.expires_at)

# --- closure and retention ----------------------------------------------------------------------
# (tables of ``closure``; migration 2026-11-26_enrollment_closure)
space_event = Table(
    "enrollment_space_event",
    metadata,
    # A space's closure history: closed, reopened, suspended, lifted, erased, and deaths the
    # registry reported (``death``: done_at stays NULL until the closure job has closed the
    # space). Ids and codes only, so the history outlives the erased data and names nobody.
    Column("id", String(36), primary_key=True),
    Column("patient_id", String(36), ForeignKey("enrollment_beneficiary.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # closure.EventKind
    Column("reason", String(16), nullable=True),  # close or suspension reason
    Column("actor", String(160), nullable=False),  # "kind:id"
    Column("at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
)
Index("ix_enrollment_space_event_patient_id", space_event.c.patient_id, space_event.c.at)
Index("ix_enrollment_space_event_pending", space_event.c.done_at, space_event.c.kind)

# --- notification throughput, bounces -----------------------------------------------------------
# (changes of ``campaigns`` and ``notices``; migration 2026-11-26_enrollment_campaigns_v2)
newcomers_wave = Table(
    "enrollment_newcomers_wave",
    metadata,
    # The ISO week of a weekly newcomers' campaign ("2026-W48"): one campaign a week, whatever
    # runs the job twice.
    Column("week", String(8), primary_key=True),
    Column("campaign_id", String(36), ForeignKey("enrollment_campaign.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
