"""The text of a PDF written by ReportLab with a standard font (no PDF library is a
dependency): inflate the content streams (ASCII85 then Flate), take the strings of the text operators, decode them
from WinAnsi."""

from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\n?endstream", re.DOTALL)
_STRING = re.compile(rb"\((?:[^()\\]|\\.)*\)", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return _ESCAPES.get(code, code)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal[1:-1], flags=re.DOTALL)


def pdf_text(data: bytes) -> str:
    """Every string drawn, in order, joined by spaces (whitespace collapsed)."""
    assert data.startswith(b"%PDF-")
    parts = []
    for raw in _STREAM.findall(data):
        stream = raw
        if raw.rstrip().endswith(b"~>"):  # ReportLab's /ASCII85Decode /FlateDecode
            stream = base64.a85decode(raw.rstrip()[:-2].replace(b"\n", b""))
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            content = stream
        if b"BT" not in content:
            continue
        parts += [_unescape(s).decode("cp1252") for s in _STRING.findall(content)]
    return " ".join(" ".join(parts).split())
