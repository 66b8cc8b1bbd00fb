"""The words of a CDA document, for the full-text index: its title, its sections' titles and
narrative, or the plain text of a non-structured body. An attached file (PDF…) is handed back
for the caller to extract (this module reads no other format)."""

from __future__ import annotations

from dataclasses import dataclass

from carnet.interop.cda.header import Embedded, embedded, read_header
from carnet.interop.cda.parse import MAX_BYTES, Element, parse_cda


@dataclass(frozen=True, slots=True)
class CdaText:
    text: str
    attachment: Embedded | None
    """A non-structured body that is not plain text (PDF, image…), for the caller."""


def cda_to_text(data: bytes, *, max_bytes: int = MAX_BYTES) -> CdaText:
    """The document's text, one line per title or section (raises ``errors.CdaError``)."""
    doc = parse_cda(data, max_bytes=max_bytes)
    lines = [read_header(doc).title]
    content = embedded(doc)
    attachment = None
    if content is not None:
        if content.media_type.startswith("text/plain"):
            lines.append(content.data.decode("utf-8", errors="replace"))
        else:
            attachment = content
    body = doc.path("component", "structuredBody")
    if body is not None:
        _section_lines(body, lines)
    return CdaText("\n".join(_squash(line) for line in lines if line.strip()), attachment)


def _section_lines(container: Element, lines: list[str]) -> None:
    stack = [container]
    while stack:
        node = stack.pop()
        sections = [s for c in node.all("component") if (s := c.child("section")) is not None]
        for section in sections:
            title = section.child("title")
            text = section.child("text")
            lines.append(title.text() if title is not None else "")
            lines.append(_narrative_text(text) if text is not None else "")
        stack.extend(reversed(sections))


def _narrative_text(text: Element) -> str:
    """Narrative text with a space between elements (table cells must not run together)."""
    parts: list[str] = []
    stack: list[Element | str] = [text]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        else:
            parts.append(" ")
            stack.extend(reversed(item.children))
    return "".join(parts)


def _squash(text: str) -> str:
    return " ".join(text.split())
