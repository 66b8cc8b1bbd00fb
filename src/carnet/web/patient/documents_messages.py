"""The documents area's French messages, marked here for the portal's catalogue.

The area (below the web layer) writes its refusals and category labels in French; the pages
show them through ``_()``, so the catalogue must hold them: extraction reads only ``web``.
``tests/web/test_documents_pages.py`` checks this list against the area's, so none is missed.
"""

# ruff: noqa: E501 - whole messages, as the catalogue holds them
from __future__ import annotations

from typing import Final

from carnet.web.i18n import N_

AREA_MESSAGES: Final = (
    N_(
        "Ce fichier contient du contenu actif (script, action automatique, objet ou fichier joint) : il ne peut pas être déposé. Enregistrez-le à nouveau sans ce contenu, par exemple en l’imprimant au format PDF."
    ),
    N_("Ce document a déjà été rendu visible au patient : il ne peut plus lui être caché."),
    N_(
        "Le contenu du fichier ne correspond pas à son extension : vérifiez qu’il s’agit bien du document attendu."
    ),
    N_("Ce fichier est endommagé ou illisible : choisissez un autre fichier."),
    N_("Ce document n’existe pas ou n’est plus disponible."),
    N_("Cette demande ne peut pas être traitée."),
    N_("Le fichier est vide : choisissez un autre fichier."),
    N_("Le fichier est trop volumineux : sa taille dépasse le maximum autorisé."),
    N_("Ce dossier n’existe pas ou n’est plus disponible."),
    N_(
        "Cette image est trop grande (trop de pixels ou de pages) pour être déposée : réduisez sa résolution."
    ),
    N_("Choisissez une catégorie dans la liste."),
    N_("La date du document ne peut pas être dans le futur."),
    N_("Saisissez un nom de dossier de 80 caractères au plus."),
    N_("Saisissez un titre de 200 caractères au plus."),
    N_("Seul l’auteur du document peut le rendre visible au patient."),
    N_(
        "Ce document a été ajouté par un professionnel de santé, Mon espace santé ou l’Assurance Maladie : il ne peut être ni modifié ni supprimé. Vous pouvez seulement le masquer aux professionnels."
    ),
    N_("Vous ne pouvez pas supprimer plus de 10 documents à la fois."),
    N_(
        "Ce fichier texte n’est pas lisible : il doit contenir du texte (encodé en UTF-8) et aucun caractère binaire."
    ),
    N_(
        "Ce format de fichier n’est pas accepté. Formats acceptés : PDF, TXT, RTF, JPG, JPEG, TIF, TIFF."
    ),
    N_("Ma santé en résumé"),
    N_("Ordonnances et soins"),
    N_("Radio, écho, scanner, IRM"),
    N_("Résultats de biologie"),
    N_("Comptes rendus"),
    N_("Prévention et dépistages"),
    N_("Certificats médicaux"),
    N_("Autres documents"),
    N_("Pièces administratives"),
    N_("Synthèse médicale"),
    N_("Directives anticipées"),
    N_("Questionnaire santé"),
)
