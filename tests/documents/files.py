"""Sample files for upload tests: real, small, made on the fly."""

from __future__ import annotations

import io
import zlib

from PIL import Image


def pdf(extra: bytes = b"") -> bytes:
    """A minimal one-page PDF; ``extra`` is written into the catalog dictionary."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = b"%PDF-1.7\n"
    for number, body in enumerate(objects, start=1):
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    return out + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def pdf_with_object_stream(hidden: bytes) -> bytes:
    """A PDF whose catalog sits in a compressed object stream (``/Type /ObjStm``)."""
    inner = b"1 0 " + b"<< /Type /Catalog /Pages 2 0 R " + hidden + b">>"
    packed = zlib.compress(inner)
    stream = (
        b"5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "
        + str(len(packed)).encode()
        + b" >>\nstream\n"
        + packed
        + b"\nendstream\nendobj\n"
    )
    return b"%PDF-1.7\n" + stream + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def image(kind: str = "JPEG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format=kind)
    return buffer.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny JPEG whose header claims ``width`` × ``height`` pixels (a decompression bomb)."""
    data = bytearray(image("JPEG", (16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    data[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def big_bilevel_tiff(side: int = 10_000) -> bytes:
    """A real TIFF of ``side``² pixels, compressed to a few kilobytes (group 4)."""
    buffer = io.BytesIO()
    Image.new("1", (side, side), 1).save(buffer, format="TIFF", compression="group4")
    return buffer.getvalue()


def rtf(body: bytes = b"Bonjour") -> bytes:
    return b"{\\rtf1\\ansi " + body + b"}"
