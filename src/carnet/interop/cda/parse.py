"""A hardened XML reader for untrusted CDA documents, on the standard library's expat.

Why not a general-purpose parser's defaults: XML can declare entities (billion laughs), pull
external files or URLs (XXE), and nest without end. Here:

- a DOCTYPE is refused as soon as it starts, so no entity can be declared, hence none expanded
  or fetched; parameter entities are never parsed; an undeclared entity reference is an error;
- the input is bounded in bytes, the tree in depth and in number of nodes;
- processing instructions (``xml-stylesheet`` pointing at external XSL) and comments are dropped.

The tree kept is minimal: elements with their namespace, local name, attributes and children
(elements and text), which is all the renderer and the text extractor need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn
from xml.parsers import expat

from carnet.interop.cda.errors import CdaInvalid, CdaTooLarge, CdaUnsafe

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 100  # the CI-SIS examples nest 22 deep; the renderer recurses on it
MAX_NODES = 2_000_000


@dataclass(slots=True)
class Element:
    """One XML element: ``ns`` its namespace URI ("" if none), ``name`` its local name."""

    ns: str
    name: str
    attrs: dict[str, str]
    """Attributes by local name; namespaced ones (``xsi:type``) as ``"{uri}local"``."""
    children: list[Element | str] = field(default_factory=list)

    def is_hl7(self, name: str) -> bool:
        return self.ns == HL7 and self.name == name

    def child(self, name: str) -> Element | None:
        """The first HL7 child element called ``name``."""
        for item in self.children:
            if isinstance(item, Element) and item.is_hl7(name):
                return item
        return None

    def all(self, name: str) -> list[Element]:
        """Every HL7 child element called ``name``."""
        return [i for i in self.children if isinstance(i, Element) and i.is_hl7(name)]

    def path(self, *names: str) -> Element | None:
        """The first element down a chain of HL7 child names."""
        node: Element | None = self
        for name in names:
            node = node.child(name) if node is not None else None
        return node

    def text(self) -> str:
        """All text below this element, in document order."""
        parts: list[str] = []
        _collect(self, parts)
        return "".join(parts)


def parse_xml(data: bytes, *, max_bytes: int = MAX_BYTES) -> Element:
    """The document's root element, read with the protections above.

    Raises CdaTooLarge, CdaUnsafe (DOCTYPE, entities) or CdaInvalid (not well-formed, too deep
    or too many nodes).
    """
    if len(data) > max_bytes:
        raise CdaTooLarge(max_bytes)
    builder = _Builder()
    parser = expat.ParserCreate(namespace_separator="\x1f")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.ordered_attributes = False
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.SkippedEntityHandler = _refuse_entity
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)  # noqa: FBT003 - positional only
    except expat.ExpatError as exc:
        raise CdaInvalid(f"Le document n’est pas un XML bien formé (ligne {exc.lineno}).") from None
    if builder.root is None:
        raise CdaInvalid("Le document est vide.")
    return builder.root


def parse_cda(data: bytes, *, max_bytes: int = MAX_BYTES) -> Element:
    """The ClinicalDocument element of a CDA R2 document (CdaInvalid for any other XML).

    A "self-presenting" document (an XSL stylesheet carrying the ClinicalDocument inside it, as
    the CI-SIS allows) yields the embedded document; the stylesheet is never run.
    """
    root = parse_xml(data, max_bytes=max_bytes)
    found = _find_document(root)
    if found is None:
        raise CdaInvalid("Ce fichier XML n’est pas un document CDA (ClinicalDocument attendu).")
    return found


def _find_document(root: Element) -> Element | None:
    queue = [root]
    while queue:
        element = queue.pop(0)
        if element.is_hl7("ClinicalDocument"):
            return element
        queue.extend(i for i in element.children if isinstance(i, Element))
    return None


def _refuse_doctype(*_args: object) -> NoReturn:
    raise CdaUnsafe


def _refuse_entity(*_args: object) -> NoReturn:
    raise CdaUnsafe


def _split(name: str) -> tuple[str, str]:
    uri, sep, local = name.rpartition("\x1f")
    return (uri, local) if sep else ("", name)


class _Builder:
    def __init__(self) -> None:
        self.root: Element | None = None
        self._stack: list[Element] = []
        self._nodes = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self._count()
        if len(self._stack) >= MAX_DEPTH:
            raise CdaInvalid("Le document est imbriqué trop profondément.")
        ns, local = _split(name)
        attrs = {}
        for key, value in attributes.items():
            attr_ns, attr_local = _split(key)
            attrs[f"{{{attr_ns}}}{attr_local}" if attr_ns else attr_local] = value
        element = Element(ns, local, attrs)
        if self._stack:
            self._stack[-1].children.append(element)
        elif self.root is None:
            self.root = element
        self._stack.append(element)

    def end(self, _name: str) -> None:
        self._stack.pop()

    def data(self, text: str) -> None:
        if self._stack:
            self._count()
            self._stack[-1].children.append(text)

    def _count(self) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise CdaInvalid("Le document contient trop d’éléments.")


def _collect(element: Element, parts: list[str]) -> None:
    # Iterative on purpose: depth is bounded, but recursion costs frames for nothing.
    stack: list[Element | str] = [element]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        else:
            stack.extend(reversed(item.children))
