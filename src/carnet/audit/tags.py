"""Typed event tags, ``area:subject:action``, and their FHIR AuditEvent codes.

The codes come from the standard systems AuditEvent uses: the DICOM audit event types
(http://dicom.nema.org/resources/ontology/DCM), the FHIR audit-event-type and
restful-interaction systems, and the AuditEvent action codes (C, R, U, D, E).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DCM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"


class EventTag(StrEnum):
    RECORD_RESOURCE_CREATE = "record:resource:create"
    RECORD_RESOURCE_READ = "record:resource:read"
    RECORD_RESOURCE_VREAD = "record:resource:vread"
    RECORD_RESOURCE_UPDATE = "record:resource:update"
    RECORD_RESOURCE_DELETE = "record:resource:delete"
    RECORD_RESOURCE_HISTORY = "record:resource:history"
    RECORD_RESOURCE_SEARCH = "record:resource:search"
    RECORD_BLOB_READ = "record:blob:read"
    RECORD_RESOURCE_PATCH = "record:resource:patch"
    RECORD_BUNDLE_TRANSACTION = "record:bundle:transaction"
    RECORD_BUNDLE_BATCH = "record:bundle:batch"
    RECORD_RESOURCE_HISTORY_TYPE = "record:resource:history-type"
    RECORD_RESOURCE_HISTORY_SYSTEM = "record:resource:history-system"
    RECORD_PATIENT_EVERYTHING = "record:patient:everything"
    RECORD_EXPORT_START = "record:export:start"
    RECORD_EXPORT_STATUS = "record:export:status"
    RECORD_EXPORT_COMPLETE = "record:export:complete"
    RECORD_EXPORT_DOWNLOAD = "record:export:download"
    RECORD_EXPORT_DELETE = "record:export:delete"
    RECORD_EXPORT_EXPIRE = "record:export:expire"
    STORAGE_KEY_ROTATE = "storage:key:rotate"
    STORAGE_KEY_DESTROY = "storage:key:destroy"
    AUTHZ_CLIENT_REGISTER = "authz:client:register"
    AUTHZ_CLIENT_DISABLE = "authz:client:disable"
    AUTHZ_TOKEN_ISSUE = "authz:token:issue"  # noqa: S105 - an event name, not a secret
    AUTHZ_TOKEN_REFUSE = "authz:token:refuse"  # noqa: S105 - an event name, not a secret
    AUDIT_CHAIN_VERIFY = "audit:chain:verify"
    IDENTITY_ACCOUNT_CREATE = "identity:account:create"
    IDENTITY_SIGN_IN_PASSWORD = "identity:sign-in:password"  # noqa: S105 - an event name
    IDENTITY_SIGN_IN_SECOND_FACTOR = "identity:sign-in:second-factor"
    IDENTITY_SIGN_IN_LOCKOUT = "identity:sign-in:lockout"
    IDENTITY_SESSION_OPEN = "identity:session:open"
    IDENTITY_SESSION_REVOKE = "identity:session:revoke"
    IDENTITY_SESSION_REVOKE_ALL = "identity:session:revoke-all"
    IDENTITY_PROFILE_SWITCH = "identity:profile:switch"
    IDENTITY_FACTOR_CHANGE = "identity:factor:change"
    IDENTITY_DEVICE_TRUST = "identity:device:trust"
    IDENTITY_DEVICE_REVOKE = "identity:device:revoke"
    IDENTITY_PASSWORD_CHANGE = "identity:password:change"  # noqa: S105 - an event name
    IDENTITY_RECOVERY_START = "identity:recovery:start"
    IDENTITY_OPERATOR_ACTION = "identity:operator:action"
    IDENTITY_FEDERATION_SIGN_IN = "identity:federation:sign-in"
    IDENTITY_FEDERATION_SIGN_OUT = "identity:federation:sign-out"
    ENROLLMENT_REGISTRY_IMPORT = "enrollment:registry:import"
    ENROLLMENT_CAMPAIGN_START = "enrollment:campaign:start"
    ENROLLMENT_CAMPAIGN_STEP = "enrollment:campaign:step"
    ENROLLMENT_NOTICE_BOUNCE = "enrollment:notice:bounce"
    ENROLLMENT_LETTER_BATCH = "enrollment:letter:batch"
    ENROLLMENT_CODE_REGENERATE = "enrollment:code:regenerate"
    ENROLLMENT_SPACE_CLOSE = "enrollment:space:close"
    ENROLLMENT_SPACE_REOPEN = "enrollment:space:reopen"
    ENROLLMENT_SPACE_SUSPEND = "enrollment:space:suspend"
    ENROLLMENT_SPACE_LIFT = "enrollment:space:lift"
    ENROLLMENT_SPACE_ERASE = "enrollment:space:erase"
    ENROLLMENT_CHILD_ACTIVATE = "enrollment:child:activate"
    ENROLLMENT_FAMILY_INVITE = "enrollment:family:invite"
    ENROLLMENT_FAMILY_ANSWER = "enrollment:family:answer"
    ENROLLMENT_FAMILY_MAJORITY = "enrollment:family:majority"
    ENROLLMENT_FAMILY_WITHDRAW = "enrollment:family:withdraw"
    ENROLLMENT_FAMILY_END = "enrollment:family:end"
    ENROLLMENT_CAREGIVER_INVITE = "enrollment:caregiver:invite"
    ENROLLMENT_CAREGIVER_ANSWER = "enrollment:caregiver:answer"
    ENROLLMENT_CAREGIVER_REVOKE = "enrollment:caregiver:revoke"
    ENROLLMENT_CAREGIVER_PROOF = "enrollment:caregiver:proof"
    ENROLLMENT_ACTIVATION_START = "enrollment:activation:start"
    ENROLLMENT_ACTIVATION_CONTACT = "enrollment:activation:contact"
    ENROLLMENT_ACTIVATION_COMPLETE = "enrollment:activation:complete"
    ENROLLMENT_CONSOLE_LOOKUP = "enrollment:console:lookup"
    ENROLLMENT_CONSOLE_CODE_RESEND = "enrollment:console:code-resend"
    ENROLLMENT_OPPOSITION_RECORD = "enrollment:opposition:record"
    ENROLLMENT_OPPOSITION_PROOF = "enrollment:opposition:proof"
    ENROLLMENT_OPPOSITION_WITHDRAW = "enrollment:opposition:withdraw"
    ENROLLMENT_SPACE_OPEN = "enrollment:space:open"
    ENROLLMENT_SPACE_OPENING_BATCH = "enrollment:space:opening-batch"
    ENROLLMENT_SPACE_CHOOSE = "enrollment:space:choose"


class Outcome(StrEnum):
    """The outcome of the audited action, mapped to AuditEvent.outcome codes."""

    SUCCESS = "success"  # 0
    REFUSED = "refused"  # 4: refused by the access rules (the caller saw "not found")
    NOT_FOUND = "not-found"  # 4
    INVALID = "invalid"  # 4: the request was malformed or invalid
    CONFLICT = "conflict"  # 4
    GONE = "gone"  # 4
    ERROR = "error"  # 8: the server failed


OUTCOME_CODES = {
    Outcome.SUCCESS: "0",
    Outcome.REFUSED: "4",
    Outcome.NOT_FOUND: "4",
    Outcome.INVALID: "4",
    Outcome.CONFLICT: "4",
    Outcome.GONE: "4",
    Outcome.ERROR: "8",
}


@dataclass(frozen=True, slots=True)
class AuditCoding:
    type_system: str
    type_code: str
    type_display: str
    subtype_system: str | None
    subtype_code: str | None
    action: str  # C R U D E


_REST = (AUDIT_TYPE, "rest", "RESTful Operation")
_LOGIN = (DCM, "110114", "User Authentication")
_SECURITY_ALERT = (DCM, "110113", "Security Alert")
_ATTRIBUTES = (DCM, "110137", "User Security Attributes Changed")
_EXPORT = (DCM, "110106", "Export")

CODES: dict[EventTag, AuditCoding] = {
    EventTag.RECORD_RESOURCE_CREATE: AuditCoding(*_REST, RESTFUL, "create", "C"),
    EventTag.RECORD_RESOURCE_READ: AuditCoding(*_REST, RESTFUL, "read", "R"),
    EventTag.RECORD_RESOURCE_VREAD: AuditCoding(*_REST, RESTFUL, "vread", "R"),
    EventTag.RECORD_RESOURCE_UPDATE: AuditCoding(*_REST, RESTFUL, "update", "U"),
    EventTag.RECORD_RESOURCE_DELETE: AuditCoding(*_REST, RESTFUL, "delete", "D"),
    EventTag.RECORD_RESOURCE_HISTORY: AuditCoding(*_REST, RESTFUL, "history-instance", "R"),
    EventTag.RECORD_RESOURCE_SEARCH: AuditCoding(*_REST, RESTFUL, "search-type", "E"),
    EventTag.RECORD_BLOB_READ: AuditCoding(*_REST, RESTFUL, "read", "R"),
    EventTag.RECORD_RESOURCE_PATCH: AuditCoding(*_REST, RESTFUL, "patch", "U"),
    # One event per patient chain a transaction touched, listing its entries (docs/architecture).
    EventTag.RECORD_BUNDLE_TRANSACTION: AuditCoding(*_REST, RESTFUL, "transaction", "E"),
    EventTag.RECORD_BUNDLE_BATCH: AuditCoding(*_REST, RESTFUL, "batch", "E"),
    EventTag.RECORD_RESOURCE_HISTORY_TYPE: AuditCoding(*_REST, RESTFUL, "history-type", "R"),
    EventTag.RECORD_RESOURCE_HISTORY_SYSTEM: AuditCoding(*_REST, RESTFUL, "history-system", "R"),
    EventTag.RECORD_PATIENT_EVERYTHING: AuditCoding(*_REST, RESTFUL, "operation", "E"),
    # DICOM 110106 "Export": data leaving the system's control (a bulk export and its files).
    EventTag.RECORD_EXPORT_START: AuditCoding(*_EXPORT, RESTFUL, "operation", "E"),
    EventTag.RECORD_EXPORT_STATUS: AuditCoding(*_REST, RESTFUL, "operation", "R"),
    EventTag.RECORD_EXPORT_COMPLETE: AuditCoding(*_EXPORT, None, None, "R"),
    EventTag.RECORD_EXPORT_DOWNLOAD: AuditCoding(*_EXPORT, None, None, "R"),
    EventTag.RECORD_EXPORT_DELETE: AuditCoding(*_EXPORT, None, None, "D"),
    EventTag.RECORD_EXPORT_EXPIRE: AuditCoding(*_EXPORT, None, None, "D"),
    EventTag.STORAGE_KEY_ROTATE: AuditCoding(DCM, "110113", "Security Alert", None, None, "E"),
    EventTag.STORAGE_KEY_DESTROY: AuditCoding(DCM, "110113", "Security Alert", None, None, "D"),
    EventTag.AUTHZ_CLIENT_REGISTER: AuditCoding(DCM, "110113", "Security Alert", None, None, "C"),
    EventTag.AUTHZ_CLIENT_DISABLE: AuditCoding(DCM, "110113", "Security Alert", None, None, "U"),
    EventTag.AUTHZ_TOKEN_ISSUE: AuditCoding(DCM, "110114", "User Authentication", None, None, "E"),
    EventTag.AUTHZ_TOKEN_REFUSE: AuditCoding(DCM, "110114", "User Authentication", None, None, "E"),
    EventTag.AUDIT_CHAIN_VERIFY: AuditCoding(DCM, "110113", "Security Alert", None, None, "E"),
    EventTag.IDENTITY_ACCOUNT_CREATE: AuditCoding(*_ATTRIBUTES, None, None, "C"),
    EventTag.IDENTITY_SIGN_IN_PASSWORD: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_SIGN_IN_SECOND_FACTOR: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_SIGN_IN_LOCKOUT: AuditCoding(*_SECURITY_ALERT, None, None, "E"),
    EventTag.IDENTITY_SESSION_OPEN: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_SESSION_REVOKE: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_SESSION_REVOKE_ALL: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_PROFILE_SWITCH: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_FACTOR_CHANGE: AuditCoding(*_ATTRIBUTES, None, None, "U"),
    EventTag.IDENTITY_DEVICE_TRUST: AuditCoding(*_ATTRIBUTES, None, None, "C"),
    EventTag.IDENTITY_DEVICE_REVOKE: AuditCoding(*_ATTRIBUTES, None, None, "D"),
    EventTag.IDENTITY_PASSWORD_CHANGE: AuditCoding(*_ATTRIBUTES, None, None, "U"),
    EventTag.IDENTITY_RECOVERY_START: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_OPERATOR_ACTION: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "E"
    ),
    # FranceConnect and Pro Santé Connect: success or refusal (state, token, acr, no match).
    EventTag.IDENTITY_FEDERATION_SIGN_IN: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.IDENTITY_FEDERATION_SIGN_OUT: AuditCoding(*_LOGIN, None, None, "E"),
    # DICOM 110107 "Import": one batch of the insurer's beneficiary file entering the registry.
    EventTag.ENROLLMENT_REGISTRY_IMPORT: AuditCoding(DCM, "110107", "Import", None, None, "C"),
    # A notification wave: the operator's start, then one event per step (counts only).
    EventTag.ENROLLMENT_CAMPAIGN_START: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "C"
    ),
    EventTag.ENROLLMENT_CAMPAIGN_STEP: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "E"
    ),
    EventTag.ENROLLMENT_NOTICE_BOUNCE: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "U"
    ),
    # One print batch of letters written and its people marked (counts only).
    EventTag.ENROLLMENT_LETTER_BATCH: AuditCoding(*_EXPORT, None, None, "E"),
    # A person asking for a new activation code proves who they are: an authentication event.
    EventTag.ENROLLMENT_CODE_REGENERATE: AuditCoding(*_LOGIN, None, None, "E"),
    # A space's end and return (closure): closing, reopening, suspension and its lifting, and
    # the crypto-shredding of its archive (on the system chain: the person's is then moot).
    EventTag.ENROLLMENT_SPACE_CLOSE: AuditCoding(*_ATTRIBUTES, None, None, "U"),
    EventTag.ENROLLMENT_SPACE_REOPEN: AuditCoding(*_ATTRIBUTES, None, None, "U"),
    EventTag.ENROLLMENT_SPACE_SUSPEND: AuditCoding(*_SECURITY_ALERT, None, None, "U"),
    EventTag.ENROLLMENT_SPACE_LIFT: AuditCoding(*_SECURITY_ALERT, None, None, "U"),
    EventTag.ENROLLMENT_SPACE_ERASE: AuditCoding(*_SECURITY_ALERT, None, None, "D"),
    # Families and caregivers: who may act for whom (security attributes of both people).
    EventTag.ENROLLMENT_CHILD_ACTIVATE: AuditCoding(*_ATTRIBUTES, None, None, "C"),
    EventTag.ENROLLMENT_FAMILY_INVITE: AuditCoding(*_ATTRIBUTES, None, None, "C"),
    EventTag.ENROLLMENT_FAMILY_ANSWER: AuditCoding(*_ATTRIBUTES, None, None, "U"),
    EventTag.ENROLLMENT_FAMILY_MAJORITY: AuditCoding(*_ATTRIBUTES, None, None, "D"),
    EventTag.ENROLLMENT_FAMILY_WITHDRAW: AuditCoding(*_ATTRIBUTES, None, None, "U"),
    EventTag.ENROLLMENT_FAMILY_END: AuditCoding(*_ATTRIBUTES, None, None, "D"),
    EventTag.ENROLLMENT_CAREGIVER_INVITE: AuditCoding(*_ATTRIBUTES, None, None, "C"),
    EventTag.ENROLLMENT_CAREGIVER_ANSWER: AuditCoding(*_ATTRIBUTES, None, None, "U"),
    EventTag.ENROLLMENT_CAREGIVER_REVOKE: AuditCoding(*_ATTRIBUTES, None, None, "D"),
    EventTag.ENROLLMENT_CAREGIVER_PROOF: AuditCoding(*_ATTRIBUTES, None, None, "R"),
    # Activation: the identity proof (code + NIR + Vitale serial + birth date), the contact's
    # one-time code, then the account and first choices (success or refusal each time).
    EventTag.ENROLLMENT_ACTIVATION_START: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.ENROLLMENT_ACTIVATION_CONTACT: AuditCoding(*_LOGIN, None, None, "E"),
    EventTag.ENROLLMENT_ACTIVATION_COMPLETE: AuditCoding(*_ATTRIBUTES, None, None, "C"),
    # An operator of the console looked a person up by NIR (on that person's chain): a read.
    EventTag.ENROLLMENT_CONSOLE_LOOKUP: AuditCoding(
        DCM, "110110", "Patient Record", None, None, "R"
    ),
    # An operator sent a person a new activation code (or put them back in line for a letter).
    EventTag.ENROLLMENT_CONSOLE_CODE_RESEND: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "E"
    ),
    # Opposition to a space (online or by phone), its proof issued, and a change of mind.
    EventTag.ENROLLMENT_OPPOSITION_RECORD: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "C"
    ),
    EventTag.ENROLLMENT_OPPOSITION_PROOF: AuditCoding(*_EXPORT, None, None, "R"),
    EventTag.ENROLLMENT_OPPOSITION_WITHDRAW: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "U"
    ),
    # A space opened (one event in the person's chain), a batch of the opening job (counts, in
    # the system chain), and the person's first choices or later settings.
    EventTag.ENROLLMENT_SPACE_OPEN: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "C"
    ),
    EventTag.ENROLLMENT_SPACE_OPENING_BATCH: AuditCoding(
        DCM, "110100", "Application Activity", None, None, "E"
    ),
    EventTag.ENROLLMENT_SPACE_CHOOSE: AuditCoding(*_ATTRIBUTES, None, None, "U"),
}
