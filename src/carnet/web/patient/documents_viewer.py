"""Showing a document: what the viewer page shows of each kind, and the content responses.

Images are shown inline (``<img>`` of the content URL), text escaped in a ``<pre>``, a CDA
document through ``carnet.interop.cda.render.cda_to_html`` when that module is there (a safe
fragment; otherwise a download link), a PDF opened by a link in the browser's own viewer. The
content response never lets the browser guess (``nosniff``) and runs nothing
(``Content-Security-Policy: sandbox``); a download is an attachment under a neutral name.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Final

from markupsafe import Markup
from starlette.responses import Response

from carnet.documents.schemas import DocumentContent, DocumentView
from carnet.web.i18n import N_

log = logging.getLogger(__name__)
_CDA_RENDERER: Final = "carnet.interop.cda.render"
_SANDBOX: Final = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def viewer_kind(view: DocumentView) -> str:
    """``image``, ``text``, ``cda``, ``pdf`` or ``other``: how the viewer shows it."""
    media = view.content_type.partition(";")[0].strip()
    if media in ("image/jpeg", "image/png", "image/gif"):
        return "image"
    if media == "text/plain":
        return "text"
    if media in ("text/xml", "application/xml"):
        return "cda"
    if media == "application/pdf":
        return "pdf"
    return "other"


def _text(content: DocumentContent) -> str:
    charset = "utf-8"
    for part in content.content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip()
    try:
        return content.data.decode(charset, errors="replace")
    except LookupError:
        return content.data.decode("utf-8", errors="replace")


def _cda_html(content: DocumentContent) -> Markup | None:
    """The CDA document as a safe fragment, or None (no renderer yet, or it refused)."""
    try:
        module = importlib.import_module(_CDA_RENDERER)
    except ImportError:
        return None
    try:
        return Markup(module.cda_to_html(content.data))  # noqa: S704 - the renderer's output is a safe fragment by contract
    except Exception as exc:  # an unsafe or invalid document: offered for download only
        log.info("CDA not rendered: %s", type(exc).__name__)
        return None


def viewer_context(
    view: DocumentView, shown: DocumentContent | None, folders: dict[str, str]
) -> dict[str, Any]:
    kind = viewer_kind(view)
    text = _text(shown) if shown is not None and kind == "text" else None
    cda = _cda_html(shown) if shown is not None and kind == "cda" else None
    return {
        "title": N_("Document"),
        "document": view,
        "kind": kind,
        "text": text,
        "cda": cda,
        "folders": folders,
        "folder_name": folders.get(view.folder_id or ""),
    }


def content_response(content: DocumentContent, *, attachment: bool) -> Response:
    """The original bytes, unchanged: inline (sandboxed) or as a download."""
    disposition = "attachment" if attachment else "inline"
    return Response(
        content.data,
        media_type=content.content_type,
        headers={
            "content-disposition": f'{disposition}; filename="{content.filename}"',
            "x-content-type-options": "nosniff",
            "content-security-policy": _SANDBOX,
            "cache-control": "no-store",
        },
    )
