"""Settings section of the documents area (``CARNET_DOCUMENTS__MAX_UPLOAD_BYTES``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from carnet.documents.checks import DEFAULT_MAX_BYTES


class DocumentsSettings(BaseModel):
    max_upload_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024, le=100 * 1024 * 1024)
    """The largest file a person may add (Mon espace santé: 5 Mo). The portal's form-body
    limit (the CSRF middleware's ``max_body_bytes``) must be above it, or large uploads get a
    bare 413 before reaching the form."""

    @property
    def max_form_bytes(self) -> int:
        """The body limit for the portal's forms: the upload plus room for the other fields
        and the multipart framing."""
        return self.max_upload_bytes + 256 * 1024
