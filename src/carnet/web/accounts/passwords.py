"""What the portal says about each password rule (``WeakPassword.rule``)."""

from __future__ import annotations

from carnet.web.i18n import N_

WEAK_PASSWORD = {
    "length": N_("Le mot de passe doit comporter au moins 9 caractères."),
    "too-long": N_("Le mot de passe doit comporter au plus 128 caractères."),
    "lower": N_("Le mot de passe doit contenir une lettre minuscule."),
    "upper": N_("Le mot de passe doit contenir une lettre majuscule."),
    "digit": N_("Le mot de passe doit contenir un chiffre."),
    "special": N_("Le mot de passe doit contenir un caractère spécial (par exemple ! ? @ #)."),
    "personal": N_("Le mot de passe ne doit contenir ni vos noms ni votre date de naissance."),
}
