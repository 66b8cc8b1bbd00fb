"""Errors of the documents area. Every message is French, safe to show, and a catalogue id.

core.errors.InvalidInput
 └── DocumentRefused               base of every refusal below (``status``: the portal's 4xx)
      ├── EmptyFile, FileTooLarge, UnsupportedFormat, ContentMismatch, ActiveContent,
      │   ImageTooLarge, DamagedFile, UnreadableText            an upload refused
      ├── InvalidTitle, InvalidCategory, InvalidDocumentDate, InvalidFolderName   a field refused
      ├── TooManyDocuments                                       more than 10 in one delete
      ├── ProfessionalDocument                                   a professional's document changed
      ├── NotAuthor, AlreadyReleased                             release/withhold refused
      └── DocumentNotFound, FolderNotFound                       absent (or not visible)
"""

from __future__ import annotations

from typing import ClassVar

from carnet.core.errors import InvalidInput


class DocumentRefused(InvalidInput):
    """A refusal with a fixed French message (its class says which)."""

    default_message: ClassVar[str] = "Cette demande ne peut pas être traitée."
    status: ClassVar[int] = 400

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class EmptyFile(DocumentRefused):
    default_message = "Le fichier est vide : choisissez un autre fichier."


class FileTooLarge(DocumentRefused):
    default_message = "Le fichier est trop volumineux : sa taille dépasse le maximum autorisé."
    status = 413


class UnsupportedFormat(DocumentRefused):
    default_message = (
        "Ce format de fichier n’est pas accepté. Formats acceptés : PDF, TXT, RTF, JPG, JPEG, "
        "TIF, TIFF."
    )
    status = 415


class ContentMismatch(DocumentRefused):
    default_message = (
        "Le contenu du fichier ne correspond pas à son extension : vérifiez qu’il s’agit bien "
        "du document attendu."
    )
    status = 415


class ActiveContent(DocumentRefused):
    default_message = (
        "Ce fichier contient du contenu actif (script, action automatique, objet ou fichier "
        "joint) : il ne peut pas être déposé. Enregistrez-le à nouveau sans ce contenu, par "
        "exemple en l’imprimant au format PDF."
    )


class ImageTooLarge(DocumentRefused):
    default_message = (
        "Cette image est trop grande (trop de pixels ou de pages) pour être déposée : "
        "réduisez sa résolution."
    )


class DamagedFile(DocumentRefused):
    default_message = "Ce fichier est endommagé ou illisible : choisissez un autre fichier."


class UnreadableText(DocumentRefused):
    default_message = (
        "Ce fichier texte n’est pas lisible : il doit contenir du texte (encodé en UTF-8) et "
        "aucun caractère binaire."
    )


class InvalidTitle(DocumentRefused):
    default_message = "Saisissez un titre de 200 caractères au plus."


class InvalidCategory(DocumentRefused):
    default_message = "Choisissez une catégorie dans la liste."


class InvalidDocumentDate(DocumentRefused):
    default_message = "La date du document ne peut pas être dans le futur."


class InvalidFolderName(DocumentRefused):
    default_message = "Saisissez un nom de dossier de 80 caractères au plus."


class TooManyDocuments(DocumentRefused):
    default_message = "Vous ne pouvez pas supprimer plus de 10 documents à la fois."


class ProfessionalDocument(DocumentRefused):
    default_message = (
        "Ce document a été ajouté par un professionnel de santé, Mon espace santé ou "
        "l’Assurance Maladie : il ne peut être ni modifié ni supprimé. Vous pouvez seulement "
        "le masquer aux professionnels."
    )
    status = 403


class NotAuthor(DocumentRefused):
    default_message = "Seul l’auteur du document peut le rendre visible au patient."
    status = 403


class AlreadyReleased(DocumentRefused):
    default_message = (
        "Ce document a déjà été rendu visible au patient : il ne peut plus lui être caché."
    )
    status = 409


class DocumentNotFound(DocumentRefused):
    default_message = "Ce document n’existe pas ou n’est plus disponible."
    status = 404


class FolderNotFound(DocumentRefused):
    default_message = "Ce dossier n’existe pas ou n’est plus disponible."
    status = 404
