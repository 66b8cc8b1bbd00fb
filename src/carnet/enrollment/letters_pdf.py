"""A small PDF writer that streams pages: the print batch's file is written page by page.

Why not ReportLab's canvas for the batch: it keeps every page's content in memory until
``save()``, then formats the whole file in memory too, so a batch of N letters costs memory in
proportion to N. Here each page's content stream is compressed and written as soon as it is
drawn; what stays in memory is one offset per PDF object (8 bytes) and one object number per
page (4 bytes), needed by the cross-reference table and the page tree at the end.

The letters use three of the PDF standard fonts (Helvetica, Helvetica-Bold, Courier-Bold):
nothing is embedded, the text is encoded in WinAnsi (cp1252), and ReportLab provides the font
metrics (``text_width``). The output holds no date and no random identifier, so the same pages
give the same bytes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zlib
from array import array
from typing import BinaryIO, Final, Literal

from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth

Font = Literal["regular", "bold", "code"]

# Resource name in the page, PostScript name of the standard font.
_FONTS: Final[dict[Font, tuple[str, str]]] = {
    "regular": ("F1", "Helvetica"),
    "bold": ("F2", "Helvetica-Bold"),
    "code": ("F3", "Courier-Bold"),
}
_CATALOG: Final = 1
_PAGE_TREE: Final = 2
# The control characters (Unicode category C) that cp1252 can encode; the others fail encoding.
_CONTROLS: Final = re.compile("[\x00-\x1f\x7f\xad]")
_PAGES_PER_LINE: Final = 64  # /Kids entries per line, so no line of the file grows with N


def printable(text: str) -> str:
    """``text`` restricted to what the standard fonts can show (WinAnsi): control characters
    become spaces, a letter outside WinAnsi loses its accent ("ő" → "o"), and what remains
    unknown becomes "?". A name is better printed slightly wrong than the letter not sent."""
    # Nearly every text is already printable: checking it whole is 20 times faster than
    # character by character, and this runs for every string of every letter.
    if _in_winansi(text) and not _CONTROLS.search(text):
        return text
    shown = []
    for char in text:
        if unicodedata.category(char).startswith("C"):
            shown.append(" ")
            continue
        candidate = char
        if not _in_winansi(candidate):
            candidate = unicodedata.normalize("NFKD", char)[0]
        shown.append(candidate if _in_winansi(candidate) else "?")
    return "".join(shown)


def _in_winansi(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def text_width(text: str, font: Font, size: float) -> float:
    """The width of ``text`` (already ``printable``) in points, set in ``font`` at ``size``."""
    return float(stringWidth(text, _FONTS[font][1], size))


@functools.lru_cache(maxsize=64)
def wrap(text: str, font: Font, size: float, width: float) -> tuple[str, ...]:
    """``text`` cut into lines no wider than ``width`` points (at spaces), ``printable``.
    Cached: most paragraphs are the same in every letter of a batch (the same deadline, the
    same URL), and cutting them is most of a page's work."""
    return tuple(str(line) for line in simpleSplit(printable(text), _FONTS[font][1], size, width))


def _number(value: float) -> str:
    # Two decimals are a hundredth of a point (3.5 µm): finer than any printer.
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _numbers(*values: float) -> bytes:
    return " ".join([_number(value) for value in values]).encode()


def _literal(text: str) -> bytes:
    raw = printable(text).encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


class PageContent:
    """The drawing operators of one page, in points from the bottom-left corner."""

    def __init__(self) -> None:
        self._ops: list[bytes] = []

    def text(self, x: float, y: float, text: str, *, font: Font, size: float) -> None:
        """``text`` with its baseline starting at (``x``, ``y``)."""
        name = _FONTS[font][0]
        self._ops.append(
            b"BT /%s %s Tf %s Td %s Tj ET"
            % (name.encode(), _numbers(size), _numbers(x, y), _literal(text))
        )

    def frame(self, x: float, y: float, width: float, height: float, *, line: float) -> None:
        """An unfilled rectangle, its lower-left corner at (``x``, ``y``)."""
        self._ops.append(b"q %s w %s re S Q" % (_numbers(line), _numbers(x, y, width, height)))

    def form(self, x: float, y: float, scale: float) -> None:
        """The page's form (``/Qr``) scaled by ``scale``, its origin at (``x``, ``y``)."""
        self._ops.append(b"q %s 0 0 %s cm /Qr Do Q" % (_numbers(scale), _numbers(scale, x, y)))

    def to_bytes(self) -> bytes:
        return b"\n".join(self._ops) + b"\n"


class PdfWriter:
    """Writes a PDF into ``out`` as it goes: ``add_form``, ``add_page`` …, then ``close``."""

    def __init__(self, out: BinaryIO, *, width: float, height: float, title: str) -> None:
        self._out = out
        self._written = 0
        self._offsets = array("Q", [0, 0])  # objects 1 and 2 are written last
        self._pages = array("I")
        self._media_box = b"[0 0 %s]" % _numbers(width, height)
        self._emit(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # the binary comment marks a binary file
        self._fonts = self._object(
            b"<< "
            + b" ".join(
                b"/%s %d 0 R" % (name.encode(), self._object(_font_dictionary(base)))
                for name, base in _FONTS.values()
            )
            + b" >>"
        )
        self._info = self._object(b"<< /Title %s /Producer (Carnet) >>" % _literal(title))

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def add_form(self, content: bytes, *, size: int) -> int:
        """A form of ``size`` × ``size`` units drawn by ``content``; its object number."""
        compressed = zlib.compress(content, 9)
        return self._object(
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 %d %d] /Filter /FlateDecode "
            b"/Length %d >>\nstream\n%s\nendstream" % (size, size, len(compressed), compressed)
        )

    def add_page(self, page: PageContent, *, form: int) -> None:
        """Write ``page`` now, with the form object ``form`` as its ``/Qr``."""
        compressed = zlib.compress(page.to_bytes(), 6)
        contents = self._object(
            b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
            % (len(compressed), compressed)
        )
        self._pages.append(
            self._object(
                b"<< /Type /Page /Parent %d 0 R /MediaBox %s /Contents %d 0 R "
                b"/Resources << /Font %d 0 R /XObject << /Qr %d 0 R >> "
                b"/ProcSet [/PDF /Text] >> >>"
                % (_PAGE_TREE, self._media_box, contents, self._fonts, form)
            )
        )

    def close(self) -> int:
        """Write the page tree, the catalog and the cross-reference table; the page count."""
        self._offsets[_PAGE_TREE - 1] = self._written
        self._emit(b"%d 0 obj\n<< /Type /Pages /Count %d /Kids [" % (_PAGE_TREE, len(self._pages)))
        for start in range(0, len(self._pages), _PAGES_PER_LINE):
            chunk = self._pages[start : start + _PAGES_PER_LINE]
            self._emit(b"\n" + b" ".join(b"%d 0 R" % number for number in chunk))
        self._emit(b" ] >>\nendobj\n")
        self._offsets[_CATALOG - 1] = self._written
        self._emit(
            b"%d 0 obj\n<< /Type /Catalog /Pages %d 0 R >>\nendobj\n" % (_CATALOG, _PAGE_TREE)
        )
        start_xref = self._written
        self._emit(b"xref\n0 %d\n0000000000 65535 f \n" % (len(self._offsets) + 1))
        for offset in self._offsets:
            self._emit(b"%010d 00000 n \n" % offset)
        self._emit(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self._offsets) + 1, _CATALOG, self._info, start_xref)
        )
        return len(self._pages)

    def _object(self, body: bytes) -> int:
        number = len(self._offsets) + 1
        self._offsets.append(self._written)
        self._emit(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        return number

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._written += len(data)


def _font_dictionary(base_font: str) -> bytes:
    return (
        b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
        % base_font.encode()
    )
