"""Settings section of the portal (``CARNET_PORTAL__*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Brand = Literal["neutral", "etat"]


class PortalSettings(BaseModel):
    brand: Brand = "neutral"
    """``neutral``: the product's own name, a system font, no State block; ``etat``: the State's
    block ("République Française") and the Marianne font, for State services only (the DSFR's
    terms of use reserve them to the State)."""
    service_name: str = Field(default="Carnet", min_length=1, max_length=60)
    """The service's name in the header, titles and legal pages."""
    publisher: str = Field(default="", max_length=200)
    """Who runs this deployment (legal notice, accessibility statement); empty: not stated."""
    contact_email: str = Field(default="", max_length=200)
    """Where users write about accessibility and personal data; empty: not stated."""
    assets_dir: Path | None = None
    """The npm ``node_modules`` folder holding ``@gouvfr/dsfr`` (default: the project's)."""
