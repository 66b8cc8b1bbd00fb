"""Checking an upload before anything is stored: size, type sniffed from the content (which
must agree with the name's extension), and content that could act on the reader's machine.

Accepted (mes-rules §1): PDF, plain text, RTF, JPEG, TIFF. The name is never trusted: its
extension only has to agree with what the bytes are. PDFs are scanned for active content
(``pdf_scan``), RTF for embedded objects, images are opened with Pillow within a pixel and page
limit (decompression bombs), text must be UTF-8 (or Windows-1252) without control bytes.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError

from carnet.documents import errors
from carnet.documents.pdf_scan import ScanRefused, scan_pdf

MAX_PIXELS: Final = 64_000_000
"""About an A3 page scanned at 600 dpi; a bigger image is refused (a decompression bomb)."""
MAX_FRAMES: Final = 100
"""Pages of a multi-page TIFF."""
DEFAULT_MAX_BYTES: Final = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Kind:
    """One accepted kind of file."""

    media_type: str
    extensions: tuple[str, ...]
    format_code: str
    """The CI-SIS format code of an unstructured (N1) document."""


PDF: Final = Kind("application/pdf", ("pdf",), "urn:ihe:iti:xds-sd:pdf:2008")
TEXT: Final = Kind("text/plain", ("txt",), "urn:ihe:iti:xds-sd:text:2008")
RTF: Final = Kind("text/rtf", ("rtf",), "urn:ihe-fr:xds-sd:rtf:2010")
JPEG: Final = Kind("image/jpeg", ("jpg", "jpeg"), "urn:ihe-fr:xds-sd:jpeg:2010")
TIFF: Final = Kind("image/tiff", ("tif", "tiff"), "urn:ihe-fr:xds-sd:tiff:2010")
KINDS: Final = (PDF, TEXT, RTF, JPEG, TIFF)
ACCEPT: Final = ",".join(f".{ext}" for kind in KINDS for ext in kind.extensions)
"""For the file input's ``accept`` attribute."""

_BY_EXTENSION: Final = {ext: kind for kind in KINDS for ext in kind.extensions}
_MAGIC: Final = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"{\\rtf", RTF),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_RTF_OBJECTS = re.compile(rb"\\(object|objdata|objemb|objlink|objautlink|objupdate)\b")


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """What the content is, as found from its bytes."""

    kind: Kind
    content_type: str
    """The attachment's content type (text carries its charset)."""
    extension: str


def extension_of(filename: str) -> str:
    """The name's extension, lower case, without the dot ('' when none)."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_upload(
    content: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> CheckedFile:
    """The checked file, or a ``DocumentRefused`` subclass saying what is wrong."""
    if not content:
        raise errors.EmptyFile
    if len(content) > max_bytes:
        raise errors.FileTooLarge
    claimed = _BY_EXTENSION.get(extension_of(filename))
    if claimed is None:
        raise errors.UnsupportedFormat
    found = _sniff(content)
    if found is not claimed and not (found is None and claimed is TEXT):
        raise errors.ContentMismatch
    content_type = _CHECKERS[claimed.media_type](content)
    return CheckedFile(claimed, content_type, extension_of(filename))


def _sniff(content: bytes) -> Kind | None:
    for magic, kind in _MAGIC:
        if content.startswith(magic):
            return kind
    return None


def _check_pdf(content: bytes) -> str:
    try:
        scan_pdf(content)
    except ScanRefused as refused:
        raise (errors.ActiveContent if refused.active else errors.DamagedFile) from None
    return PDF.media_type


def _check_rtf(content: bytes) -> str:
    if _RTF_OBJECTS.search(content):
        raise errors.ActiveContent
    return RTF.media_type


def _check_text(content: bytes) -> str:
    body = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    try:
        text, charset = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, charset = body.decode("cp1252"), "windows-1252"
        except UnicodeDecodeError:
            raise errors.UnreadableText from None
    if _CONTROL.search(text):
        raise errors.UnreadableText
    return f"text/plain; charset={charset}"


def _check_image(content: bytes) -> str:
    """Open the image's headers (and each TIFF page's) within the pixel and page limits."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                frames = getattr(image, "n_frames", 1)
                if frames > MAX_FRAMES:
                    raise errors.ImageTooLarge
                for frame in range(frames):
                    image.seek(frame)
                    width, height = image.size
                    if width * height > MAX_PIXELS:
                        raise errors.ImageTooLarge
                media_type = Image.MIME.get(image.format or "", "")
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise errors.ImageTooLarge from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise errors.DamagedFile from None
    if media_type not in (JPEG.media_type, TIFF.media_type):
        raise errors.ContentMismatch
    return media_type


_CHECKERS: Final = {
    PDF.media_type: _check_pdf,
    RTF.media_type: _check_rtf,
    TEXT.media_type: _check_text,
    JPEG.media_type: _check_image,
    TIFF.media_type: _check_image,
}
