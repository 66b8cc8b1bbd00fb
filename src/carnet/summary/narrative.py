"""The generated narratives of the IPS sections: XHTML made from the same one-line texts as the
PDF, every value escaped (a resource's text never becomes markup)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from carnet.summary.describe import Resource
from carnet.summary.sources import ITEM_LIMIT

if TYPE_CHECKING:
    from carnet.summary.ips import IpsSection

_OPEN = '<div xmlns="http://www.w3.org/1999/xhtml">'


def section_div(spec: IpsSection, found: list[Resource], more: bool) -> str:
    """A list of the section's items, in the order of its entries."""
    describers = {s.resource_type: s.describe for s in spec.sources}
    items = []
    for resource in found:
        text = describers[resource["resourceType"]](resource) or resource["resourceType"]
        items.append(f"<li>{escape(text)}</li>")
    note = f"<p>Seuls les {ITEM_LIMIT} éléments les plus récents sont listés.</p>" if more else ""
    return f"{_OPEN}<ul>{''.join(items)}</ul>{note}</div>"


def empty_div(*, known_empty: bool) -> str:
    """The narrative of an empty section: declared "not concerned", or nothing known."""
    if known_empty:
        return f"{_OPEN}<p>Non concerné (déclaré par la personne).</p></div>"
    return f"{_OPEN}<p>Aucune information disponible.</p></div>"
