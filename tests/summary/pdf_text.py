"""The text drawn in an uncompressed ReportLab PDF (standard fonts), for the tests' checks.

No PDF library is a dependency: the page streams of ``compress=False`` output are read as they
are, each ``(…) Tj`` string unescaped and decoded from Windows-1252.
"""

from __future__ import annotations

import re

_SHOW = re.compile(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", re.DOTALL)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code.isdigit():
            return bytes([int(code, 8)])
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(one, raw)


def pdf_lines(pdf: bytes) -> list[str]:
    """Every string drawn, in drawing order."""
    return [_unescape(m.group(1)).decode("cp1252") for m in _SHOW.finditer(pdf)]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_lines(pdf))
