"""The opposition pages' forms: what each checks before the service is called, what each refusal
says (French catalogue ids, translated where shown) with which status, and the view contexts.

Messages say what to do next; the three identity details are refused together, never one by
one (which of them is wrong is not told)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from carnet.core.errors import ClientError
from carnet.enrollment.errors import (
    ActivationCodeRefused,
    IdentityMismatch,
    InvalidNir,
    NotOpposed,
    OppositionWindowClosed,
    TooManyTries,
    UnknownChild,
)
from carnet.enrollment.schemas import CodeChannel, OppositionChannel, OppositionReceipt
from carnet.web.forms import Form
from carnet.web.i18n import N_

OPPOSE_PATH: Final = "/opposition"
PROOF_PATH: Final = "/opposition/attestation"
ASK_PATH: Final = "/opposition/demander-un-profil"
CLOSE_PATH: Final = "/compte/fermeture"
IDENTITY_FIELDS: Final = ("nir", "vitale_serial", "birth_date")
OPPOSE_FIELDS: Final = ("code", *IDENTITY_FIELDS)
SCOPE_FAMILY: Final = "family"
"""The ``scope`` choice "for me and the minor children attached to me" (default: for me)."""
SCOPE_CHILD: Final = "child"
"""The ``scope`` choice "for one of my minor children only", named by ``child_nir``."""
_DATE_FR: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_PARIS: Final = ZoneInfo("Europe/Paris")

NIR_MISSING = N_("Saisissez votre numéro de sécurité sociale : 15 caractères, clé comprise.")
NIR_FORMAT = N_(
    "Le numéro de sécurité sociale compte 15 caractères : 13 chiffres (ou 2A, 2B pour la "
    "Corse) puis une clé de 2 chiffres. Recopiez-le depuis votre carte Vitale."
)
NIR_KEY = N_(
    "La clé du numéro de sécurité sociale (ses 2 derniers chiffres) ne correspond pas au "
    "numéro : l’un des chiffres est sans doute mal recopié."
)
CODE_MISSING = N_("Saisissez le code d’activation reçu par e-mail ou par courrier.")
SERIAL_MISSING = N_(
    "Saisissez le numéro de série de votre carte Vitale (8 à 13 chiffres, au dos de la carte)."
)
BIRTH_INVALID = N_(
    "Saisissez votre date de naissance au format JJ/MM/AAAA, par exemple 31/01/1980."
)
CHILD_NIR_MISSING = N_(
    "Saisissez le numéro de sécurité sociale de l’enfant (15 caractères, clé comprise), ou "
    "choisissez une autre réponse."
)
CHILD_UNKNOWN = N_(
    "Aucun enfant mineur rattaché à vous ne porte ce numéro de sécurité sociale. Recopiez-le "
    "depuis l’attestation de droits, ou appelez nos conseillers."
)
IDENTITY_MISMATCH = N_(
    "Le numéro de sécurité sociale, le numéro de série de la carte Vitale et la date de "
    "naissance ne correspondent pas à nos informations. Vérifiez-les tous les trois."
)
CODE_REFUSALS: Final = {
    "wrong": N_(
        "Ce code d’activation n’est pas le bon. Vérifiez-le dans votre e-mail ou votre courrier "
        "(les lettres O et I n’y figurent jamais)."
    ),
    "used": N_(
        "Ce code d’activation a déjà servi, ou un code plus récent l’a remplacé. Saisissez le "
        "dernier code reçu, ou demandez-en un nouveau."
    ),
    "expired": N_("Ce code d’activation n’est plus valable. Demandez un nouveau code."),
}
LOCKED = N_(
    "Trop d’essais ont échoué : par sécurité, ce formulaire est bloqué jusqu’à %(time)s. "
    "Réessayez après cette heure, ou appelez nos conseillers : ils peuvent enregistrer votre "
    "demande par téléphone."
)
WINDOW_CLOSED = N_(
    "Il n’est plus possible de s’opposer à l’ouverture : le délai est passé, ou votre espace est "
    "déjà ouvert. Vous pouvez le fermer à tout moment."
)
NOT_OPPOSED = N_(
    "Aucune opposition n’est enregistrée à votre nom : votre espace est déjà ouvert, ou le sera "
    "à la fin du délai. Activez-le avec le code reçu, ou demandez un nouveau code."
)


def parse_birth(value: str) -> date | None:
    """A birth date typed ``JJ/MM/AAAA`` (or given ``AAAA-MM-JJ`` by a date control)."""
    text = value.strip()
    try:
        if match := _DATE_FR.fullmatch(text):
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def check_identity(form: Form, *, today: date) -> date | None:
    """The three details, checked for presence and shape (the NIR's key is the service's
    check); the birth date."""
    values = form.values
    values["nir"] = "".join(values["nir"].split()).upper()
    if not values["nir"]:
        form.add_error("nir", NIR_MISSING)
    if not any(ch.isdigit() for ch in values["vitale_serial"]):
        form.add_error("vitale_serial", SERIAL_MISSING)
    birth = parse_birth(values["birth_date"])
    if birth is None or birth > today or birth.year < 1890:
        form.add_error("birth_date", BIRTH_INVALID)
    return birth


def check_opposition(form: Form, *, today: date) -> date | None:
    values = form.values
    if not values["code"]:
        form.add_error("code", CODE_MISSING)
    values["child_nir"] = "".join(values.get("child_nir", "").split()).upper()
    if values.get("scope") == SCOPE_CHILD and not values["child_nir"]:
        form.add_error("child_nir", CHILD_NIR_MISSING)
    return check_identity(form, today=today)


def refusal(form: Form, error: ClientError) -> tuple[int, dict[str, Any] | None]:
    """The status of a refused submission, after putting its message on the form (a field)
    or returning it as an alert (``{"message", "time"?, "link"?}``)."""
    if isinstance(error, InvalidNir):
        form.add_error("nir", NIR_KEY if error.rule == "key" else NIR_FORMAT)
    elif isinstance(error, UnknownChild):
        messages = {"unknown": CHILD_UNKNOWN, "key": NIR_KEY}
        form.add_error("child_nir", messages.get(error.rule, NIR_FORMAT))
    elif isinstance(error, IdentityMismatch):
        form.add_error("nir", IDENTITY_MISMATCH)
    elif isinstance(error, ActivationCodeRefused):
        form.add_error("code", CODE_REFUSALS.get(error.reason, CODE_REFUSALS["wrong"]))
    elif isinstance(error, TooManyTries):
        until = error.until.astimezone(_PARIS)
        return 429, {"message": LOCKED, "time": f"{until:%H:%M}", "link": None}
    elif isinstance(error, OppositionWindowClosed):
        return 409, {"message": WINDOW_CLOSED, "link": "close"}
    elif isinstance(error, NotOpposed):
        return 409, {"message": NOT_OPPOSED, "link": "activate"}
    else:
        raise error
    return 400, None


def oppose_context(form: Form, *, alert: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "title": N_("Vous opposer à l’ouverture de votre espace santé"),
        "form": form,
        "alert": alert,
        "action": OPPOSE_PATH,
        "close_path": CLOSE_PATH,
        "ask_path": ASK_PATH,
    }


def done_context(
    receipt: OppositionReceipt,
    ticket: str,
    *,
    children: list[tuple[str, str]] | None = None,
    for_child: bool = False,
) -> dict[str, Any]:
    """``children``: (reference, proof ticket) of each child's opposition recorded with it;
    ``for_child``: the receipt is that of the one child the holder opposed for."""
    moment: datetime = receipt.opposed_at.astimezone(_PARIS)
    return {
        "for_child": for_child,
        "children": [{"reference": ref, "ticket": tk} for ref, tk in children or []],
        "title": N_("Votre opposition est enregistrée"),
        "reference": receipt.reference,
        "opposed_on": moment.date(),
        "opposed_time": f"{moment:%H:%M}",
        "online": receipt.channel is OppositionChannel.ONLINE,
        "repeated": receipt.repeated,
        "dmp_merge_refused": receipt.dmp_merge_refused,
        "ticket": ticket,
        "proof_path": PROOF_PATH,
        "ask_path": ASK_PATH,
    }


def ask_context(form: Form, *, alert: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "title": N_("Demander l’ouverture de votre espace santé"),
        "form": form,
        "alert": alert,
        "action": ASK_PATH,
    }


def asked_context(sent_to: CodeChannel | None, *, child: bool = False) -> dict[str, Any]:
    """``child``: the space opened is a child's (the holder activates it from ``/famille``)."""
    return {
        "title": N_("L’espace santé de votre enfant est ouvert")
        if child
        else N_("Votre espace santé est ouvert"),
        "sent_to": sent_to.value if sent_to else None,
        "child": child,
    }


def expired_context() -> dict[str, Any]:
    return {"title": N_("Ce lien de téléchargement a expiré"), "ask_path": ASK_PATH}
