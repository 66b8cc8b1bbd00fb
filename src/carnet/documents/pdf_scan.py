"""Finding active content in a PDF: scripts, launch actions, automatic actions, attachments.

A PDF's dictionaries sit either in the file's body or, compressed, in object streams
(``/Type /ObjStm``). The scan reads the names of both, never the streams' other contents
(page drawings, images: compressed bytes there would match by chance), decoding ``#xx`` escapes
so that ``/J#61vaScript`` is ``/JavaScript``. Object streams are inflated with a budget: a stream
that inflates past it is refused rather than skipped, since what it hides was not looked at.
"""

from __future__ import annotations

import re
import zlib
from typing import Final

ACTIVE_NAMES: Final = frozenset(
    {
        b"JavaScript",
        b"JS",
        b"Launch",
        b"AA",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"RichMedia",
        b"XFA",
        b"SubmitForm",
        b"ImportData",
        b"GoToE",
    }
)
"""Names whose presence refuses the file (``/OpenAction`` alone is harmless: it is refused
when it leads to a script, which carries ``/JS`` or ``/JavaScript``)."""

_NAME = re.compile(rb"/([^\s/<>\[\]()\{\}%]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"stream\r?\n")
_END = b"endstream"
_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")
_MAX_STREAM_OUT: Final = 16 * 1024 * 1024
_MAX_TOTAL_OUT: Final = 64 * 1024 * 1024


class ScanRefused(Exception):
    """Active content found (``active``) or a stream the scan cannot read (not ``active``)."""

    def __init__(self, *, active: bool) -> None:
        super().__init__("active" if active else "unreadable")
        self.active = active


def names_in(data: bytes) -> set[bytes]:
    """The names written in ``data``, ``#xx`` escapes decoded."""
    return {
        _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        for match in _NAME.finditer(data)
    }


def scan_pdf(data: bytes) -> None:
    """Raise ScanRefused when the PDF carries active content (or hides it where the scan
    cannot look)."""
    skeleton: list[bytes] = []
    budget = _MAX_TOTAL_OUT
    position = 0
    for match in _STREAM.finditer(data):
        if match.start() < position:
            continue  # the word "stream" inside a stream already skipped
        header_start = _header_start(data, match.start())
        header = data[header_start : match.start()]
        skeleton.append(data[position : match.start()])
        end = data.find(_END, match.end())
        if end < 0:
            end = len(data)
        body = data[match.end() : end]
        header_names = names_in(header)
        if b"ObjStm" in header_names:
            inflated = _inflate(body, header_names, budget)
            budget -= len(inflated)
            skeleton.append(inflated)
        position = end + len(_END)
    skeleton.append(data[position:])
    if names_in(b"\n".join(skeleton)) & ACTIVE_NAMES:
        raise ScanRefused(active=True)


def _header_start(data: bytes, stream_at: int) -> int:
    """Where the stream's dictionary begins: after the last ``N G obj`` before it."""
    window_start = max(0, stream_at - 4096)
    ends = [found.end() for found in _OBJ.finditer(data, window_start, stream_at)]
    return ends[-1] if ends else window_start


def _inflate(body: bytes, header_names: set[bytes], budget: int) -> bytes:
    """An object stream's content: as is when unfiltered, inflated when FlateDecode."""
    filters = header_names & {
        b"FlateDecode",
        b"Fl",
        b"ASCIIHexDecode",
        b"ASCII85Decode",
        b"LZWDecode",
        b"RunLengthDecode",
        b"AHx",
        b"A85",
        b"LZW",
        b"RL",
    }
    if b"Predictor" in header_names:
        raise ScanRefused(active=False)  # predicted object streams are not read here
    if not filters:
        return body
    if filters - {b"FlateDecode", b"Fl"}:
        raise ScanRefused(active=False)
    limit = min(_MAX_STREAM_OUT, budget)
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise ScanRefused(active=False) from None
    if len(out) > limit:
        raise ScanRefused(active=False)
    return out
