"""A minimal PDF reader for the letters' tests (no PDF library is a dependency): it follows the
cross-reference table (every object where the table says), inflates the content streams and
collects the text operators; ``drawn_qr`` turns the QR form's squares back into modules."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass


@dataclass
class PdfObject:
    dictionary: bytes
    stream: bytes | None


def read_pdf(data: bytes) -> dict[int, PdfObject]:
    """Every object of ``data``, found through the cross-reference table (so its offsets are
    checked too), streams inflated."""
    assert data.startswith(b"%PDF-1.")
    assert data.endswith(b"%%EOF\n")
    start = int(data[data.rindex(b"startxref") :].split()[1])
    assert data[start : start + 5] == b"xref\n"
    lines = data[start:].split(b"\n")
    first, count = map(int, lines[1].split())
    assert (first, lines[2]) == (0, b"0000000000 65535 f ")
    objects = {}
    for number in range(1, count):
        offset = int(lines[2 + number][:10])
        header = b"%d 0 obj\n" % number
        assert data[offset : offset + len(header)] == header, f"object {number} misplaced"
        objects[number] = _object_at(data, offset + len(header))
    return objects


def _object_at(data: bytes, position: int) -> PdfObject:
    end = data.index(b"\nendobj\n", position)
    marker = data.find(b"\nstream\n", position, end)
    if marker < 0:
        return PdfObject(data[position:end], None)
    dictionary = data[position:marker]
    length = int(re.search(rb"/Length (\d+)", dictionary).group(1))  # type: ignore[union-attr]
    body = data[marker + 8 : marker + 8 + length]
    end = data.index(b"\nendobj\n", marker + 8 + length)
    assert data[marker + 8 + length : end] == b"\nendstream"
    return PdfObject(dictionary, zlib.decompress(body))


def pages(objects: dict[int, PdfObject]) -> list[bytes]:
    """The content stream of each page, in the page tree's order."""
    tree = next(o for o in objects.values() if b"/Type /Pages" in o.dictionary)
    kids = [int(n) for n in re.findall(rb"(\d+) 0 R", tree.dictionary.split(b"/Kids")[1])]
    count = int(re.search(rb"/Count (\d+)", tree.dictionary).group(1))  # type: ignore[union-attr]
    assert count == len(kids)
    contents = []
    for kid in kids:
        page = objects[kid].dictionary
        assert page.startswith(b"<< /Type /Page ")
        number = int(re.search(rb"/Contents (\d+) 0 R", page).group(1))  # type: ignore[union-attr]
        stream = objects[number].stream
        assert stream is not None
        contents.append(stream)
    return contents


@dataclass
class Text:
    x: float
    y: float
    size: float
    text: str


def texts(content: bytes) -> list[Text]:
    found = []
    for match in re.finditer(
        rb"BT /F\d ([\d.]+) Tf ([\d.]+) ([\d.]+) Td \(((?:\\.|[^\\)])*)\) Tj ET", content
    ):
        raw = re.sub(rb"\\(.)", rb"\1", match.group(4))
        size, x, y = (float(v) for v in match.group(1, 2, 3))
        found.append(Text(x, y, size, raw.decode("cp1252")))
    return found


def drawn_qr(objects: dict[int, PdfObject]) -> list[list[bool]]:
    """The module matrix drawn by the batch's one QR form, top row first."""
    (form,) = (o for o in objects.values() if b"/Subtype /Form" in o.dictionary)
    side = int(re.search(rb"/BBox \[0 0 (\d+) \1\]", form.dictionary).group(1))  # type: ignore[union-attr]
    assert form.stream is not None
    matrix = [[False] * side for _ in range(side)]
    for x, y, width in re.findall(rb"(\d+) (\d+) (\d+) 1 re", form.stream):
        for column in range(int(x), int(x) + int(width)):
            row = side - 1 - int(y)
            assert not matrix[row][column], "a module drawn twice"
            matrix[row][column] = True
    return matrix
