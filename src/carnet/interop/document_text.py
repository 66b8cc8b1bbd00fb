"""Feeding the full-text index with a stored document's words (issue 6, finding things).

``index_document`` reads a DocumentReference and its content (inline, or a ``Binary/<id>``)
through the repository, extracts their text by type (``file_text``: plain text, RTF, PDF, CDA)
and hands it to ``Repository.index_text``, which decides and audits it as an update of the
document. It runs in the ``record:index-document`` job, after the document's upload has committed.

Files are untrusted: each reader is bounded (bytes read, PDF pages, characters kept) and a file
that cannot be read yields no text rather than an error (a broken file is still stored and
shown; it just cannot be found by its words).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from pypdf import PdfReader
from sqlalchemy import Connection

from carnet.access.schemas import AccessContext
from carnet.core.errors import Gone, NotFound
from carnet.interop.cda.errors import CdaError
from carnet.interop.cda.text import cda_to_text
from carnet.jobs.service import JobHandler
from carnet.record.service import Record, Repository

INDEX_DOCUMENT_JOB = "record:index-document"
"""Payload: ``{"patient": <Patient id>, "document": <DocumentReference id>}``."""
_MAX_ATTACHMENTS = 10
log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 200
MAX_CHARS = 1_000_000
_RTF_TOKEN = re.compile(
    rb"\\([a-zA-Z]+)(-?\d+)? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}]+)", re.DOTALL
)
_RTF_SKIPPED = frozenset(
    {b"fonttbl", b"colortbl", b"stylesheet", b"info", b"pict", b"header", b"footer", b"object"}
)
_RTF_BREAKS = frozenset({b"par", b"line", b"row", b"cell", b"tab", b"sect", b"page"})


def index_document(repo: Repository, *, document_id: str) -> int:
    """Index the text of a document's content; the number of tokens written.

    Raises the repository's errors (ResourceNotFound when absent, deleted or refused).
    """
    stored = repo.read("DocumentReference", document_id)
    document = orjson.loads(stored.body)
    texts = [file_text(data, content_type) for data, content_type in _contents(repo, document)]
    text = "\n".join(t for t in texts if t)[:MAX_CHARS]
    return repo.index_text("DocumentReference", document_id, text)


def index_document_job(record: Record, ctx: AccessContext) -> JobHandler:
    """The ``record:index-document`` job handler, acting as ``ctx`` (Carnet's own context).

    A document deleted (or made unreadable) before the job ran has nothing left to index: the
    job ends without error instead of retrying.
    """

    def handle(db: Connection, payload: Mapping[str, Any]) -> None:
        repo = record.repository(db=db, ctx=ctx)
        try:
            index_document(repo, document_id=str(payload["document"]))
        except (NotFound, Gone):
            return

    return handle


def _contents(repo: Repository, document: dict[str, Any]) -> Iterator[tuple[bytes, str]]:
    contents = document.get("content")
    for content in (contents if isinstance(contents, list) else [])[:_MAX_ATTACHMENTS]:
        attachment = content.get("attachment") if isinstance(content, dict) else None
        if not isinstance(attachment, dict):
            continue
        content_type = str(attachment.get("contentType") or "")
        if isinstance(attachment.get("data"), str):
            yield _decoded(attachment["data"]), content_type
            continue
        url = attachment.get("url")
        if isinstance(url, str) and url.startswith("Binary/") and "/" not in url[7:]:
            binary = orjson.loads(repo.read("Binary", url[7:]).body)
            yield _decoded(binary.get("data")), content_type or str(binary.get("contentType"))


def _decoded(data: Any) -> bytes:
    try:
        return base64.b64decode("".join(str(data).split()), validate=True)
    except (binascii.Error, ValueError):
        return b""


# --- Reading files by type ------------------------------------------------------------------


def file_text(data: bytes, content_type: str) -> str:
    """The words of a file (empty when its type is not read or it cannot be read)."""
    kind = _kind(data, content_type.split(";", maxsplit=1)[0].strip().lower())
    data = data[:MAX_BYTES]
    if kind == "text":
        return _decode(data)[:MAX_CHARS]
    if kind == "rtf":
        return rtf_text(data)[:MAX_CHARS]
    if kind == "pdf":
        return pdf_text(data)
    if kind == "cda":
        try:
            found = cda_to_text(data)
        except CdaError:
            return ""
        extra = ""
        if found.attachment is not None:
            extra = file_text(found.attachment.data, found.attachment.media_type)
        return (found.text + "\n" + extra)[:MAX_CHARS]
    return ""


def _kind(data: bytes, content_type: str) -> str:
    head = data[:512].lstrip()
    if head.startswith(b"%PDF") or content_type == "application/pdf":
        return "pdf"
    if head.startswith(b"{\\rtf") or content_type in ("application/rtf", "text/rtf"):
        return "rtf"
    if head.startswith(b"<") or content_type.endswith("xml"):
        return "cda"
    if content_type.startswith("text/"):
        return "text"
    return ""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def rtf_text(data: bytes) -> str:
    """RTF without its control words, groups of fonts, colours, pictures and metadata."""
    reader = _RtfReader()
    for match in _RTF_TOKEN.finditer(data):
        reader.feed(*match.groups())
    return "".join(reader.out)


class _RtfReader:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.depth = 0
        self.skip_below: int | None = None  # the depth of the group being skipped
        self.star = False  # ``\*``: the next destination may be ignored
        self.fallback = False  # the character after ``\uN`` stands in for older readers

    def feed(self, *groups: bytes | None) -> None:
        word, argument, hex_byte, symbol, brace, plain = groups
        if brace is not None:
            self._brace(brace)
        elif self.skip_below is not None:
            return
        elif word is not None:
            self._word(word, argument)
        elif symbol is not None:
            self._symbol(symbol)
        elif hex_byte is not None:
            self._text(bytes.fromhex(hex_byte.decode()))
        elif plain is not None:
            self._text(plain.replace(b"\r", b"").replace(b"\n", b""))

    def _brace(self, brace: bytes) -> None:
        self.depth += 1 if brace == b"{" else -1
        if self.skip_below is not None and self.depth < self.skip_below:
            self.skip_below = None

    def _word(self, word: bytes, argument: bytes | None) -> None:
        if self.star or word in _RTF_SKIPPED:
            self.skip_below, self.star = self.depth, False
        elif word in _RTF_BREAKS:
            self.out.append("\n")
        elif word == b"u" and argument:
            self.out.append(chr(int(argument) % 0x10000))
            self.fallback = True

    def _symbol(self, symbol: bytes) -> None:
        if symbol == b"*":
            self.star = True
        elif symbol in (b"\\", b"{", b"}"):
            self.out.append(symbol.decode())

    def _text(self, raw: bytes) -> None:
        if self.fallback:
            raw, self.fallback = raw[1:], False
        self.out.append(raw.decode("cp1252", errors="replace"))


def pdf_text(data: bytes) -> str:
    """The text of a PDF's first ``MAX_PDF_PAGES`` pages, at most ``MAX_CHARS`` characters."""
    parts: list[str] = []
    size = 0
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return ""
        for page in reader.pages[:MAX_PDF_PAGES]:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= MAX_CHARS:
                break
    except Exception as exc:
        log.info("a PDF's text could not be read (%s)", type(exc).__name__)
    return "\n".join(parts)[:MAX_CHARS]
