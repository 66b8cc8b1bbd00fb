"""The CDA narrative block (a section's ``text``) as safe HTML, from a whitelist.

Each narrative element maps to one HTML element (or to none: its content is kept as text). Every
text is escaped; no attribute of the document is copied except ``colspan``/``rowspan`` read as
small integers; links (``linkHtml``) keep their text and lose their target; multimedia is a
placeholder. Unknown elements (other namespaces included) contribute their text only.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from carnet.interop.cda.parse import HL7, Element

_SIMPLE = {
    "paragraph": "p",
    "item": "li",
    "thead": "thead",
    "tbody": "tbody",
    "tfoot": "tfoot",
    "tr": "tr",
    "sub": "sub",
    "sup": "sup",
    "footnote": "small",
}
_SPANS = {"Bold": "strong", "Italics": "em", "Emphasis": "em"}
_DROPPED = frozenset({"col", "colgroup"})
MULTIMEDIA_NOTE = "[image non affichée]"


def narrative_html(text: Element) -> str:
    """The HTML of a section's ``text`` element."""
    out: list[str] = []
    _children(text, out, in_head=False)
    return "".join(out)


def _children(element: Element, out: list[str], *, in_head: bool) -> None:
    for item in element.children:
        if isinstance(item, str):
            out.append(escape(item))
        else:
            _element(item, out, in_head=in_head)


def _element(element: Element, out: list[str], *, in_head: bool) -> None:
    name = element.name if element.ns == HL7 else ""
    special = _SPECIAL.get(name)
    if special is not None:
        special(element, out, in_head)
    elif name in _DROPPED:
        return
    elif name in ("th", "td"):
        _cell(element, out, name, in_head=in_head)
    elif name in _SIMPLE:
        _wrapped(_SIMPLE[name], element, out, in_head=in_head or name == "thead")
    else:
        # linkHtml, footnoteRef, anything unknown: the text, never the element or a target.
        _children(element, out, in_head=in_head)


def _br(_element: Element, out: list[str], _in_head: bool) -> None:
    out.append("<br>")


def _multimedia(element: Element, out: list[str], _in_head: bool) -> None:
    out.append(f'<span class="carnet-cda-media">{escape(MULTIMEDIA_NOTE)}')
    caption = element.child("caption")
    if caption is not None:
        out.append(" " + escape(" ".join(caption.text().split())))
    out.append("</span>")


def _caption(element: Element, out: list[str], in_head: bool) -> None:
    # Tables and lists place their caption themselves; elsewhere it reads as a heading.
    _wrapped("strong", element, out, in_head=in_head)


def _content(element: Element, out: list[str], in_head: bool) -> None:
    tag = _SPANS.get(element.attrs.get("styleCode", "").split(" ")[0], "span")
    _wrapped(tag, element, out, in_head=in_head)


def _wrapped(tag: str, element: Element, out: list[str], *, in_head: bool) -> None:
    out.append(f"<{tag}>")
    _children(element, out, in_head=in_head)
    out.append(f"</{tag}>")


def _list(element: Element, out: list[str], _in_head: bool = False) -> None:
    caption = element.child("caption")
    if caption is not None:
        _wrapped("p", caption, out, in_head=False)
    tag = "ol" if element.attrs.get("listType") == "ordered" else "ul"
    out.append(f"<{tag}>")
    for item in element.children:
        if not isinstance(item, Element) or item is caption:
            continue
        if item.ns == HL7 and item.name == "item":
            _element(item, out, in_head=False)
        else:
            # A list holds only items in HTML (and for screen readers): wrap anything else.
            out.append("<li>")
            _element(item, out, in_head=False)
            out.append("</li>")
    out.append(f"</{tag}>")


def _table(element: Element, out: list[str], _in_head: bool = False) -> None:
    out.append('<div class="fr-table"><table>')
    caption = element.child("caption")
    if caption is not None:
        _wrapped("caption", caption, out, in_head=False)
    for item in element.children:
        if isinstance(item, Element) and item is not caption:
            if item.ns == HL7 and item.name == "tr":
                # A row straight in the table: HTML wants it in a body.
                out.append("<tbody>")
                _element(item, out, in_head=False)
                out.append("</tbody>")
            else:
                _element(item, out, in_head=False)
    out.append("</table></div>")


def _cell(element: Element, out: list[str], name: str, *, in_head: bool) -> None:
    attributes = ""
    for span in ("colspan", "rowspan"):
        value = element.attrs.get(span, "").strip()
        if value.isdigit() and 1 < int(value) <= 1000:
            attributes += f' {span}="{int(value)}"'
    if name == "th":
        attributes += ' scope="col"' if in_head else ' scope="row"'
    out.append(f"<{name}{attributes}>")
    _children(element, out, in_head=in_head)
    out.append(f"</{name}>")


_SPECIAL: dict[str, Callable[[Element, list[str], bool], None]] = {
    "br": _br,
    "renderMultiMedia": _multimedia,
    "list": _list,
    "table": _table,
    "caption": _caption,
    "content": _content,
}
