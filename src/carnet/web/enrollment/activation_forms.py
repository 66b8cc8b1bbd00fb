"""The activation pages' forms: what each checks before the service is called, what each
refusal says (French catalogue ids, translated where shown), and each page's view context.

Messages say what to do next, never which of the secret details was wrong."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Final

from carnet.core.errors import ClientError
from carnet.enrollment.errors import (
    ActivationLocked,
    ActivationRefused,
    InvalidContact,
    WrongContactCode,
)
from carnet.enrollment.schemas import ActivationTicket, CodeChannel, FirstChoices
from carnet.enrollment.service import Enrollment
from carnet.identity import service as identity_service
from carnet.identity.accounts.errors import InvalidLogin, LoginTaken, WeakPassword
from carnet.web.accounts.passwords import WEAK_PASSWORD
from carnet.web.forms import Form
from carnet.web.i18n import N_

NEW_CODE_PATH: Final = "/activation/nouveau-code"
ASK_SPACE_PATH: Final = "/opposition/demander-un-profil"
"""Where a person who opposed asks for a space after all (the opposition pages)."""
STEPS: Final = 5
IDENTITY_FIELDS: Final = ("nir", "vitale_serial", "birth_date")
START_FIELDS: Final = ("code", *IDENTITY_FIELDS)
NEW_CODE_FIELDS: Final = (*IDENTITY_FIELDS, "channel")
CHOICE_FIELDS: Final = ("confidentiality", "samu", "break_glass", "masked_emergency")
_DATE_FR: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_CODE: Final = re.compile(r"[A-Z2-9]{12}")

TERMS_REQUIRED = N_("Pour activer votre espace, cochez la case d’acceptation des conditions.")
MISMATCH = N_(
    "Ces informations ne correspondent pas à un code d’activation valable. Vérifiez le code de "
    "votre courrier ou de votre e-mail, votre numéro de sécurité sociale, le numéro de série de "
    "votre carte Vitale et votre date de naissance."
)
REFUSALS: Final[dict[str, tuple[str, int]]] = {
    "mismatch": (MISMATCH, 400),
    "code-expired": (
        N_("Ce code d’activation a expiré. Demandez un nouveau code : il vous sera envoyé."),
        400,
    ),
    "code-used": (
        N_(
            "Ce code d’activation a déjà servi ou a été remplacé par un code plus récent. "
            "Utilisez le dernier code reçu, ou demandez-en un nouveau."
        ),
        400,
    ),
    "opposed": (
        N_(
            "Vous vous êtes opposé à l’ouverture de votre espace. Si vous avez changé d’avis, "
            "demandez l’ouverture de votre espace."
        ),
        403,
    ),
    "active": (
        N_("Votre espace est déjà activé. Connectez-vous avec vos identifiants."),
        409,
    ),
    "dependant": (
        N_(
            "Les profils des enfants s’activent depuis l’espace du parent. Saisissez le numéro "
            "de sécurité sociale du destinataire du courrier."
        ),
        403,
    ),
    "ended": (
        N_(
            "Cet espace ne peut pas être activé (il est suspendu ou fermé). Contactez le "
            "service pour en savoir plus."
        ),
        403,
    ),
}
LOCKED = N_(
    "Trop de tentatives ont échoué. Par sécurité, l’activation est bloquée pendant "
    "%(minutes)s minutes. Vous pouvez attendre, ou demander un nouveau code."
)
PROBLEMS: Final[dict[str, str]] = {
    "expired": N_(
        "Votre activation a expiré ou n’a pas été commencée depuis ce navigateur. Rien n’a été "
        "créé : recommencez depuis la première étape."
    ),
    "out-of-step": N_(
        "Cette étape n’est pas encore disponible : terminez d’abord l’étape en cours."
    ),
    "code-used": N_(
        "Votre code d’activation a été remplacé ou a servi entre-temps. Rien n’a été créé : "
        "recommencez avec le dernier code reçu."
    ),
    "ended": N_(
        "Cet espace ne peut plus être activé. Rien n’a été créé. Contactez le service pour en "
        "savoir plus."
    ),
}


def _stepper(number: int, title: str) -> dict[str, Any]:
    return {"number": number, "of": STEPS, "title": title}


def parse_birth(value: str) -> date | None:
    """A birth date typed as ``AAAA-MM-JJ`` (a date control) or ``JJ/MM/AAAA``."""
    try:
        match = _DATE_FR.fullmatch(value)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(value)
    except ValueError:
        return None


def check_identity(form: Form) -> date | None:
    """The NIR, the Vitale serial and the birth date, checked for shape; the birth date."""
    values = form.values
    values["nir"] = "".join(values["nir"].split()).upper()
    if not identity_service.is_valid_nir(values["nir"]):
        form.add_error(
            "nir",
            N_(
                "Saisissez les 15 caractères de votre numéro de sécurité sociale, clé comprise, "
                "tels qu’ils figurent sur votre carte Vitale."
            ),
        )
    serial = "".join(ch for ch in values["vitale_serial"] if ch.isdigit())
    if not 8 <= len(serial) <= 13 or len(serial) != len(values["vitale_serial"].replace(" ", "")):
        form.add_error(
            "vitale_serial",
            N_("Saisissez le numéro de série de votre carte Vitale : 8 à 13 chiffres, au dos."),
        )
    birth = parse_birth(values["birth_date"])
    if birth is None or birth > datetime.now(UTC).date():
        form.add_error(
            "birth_date", N_("Saisissez votre date de naissance, par exemple 31/01/1980.")
        )
    return birth


def check_start(form: Form) -> date | None:
    code = "".join(ch for ch in form.values["code"].upper() if ch.isalnum())
    if _CODE.fullmatch(code) is None:
        form.add_error(
            "code",
            N_("Saisissez le code d’activation de 12 caractères reçu par courrier ou par e-mail."),
        )
    return check_identity(form)


def start_refusal(form: Form, error: ClientError) -> int:
    """The form message of a refused step 1; its status."""
    if isinstance(error, ActivationLocked):
        # Shown as an alert with the delay (the error summary takes no variables).
        form.values["minutes"] = str(error.minutes)
        return 429
    reason = error.reason if isinstance(error, ActivationRefused) else "mismatch"
    message, status = REFUSALS.get(reason, REFUSALS["mismatch"])
    form.add_error("code", message)
    form.values["reason"] = reason
    return status


def start_context(form: Form) -> dict[str, Any]:
    return {
        "title": N_("Activer mon espace santé"),
        "form": form,
        "step": _stepper(1, N_("Vérification de votre identité")),
        "new_code": NEW_CODE_PATH,
        "ask_space": ASK_SPACE_PATH,
        "reason": form.values.get("reason", ""),
        "minutes": form.values.get("minutes", ""),
        "locked": LOCKED,
    }


def contact_context(form: Form, enrollment: Enrollment) -> dict[str, Any]:
    return {
        "title": N_("Vos coordonnées"),
        "form": form,
        "step": _stepper(2, N_("Vérification de vos coordonnées")),
        "sms": enrollment.sms_available,
    }


def contact_refusal(form: Form, error: Exception, channel: CodeChannel) -> None:
    if isinstance(error, WrongContactCode):
        form.add_error(
            "email",
            N_("Trop de codes ont été envoyés pour cette activation. Recommencez plus tard."),
        )
    elif channel is CodeChannel.SMS or (
        isinstance(error, InvalidContact) and error.kind != "email"
    ):
        form.add_error("mobile", N_("Saisissez un numéro de mobile français (06 ou 07)."))
    else:
        form.add_error(
            "email", N_("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr.")
        )


def code_context(form: Form, ticket: ActivationTicket) -> dict[str, Any]:
    return {
        "title": N_("Code de vérification"),
        "form": form,
        "step": _stepper(2, N_("Vérification de vos coordonnées")),
        "sent_to": ticket.sent_to,
    }


def code_refusal(form: Form, error: ClientError) -> None:
    form.values["code"] = ""
    if isinstance(error, WrongContactCode) and error.burnt:
        message = N_("Ce code n’est plus valable. Demandez un nouveau code.")
    else:
        message = N_("Code incorrect. Vérifiez-le et saisissez-le de nouveau.")
    form.add_error("code", message)


PASSWORD_HINT = N_(
    "Au moins 9 caractères, avec une minuscule, une majuscule, un chiffre et un caractère "
    "spécial ; ni vos noms ni votre date de naissance."
)
LOGIN_HINT = N_(
    "Au moins 8 caractères, sans accent ; seuls les caractères spéciaux . - _ sont permis."
)
LOGIN_RULES: Final = {
    "length": N_("L’identifiant doit comporter au moins 8 caractères."),
    "characters": N_(
        "L’identifiant ne peut contenir que des lettres sans accent, des chiffres et . - _"
    ),
}
LOGIN_TAKEN = N_("Cet identifiant est déjà pris. Choisissez-en un autre.")


def check_account(form: Form, password: str, confirmation: str) -> None:
    if not form.values["login"]:
        form.add_error("login", N_("Choisissez un identifiant."))
    if not password:
        form.add_error("password", N_("Choisissez un mot de passe."))
    elif password != confirmation:
        form.add_error("confirmation", N_("Les deux mots de passe ne sont pas identiques."))


def account_refusal(form: Form, error: ClientError) -> int:
    if isinstance(error, LoginTaken):
        form.add_error("login", LOGIN_TAKEN)
        return 409
    if isinstance(error, InvalidLogin):
        form.add_error("login", LOGIN_RULES.get(error.rule, LOGIN_RULES["characters"]))
    elif isinstance(error, WeakPassword):
        form.add_error("password", WEAK_PASSWORD.get(error.rule, WEAK_PASSWORD["length"]))
    else:
        form.add_error("login", LOGIN_RULES["characters"])
    return 400


def account_context(form: Form) -> dict[str, Any]:
    return {
        "title": N_("Vos identifiants"),
        "form": form,
        "step": _stepper(3, N_("Choix de vos identifiants")),
        "login_hint": LOGIN_HINT,
        "password_hint": PASSWORD_HINT,
    }


def terms_context(form: Form, ticket: ActivationTicket) -> dict[str, Any]:
    return {
        "title": N_("Conditions générales d’utilisation"),
        "form": form,
        "step": _stepper(4, N_("Conditions d’utilisation")),
        "version": ticket.terms_version,
        "franceconnect": ticket.method == "franceconnect",
    }


def choices_form(choices: FirstChoices | None) -> Form:
    """The choices form, set to the legal defaults."""
    chosen = choices or FirstChoices()
    yes_no = {True: "oui", False: "non"}
    return Form(
        values={
            "confidentiality": chosen.default_confidentiality,
            "samu": yes_no[chosen.samu_access],
            "break_glass": yes_no[chosen.break_glass_access],
            "masked_emergency": yes_no[chosen.emergency_masked_access],
        }
    )


def check_choices(form: Form) -> FirstChoices | None:
    values = form.values
    if values["confidentiality"] not in {"visible", "masked"}:
        form.add_error(
            "confidentiality",
            N_("Choisissez qui peut voir vos documents par défaut."),
            anchor="confidentiality-visible",
        )
    for name in CHOICE_FIELDS[1:]:
        if values[name] not in {"oui", "non"}:
            form.add_error(name, N_("Répondez par oui ou par non."), anchor=f"{name}-oui")
    if not form.valid:
        return None
    return FirstChoices(
        default_confidentiality="masked" if values["confidentiality"] == "masked" else "visible",
        samu_access=values["samu"] == "oui",
        break_glass_access=values["break_glass"] == "oui",
        emergency_masked_access=values["masked_emergency"] == "oui",
    )


def choices_context(form: Form) -> dict[str, Any]:
    return {
        "title": N_("Vos premiers choix"),
        "form": form,
        "step": _stepper(5, N_("Confidentialité et accès en cas d’urgence")),
    }


def finish_refusal(error: ClientError) -> str:
    """Where a refused last step goes: back to the credentials, or a problem page."""
    if isinstance(error, LoginTaken):
        return "account"
    if isinstance(error, ActivationRefused) and error.reason == "code-used":
        return "code-used"
    return "ended"


def problem_context(kind: str, retry: str) -> dict[str, Any]:
    return {
        "title": N_("Activation interrompue"),
        "kind": kind,
        "message": PROBLEMS.get(kind, PROBLEMS["expired"]),
        "retry": retry,
    }


def new_code_context(form: Form, enrollment: Enrollment) -> dict[str, Any]:
    return {
        "title": N_("Recevoir un nouveau code d’activation"),
        "form": form,
        "sms": enrollment.sms_available,
        "sent": False,
    }
