"""Canonical URLs of the FR Core profiles, extensions and code systems, and of the national
terminologies (NOS) the identity resources use. Facts, not logic."""

from __future__ import annotations

from typing import Final

from carnet.identity import formats
from carnet.identity.schemas import CollectionMethod, IdentityStatus

_FR_CORE: Final = "https://hl7.fr/ig/fhir/core"
_NOS: Final = "https://mos.esante.gouv.fr/NOS"

PROFILE_PATIENT: Final = f"{_FR_CORE}/StructureDefinition/fr-core-patient"
PROFILE_PATIENT_INS: Final = f"{_FR_CORE}/StructureDefinition/fr-core-patient-ins"

EXT_IDENTITY_RELIABILITY: Final = f"{_FR_CORE}/StructureDefinition/fr-core-identity-reliability"
EXT_BIRTH_LIST_GIVEN_NAME: Final = (
    f"{_FR_CORE}/StructureDefinition/fr-core-patient-birth-list-given-name"
)
EXT_ADDRESS_INSEE_CODE: Final = f"{_FR_CORE}/StructureDefinition/fr-core-address-insee-code"
EXT_PATIENT_BIRTHPLACE: Final = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"

CS_IDENTIFIER_TYPE: Final = formats.SYSTEM_FR_CORE_V2_0203
CS_IDENTITY_STATUS: Final = f"{_FR_CORE}/CodeSystem/fr-core-cs-identity-status"
CS_METHOD_COLLECTION: Final = f"{_FR_CORE}/CodeSystem/fr-core-cs-method-collection"

CS_COMMUNE: Final = f"{_NOS}/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
CS_PROFESSION: Final = formats.SYSTEM_TRE_G15
CS_SPECIALTY: Final = formats.SYSTEM_TRE_R38
CS_SAVOIR_FAIRE_TYPE: Final = f"{_NOS}/TRE_R04-TypeSavoirFaire/FHIR/TRE-R04-TypeSavoirFaire"
# TRE_R01 (every savoir-faire, whatever its type), by OID: savoir-faire other than ordinal
# specialties come from a dozen tables (R39 compétences, R40 compétences exclusives...).
CS_SAVOIR_FAIRE: Final = "urn:oid:1.2.250.1.71.4.2.5"
CS_PRACTICE_MODE: Final = f"{_NOS}/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
CS_FUNCTION: Final = f"{_NOS}/TRE_R21-Fonction/FHIR/TRE-R21-Fonction"
CS_ACTIVITY_GENRE: Final = f"{_NOS}/TRE_R22-GenreActivite/FHIR/TRE-R22-GenreActivite"
CS_SECTOR: Final = f"{_NOS}/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"

SYSTEM_SIRENE: Final = "https://sirene.fr"

STATUS_LABELS: Final = {
    IdentityStatus.PROV: "Identité provisoire",
    IdentityStatus.RECUP: "Identité récupérée",
    IdentityStatus.VALI: "Identité validée",
    IdentityStatus.QUAL: "Identité qualifiée",
}
METHOD_LABELS: Final = {
    CollectionMethod.MANUAL: "Saisie manuelle",
    CollectionMethod.VITALE_CARD: "Carte Vitale",
    CollectionMethod.INSI: "Téléservice INSi",
    CollectionMethod.BARCODE: "Code à barre",
    CollectionMethod.RFID: "Puce RFID",
    CollectionMethod.VITALE_APP: "Application carte Vitale",
}
PRACTICE_MODE_LABELS: Final = {"L": "Libéral", "S": "Salarié", "B": "Bénévole"}
SAVOIR_FAIRE_TYPE_LABELS: Final = {
    "C": "Compétence",
    "CAPA": "Capacité",
    "CEX": "Compétence exclusive",
    "DEC": "Droit d'exercice complémentaire",
    "DNQ": "DESC non qualifiant",
    "FQ": "Fonction qualifiée",
    "OP": "Orientation particulière",
    "PAC": "Qualification PAC",
    "S": "Spécialité ordinale",
    "SH": "Spécialité de concours hospitalier",
}
