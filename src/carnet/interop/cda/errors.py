"""Errors of CDA reading (French messages, safe to show: they never quote the document).

core.errors.InvalidInput
 └── CdaError              the bytes cannot be read as a CDA document
      ├── CdaTooLarge      over the size limit
      ├── CdaUnsafe        a DOCTYPE, an entity declaration or reference (refused outright)
      └── CdaInvalid       not well-formed XML, too deeply nested, or not a ClinicalDocument
"""

from __future__ import annotations

from carnet.core.errors import InvalidInput


class CdaError(InvalidInput):
    """The document cannot be read."""


class CdaTooLarge(CdaError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Le document CDA dépasse la taille permise ({limit // (1024 * 1024)} Mo)."
        )


class CdaUnsafe(CdaError):
    def __init__(self) -> None:
        super().__init__(
            "Le document CDA contient une déclaration de type (DOCTYPE) ou des entités : "
            "il est refusé par sécurité."
        )


class CdaInvalid(CdaError):
    pass
