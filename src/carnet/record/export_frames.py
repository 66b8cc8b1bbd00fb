"""The inside of an export part: lines that stay sealed under their owners' data keys.

An export file is stored as parts in the blob store (each part sealed as a whole under the
export's key owner, see ``exports``). Inside a part, every line keeps the encryption it has in the
record: a resource's stored body, sealed with its compartment owner's data key and bound to
``Type/id/version``. A line is opened only when the file is downloaded, so that destroying a
patient's data key (crypto-shredding) makes their lines unreadable in every export and every
backup of one, exactly as in the record itself.

A part is ``MAGIC`` followed by frames: ``owner length (2 bytes) | context length (2) | payload
length (4) | owner | context | payload``, big-endian. An empty owner marks a line stored in clear
(an OperationOutcome of the error file, which holds no health data).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from carnet.storage.service import DataKey

MAGIC = b"carnet-export/1\n"
_HEADER = struct.Struct(">HHI")


@dataclass(frozen=True, slots=True)
class Frame:
    owner: str
    """Whose data key seals the payload; empty when the payload is in clear."""
    context: bytes
    """The associated data the payload was sealed with."""
    payload: bytes


class PartWriter:
    """Collects frames for one part; ``getvalue`` gives the bytes to seal and store."""

    def __init__(self) -> None:
        self._buffer = bytearray(MAGIC)
        self.lines = 0

    def add(self, owner: str, context: bytes, payload: bytes) -> None:
        encoded = owner.encode()
        self._buffer += _HEADER.pack(len(encoded), len(context), len(payload))
        self._buffer += encoded
        self._buffer += context
        self._buffer += payload
        self.lines += 1

    @property
    def size(self) -> int:
        return len(self._buffer)

    def getvalue(self) -> bytes:
        return bytes(self._buffer)


def frames(part: bytes) -> Iterator[Frame]:
    """The frames of a part, in order. Raises ValueError on a malformed part."""
    if not part.startswith(MAGIC):
        raise ValueError("not an export part")
    view = memoryview(part)
    offset = len(MAGIC)
    while offset < len(view):
        owner_len, context_len, payload_len = _HEADER.unpack_from(view, offset)
        offset += _HEADER.size
        end = offset + owner_len + context_len + payload_len
        if end > len(view):
            raise ValueError("truncated export part")
        owner = bytes(view[offset : offset + owner_len]).decode()
        offset += owner_len
        context = bytes(view[offset : offset + context_len])
        offset += context_len
        yield Frame(owner, context, bytes(view[offset:end]))
        offset = end


def open_lines(part: bytes, key_of: Callable[[str], DataKey | None]) -> Iterator[bytes]:
    """The NDJSON lines of a part (each ending with a newline), opened one at a time.

    ``key_of`` gives an owner's data key, or None when it was destroyed: that owner's lines are
    left out, as the record itself would answer "gone".
    """
    for frame in frames(part):
        if not frame.owner:
            yield frame.payload + b"\n"
            continue
        key = key_of(frame.owner)
        if key is None:
            continue
        yield key.open(frame.payload, frame.context) + b"\n"
