"""What the circle and wishes pages say: labels of roles, relations and choices, and the
sentence for every reason a form is refused (catalogue ids, translated where shown)."""

from __future__ import annotations

from typing import Final

from carnet.web.i18n import N_
from carnet.wishes.schemas import Act, Choice, ContactRole, Place, Relation, Sedation, Situation

ROLES: Final[dict[ContactRole, str]] = {
    ContactRole.EMERGENCY_CONTACT: N_("Personne à prévenir en cas d’urgence"),
    ContactRole.TRUSTED_CONTACT: N_("Personne de confiance"),
    ContactRole.CAREGIVER_CONTACT: N_("Proche aidant"),
    ContactRole.HELP_CONTACT: N_("Proche aidé"),
}
ROLE_HINTS: Final[dict[ContactRole, str]] = {
    ContactRole.EMERGENCY_CONTACT: N_("Elle sera prévenue si vous êtes hospitalisé(e) en urgence."),
    ContactRole.TRUSTED_CONTACT: N_(
        "Elle vous accompagne dans vos démarches et sera consultée si vous ne pouvez plus "
        "exprimer votre volonté. Une seule personne de confiance est possible."
    ),
    ContactRole.CAREGIVER_CONTACT: N_(
        "Pour information seulement : ce proche n’a pas accès à votre espace santé."
    ),
    ContactRole.HELP_CONTACT: N_("Une personne que vous aidez au quotidien."),
}
RELATIONS: Final[dict[Relation, str]] = {
    Relation.MOTHER: N_("Mère"),
    Relation.FATHER: N_("Père"),
    Relation.CHILD: N_("Enfant"),
    Relation.SPOUSE: N_("Conjoint ou conjointe"),
    Relation.TUTEUR: N_("Tuteur ou tutrice"),
    Relation.OTHER: N_("Autre lien"),
}
CONTACT_ERRORS: Final[dict[tuple[str, str], str]] = {
    ("first_name", "missing"): N_("Saisissez le prénom."),
    ("first_name", "too-long"): N_("Le prénom ne doit pas dépasser 100 caractères."),
    ("first_name", "bad-characters"): N_(
        "Le prénom ne peut contenir que des lettres, des espaces, des tirets et des apostrophes."
    ),
    ("last_name", "missing"): N_("Saisissez le nom."),
    ("last_name", "too-long"): N_("Le nom ne doit pas dépasser 100 caractères."),
    ("last_name", "bad-characters"): N_(
        "Le nom ne peut contenir que des lettres, des espaces, des tirets et des apostrophes."
    ),
    ("relation", "missing"): N_("Choisissez le lien avec cette personne."),
    ("relation", "bad-relation"): N_("Choisissez le lien avec cette personne dans la liste."),
    ("mobile", "missing"): N_("Saisissez le numéro de téléphone portable."),
    ("mobile", "bad-mobile"): N_(
        "Saisissez un numéro de portable français commençant par 06 ou 07 (10 chiffres), ou "
        "par +33 6 ou +33 7. Par exemple : 06 12 34 56 78."
    ),
    ("postal_code", "missing"): N_("Saisissez le code postal."),
    ("postal_code", "bad-postal-code"): N_(
        "Le code postal se compose de 5 chiffres. Par exemple : 75011."
    ),
    ("city", "missing"): N_("Saisissez la ville."),
    ("city", "too-long"): N_("Le nom de la ville ne doit pas dépasser 100 caractères."),
    ("city", "bad-characters"): N_(
        "Le nom de la ville ne peut contenir que des lettres, des chiffres, des espaces, des "
        "tirets et des apostrophes."
    ),
    ("roles", "no-role"): N_("Cochez au moins un rôle pour ce contact."),
    ("roles", "bad-role"): N_("Cochez les rôles dans la liste proposée."),
}
SECOND_TRUSTED: Final = N_(
    "Vous avez déjà une personne de confiance : vous ne pouvez en déclarer qu’une seule. Pour "
    "en changer, modifiez ou supprimez d’abord la personne de confiance actuelle."
)
SITUATIONS: Final[dict[Situation, str]] = {
    Situation.GOOD_HEALTH: N_("Je pense être en bonne santé"),
    Situation.SERIOUS_ILLNESS: N_("J’ai une maladie grave, ou je pense être en fin de vie"),
}
LIFE_SUPPORT: Final[dict[Choice, str]] = {
    Choice.ACCEPT: N_("J’accepte d’être maintenu(e) artificiellement en vie"),
    Choice.REFUSE: N_(
        "Je refuse d’être maintenu(e) artificiellement en vie si mon état est sans espoir "
        "d’amélioration"
    ),
    Choice.UNDECIDED: N_("Je ne me prononce pas"),
}
SEDATION: Final[dict[Sedation, str]] = {
    Sedation.WANTED: N_("Oui, je veux une sédation profonde et continue jusqu’au décès"),
    Sedation.NOT_WANTED: N_("Non, je ne veux pas de sédation profonde et continue"),
    Sedation.UNDECIDED: N_("Je ne me prononce pas"),
}
ACTS: Final[dict[Act, str]] = {
    Act.RESUSCITATION: N_("Réanimation cardiaque et respiratoire"),
    Act.VENTILATION: N_("Respiration artificielle (intubation, trachéotomie)"),
    Act.DIALYSIS: N_("Dialyse (rein artificiel)"),
    Act.NUTRITION: N_("Alimentation et hydratation artificielles"),
    Act.TRANSFUSION: N_("Transfusion sanguine"),
    Act.SURGERY: N_("Intervention chirurgicale"),
}
CHOICES: Final[dict[Choice, str]] = {
    Choice.ACCEPT: N_("Je l’accepte"),
    Choice.REFUSE: N_("Je le refuse"),
    Choice.UNDECIDED: N_("Je ne me prononce pas"),
}
PLACES: Final[dict[Place, str]] = {
    Place.HOME: N_("Chez moi"),
    Place.HOSPITAL: N_("À l’hôpital"),
    Place.PALLIATIVE_UNIT: N_("Dans une unité de soins palliatifs"),
    Place.NURSING_HOME: N_("En établissement d’hébergement (EHPAD)"),
    Place.NO_PREFERENCE: N_("Je n’exprime pas de préférence"),
}
DIRECTIVES_ERRORS: Final[dict[str, str]] = {
    "missing": N_("Indiquez votre situation."),
    "too-long": N_("Ce texte ne doit pas dépasser 4 000 caractères."),
    "bad-choice": N_("Choisissez une des réponses proposées."),
}
MINOR: Final = N_(
    "Les directives anticipées ne peuvent être rédigées que par une personne majeure : elles "
    "ne sont pas proposées avant 18 ans."
)
BIRTH_DATE_UNKNOWN: Final = N_(
    "Votre date de naissance n’est pas connue dans votre espace : les directives anticipées, "
    "réservées aux personnes majeures, ne peuvent pas être proposées."
)
NO_FILE: Final = N_("Choisissez le fichier de vos directives anticipées.")
BAD_DATE: Final = N_("Saisissez la date du document au format JJ/MM/AAAA, par exemple 26/11/2026.")
